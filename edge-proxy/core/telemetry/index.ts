/**
 * @module telemetry
 * The proxy core's telemetry: Istio's standard metrics as Prometheus text, Envoy-style JSON access log
 * entries, and W3C Trace Context / B3 propagation. Web-standard APIs only.
 */
export type { RequestRecord, ResponseFlag, TelemetrySink, WorkloadInfo } from "./types.js";
export {
  createIstioMetrics,
  escapeLabelValue,
  ISTIO_BYTES_BUCKETS,
  ISTIO_DURATION_BUCKETS_MS,
  ISTIO_LABEL_NAMES,
  type IstioMetrics,
  type IstioMetricsOptions,
} from "./istio-metrics.js";
export { accessLogEntry, createAccessLog, type AccessLogEntry } from "./access-log.js";
export { responseFlagsText } from "./response-flags.js";
export { isValidTraceparent, propagateTrace, type PropagateTraceOptions, type TraceContext } from "./trace-context.js";
