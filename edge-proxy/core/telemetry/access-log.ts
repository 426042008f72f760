/**
 * @module telemetry/access-log
 * Envoy-style JSON access log entries: the fields of Istio's default access-log format as
 * `meshConfig.accessLogEncoding: JSON` prints them (Envoy's JSON formatter writes null where text mode
 * writes "-"), plus the request's trace id.
 */
import { responseFlagsText } from "./response-flags.js";
import type { RequestRecord, TelemetrySink } from "./types.js";

export { responseFlagsText };

/** One access-log entry; numbers where Envoy's JSON formatter types them, null for absent values. */
export type AccessLogEntry = Record<string, string | number | null>;

/**
 * The entry Istio's default JSON format (start_time through route_name) yields for `record`, plus trace_id.
 * `upstream_service_time` is a string, as Envoy prints it: it is the x-envoy-upstream-service-time header.
 */
export function accessLogEntry(record: RequestRecord): AccessLogEntry {
  return {
    start_time: Number.isFinite(record.startTime) ? new Date(record.startTime).toISOString() : null,
    method: record.method,
    path: orNull(record.path),
    protocol: orNull(record.protocol),
    response_code: record.responseCode,
    response_flags: responseFlagsText(record.responseFlags),
    response_code_details: orNull(record.responseCodeDetails),
    connection_termination_details: orNull(record.connectionTerminationDetails),
    upstream_transport_failure_reason: orNull(record.upstreamTransportFailureReason),
    bytes_received: record.requestBytes,
    bytes_sent: record.responseBytes,
    duration: Math.trunc(record.durationMs),
    upstream_service_time: record.upstreamServiceTimeMs === undefined ? null : String(Math.trunc(record.upstreamServiceTimeMs)),
    x_forwarded_for: orNull(record.xForwardedFor),
    user_agent: orNull(record.userAgent),
    request_id: orNull(record.requestId),
    authority: orNull(record.authority),
    upstream_host: orNull(record.upstreamHost),
    upstream_cluster: orNull(record.upstreamCluster),
    upstream_local_address: orNull(record.upstreamLocalAddress),
    downstream_local_address: orNull(record.downstreamLocalAddress),
    downstream_remote_address: orNull(record.downstreamRemoteAddress),
    requested_server_name: orNull(record.requestedServerName),
    route_name: orNull(record.routeName),
    trace_id: orNull(record.traceId),
  };
}

/** A sink writing one JSON line (no trailing newline) per record to `write`. */
export function createAccessLog(write: (line: string) => void): TelemetrySink {
  return {
    record(record: RequestRecord): void {
      write(JSON.stringify(accessLogEntry(record)));
    },
  };
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : value;
}
