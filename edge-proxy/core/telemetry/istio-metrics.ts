/**
 * @module telemetry/istio-metrics
 * Istio's standard HTTP metrics (`istio_requests_total`, `istio_request_duration_milliseconds`,
 * `istio_request_bytes`, `istio_response_bytes`) kept per label set and rendered as Prometheus text
 * exposition format 0.0.4, with the labels and "unknown" fallbacks of istio/proxy's `istio_stats` filter
 * (istio-labels.ts). Recording is the series store's (series-store.ts: no allocation per record once a
 * series exists, records applied in batches); every read of the registry first applies what is pending.
 */
import {
  COUNT,
  DURATION_BUCKETS,
  DURATION_SUM,
  ISTIO_DURATION_BUCKETS_MS,
  REQUEST_BYTES_BUCKETS,
  REQUEST_BYTES_SUM,
  RESPONSE_BYTES_BUCKETS,
  RESPONSE_BYTES_SUM,
  SLOTS,
} from "./istio-buckets.js";
import { createSeriesStore } from "./series-store.js";
import type { RequestRecord, TelemetrySink } from "./types.js";

export { ISTIO_BYTES_BUCKETS, ISTIO_DURATION_BUCKETS_MS } from "./istio-buckets.js";
export { escapeLabelValue, ISTIO_LABEL_NAMES } from "./istio-labels.js";

export interface IstioMetricsOptions {
  /** `source_cluster`/`destination_cluster` for workloads without their own `cluster`; default "Kubernetes" (Istio's default CLUSTER_ID). */
  cluster?: string;
}

export interface IstioMetrics extends TelemetrySink {
  record(record: RequestRecord): void;
  /** All series in Prometheus text exposition format 0.0.4. */
  render(): string;
  /** Number of distinct label sets seen. */
  readonly seriesCount: number;
}

const LE_TEXT = [...ISTIO_DURATION_BUCKETS_MS.map((b) => `le="${b}"`), 'le="+Inf"'];

const FAMILIES = [
  { name: "istio_requests_total", help: "Total number of requests handled by an Istio proxy.", sum: -1, buckets: -1 },
  { name: "istio_request_duration_milliseconds", help: "Duration of requests, in milliseconds.", sum: DURATION_SUM, buckets: DURATION_BUCKETS },
  { name: "istio_request_bytes", help: "Size of requests, in bytes.", sum: REQUEST_BYTES_SUM, buckets: REQUEST_BYTES_BUCKETS },
  { name: "istio_response_bytes", help: "Size of responses, in bytes.", sum: RESPONSE_BYTES_SUM, buckets: RESPONSE_BYTES_BUCKETS },
] as const;

/** Creates an empty registry of Istio's standard HTTP metrics. */
export function createIstioMetrics(options: IstioMetricsOptions = {}): IstioMetrics {
  const store = createSeriesStore(options.cluster ?? "Kubernetes");

  function render(): string {
    store.flush();
    const c = store.counters;
    const out: string[] = [];
    for (const family of FAMILIES) {
      out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.sum < 0 ? "counter" : "histogram"}`);
      for (const entry of store.series) {
        const o = entry.offset;
        const count = c[o + COUNT]!;
        if (family.sum < 0) {
          out.push(`${family.name}{${entry.labels}} ${count}`);
          continue;
        }
        let cumulative = 0;
        for (let i = 0; i < SLOTS; i++) {
          cumulative += c[o + family.buckets + i]!;
          out.push(`${family.name}_bucket{${entry.labels},${LE_TEXT[i]}} ${cumulative}`);
        }
        out.push(`${family.name}_sum{${entry.labels}} ${formatValue(c[o + family.sum]!)}`, `${family.name}_count{${entry.labels}} ${count}`);
      }
    }
    out.push("");
    return out.join("\n");
  }

  return {
    record: store.record,
    render,
    get seriesCount() {
      store.flush();
      return store.series.length;
    },
  };
}

function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}
