/**
 * @module hosts/worker/telemetry-sinks
 * Where the edge gateway's request records go: one JSON access-log line per request (Istio's JSON
 * access-log fields; in a Worker `console.log` lines reach Workers Logs, Logpush and `wrangler tail`),
 * and, when an Analytics Engine dataset is bound, one data point per request labelled as Istio's
 * standard metrics are.
 */
import { createAccessLog } from "../../core/telemetry/access-log.js";
import { responseFlagsText } from "../../core/telemetry/response-flags.js";
import type { RequestRecord, TelemetrySink, WorkloadInfo } from "../../core/telemetry/types.js";

/** The access log, one line per request through `write` (default console.log). */
export function accessLogSink(write: (line: string) => void = (line) => console.log(line)): TelemetrySink {
  return createAccessLog(write);
}

/**
 * Analytics Engine data points. Blobs, in order: destination_service, response_code, response_flags,
 * source_workload, source_workload_namespace, destination_workload, destination_workload_namespace,
 * request_method, authority. Doubles: duration ms, request bytes, response bytes, retries.
 * Index: destination_service (what queries filter on; at most 96 bytes).
 */
export const ANALYTICS_BLOBS = [
  "destination_service",
  "response_code",
  "response_flags",
  "source_workload",
  "source_workload_namespace",
  "destination_workload",
  "destination_workload_namespace",
  "request_method",
  "authority",
] as const;
export const ANALYTICS_DOUBLES = ["request_duration_milliseconds", "request_bytes", "response_bytes", "retries"] as const;

export function analyticsEngineSink(dataset: AnalyticsEngineDataset): TelemetrySink {
  const workload = (w: WorkloadInfo) => w.workload ?? "unknown";
  const namespace = (w: WorkloadInfo) => w.namespace ?? "unknown";
  return {
    record(record: RequestRecord) {
      const service = record.destinationService ?? "unknown";
      dataset.writeDataPoint({
        indexes: [service.slice(0, 96)],
        blobs: [
          service,
          String(record.responseCode),
          responseFlagsText(record.responseFlags),
          workload(record.source),
          namespace(record.source),
          workload(record.destination),
          namespace(record.destination),
          record.method,
          record.authority,
        ],
        doubles: [record.durationMs, record.requestBytes, record.responseBytes, record.retries ?? 0],
      });
    },
  };
}
