/**
 * @module telemetry/istio-metrics
 * Istio's standard HTTP metrics (`istio_requests_total`, `istio_request_duration_milliseconds`,
 * `istio_request_bytes`, `istio_response_bytes`) kept per label set and rendered as Prometheus text
 * exposition format 0.0.4, with the labels and "unknown" fallbacks of istio/proxy's `istio_stats` filter
 * (istio-labels.ts). Recording is the series store's (series-store.ts: few cache lines and no allocation
 * per record once a series exists).
 */
import { DURATION, ISTIO_DURATION_BUCKETS_MS, REQUEST_BYTES, RESPONSE_BYTES } from "./series-counters.js";
import { createSeriesStore } from "./series-store.js";
import type { RequestRecord, TelemetrySink } from "./types.js";

export { ISTIO_BYTES_BUCKETS, ISTIO_DURATION_BUCKETS_MS } from "./series-counters.js";
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
  { name: "istio_requests_total", help: "Total number of requests handled by an Istio proxy.", histogram: undefined },
  { name: "istio_request_duration_milliseconds", help: "Duration of requests, in milliseconds.", histogram: DURATION },
  { name: "istio_request_bytes", help: "Size of requests, in bytes.", histogram: REQUEST_BYTES },
  { name: "istio_response_bytes", help: "Size of responses, in bytes.", histogram: RESPONSE_BYTES },
] as const;

/** Creates an empty registry of Istio's standard HTTP metrics. */
export function createIstioMetrics(options: IstioMetricsOptions = {}): IstioMetrics {
  const store = createSeriesStore(options.cluster ?? "Kubernetes");

  function render(): string {
    const counters = store.counters;
    const out: string[] = [];
    for (const family of FAMILIES) {
      const histogram = family.histogram;
      out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${histogram === undefined ? "counter" : "histogram"}`);
      for (const entry of store.series) {
        const count = counters.count(entry.block);
        if (histogram === undefined) {
          out.push(`${family.name}{${entry.labels}} ${count}`);
          continue;
        }
        let cumulative = 0;
        counters.buckets(entry.block, histogram).forEach((n, i) => {
          cumulative += n;
          out.push(`${family.name}_bucket{${entry.labels},${LE_TEXT[i]}} ${cumulative}`);
        });
        out.push(`${family.name}_sum{${entry.labels}} ${formatValue(counters.sum(entry.block, histogram))}`, `${family.name}_count{${entry.labels}} ${count}`);
      }
    }
    out.push("");
    return out.join("\n");
  }

  return {
    record: store.record,
    render,
    get seriesCount() {
      return store.series.length;
    },
  };
}

function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}
