/**
 * @module telemetry/types
 * The record the proxy engine produces for every request it handles, which the telemetry modules
 * turn into Istio's standard metrics (Prometheus text) and Envoy-style JSON access log entries.
 */

/** Envoy response flags the core sets. */
export type ResponseFlag = "NR" | "UH" | "UF" | "UO" | "URX" | "UT" | "DC" | "DI" | "FI" | "UAEX" | "RL" | "UC" | "UPE";

/**
 * A workload as telemetry labels it. Sinks may remember what they derived from one object by its identity:
 * treat an object as immutable once recorded (make a new one when a value changes).
 */
export interface WorkloadInfo {
  workload?: string;
  namespace?: string;
  /** `cluster.local/ns/default/sa/sleep`. */
  principal?: string;
  app?: string;
  version?: string;
  /** `service.istio.io/canonical-name`; Istio's fallback when absent is `app`, then the workload name. */
  canonicalService?: string;
  /** `service.istio.io/canonical-revision`; Istio's fallback when absent is `version`, then "latest". */
  canonicalRevision?: string;
  /** The workload's cluster id (`source_cluster`/`destination_cluster`); absent: the metrics registry's own cluster. */
  cluster?: string;
}

export interface RequestRecord {
  /** "source" for outbound (client-side) records, "destination" for inbound. */
  reporter: "source" | "destination";
  /** Epoch ms when the request arrived. */
  startTime: number;
  /** Until the last byte of the response was sent, ms. */
  durationMs: number;
  method: string;
  /** Path with query, as received. */
  path: string;
  authority: string;
  protocol: string;
  scheme: string;
  /** 0 when no response was sent (downstream disconnect before any). */
  responseCode: number;
  responseFlags: ResponseFlag[];
  responseCodeDetails?: string;
  requestBytes: number;
  responseBytes: number;
  source: WorkloadInfo;
  destination: WorkloadInfo;
  /** The destination service's FQDN, e.g. `reviews.default.svc.cluster.local`; undefined when unknown. */
  destinationService?: string;
  destinationServiceName?: string;
  destinationServiceNamespace?: string;
  /** "mutual_tls" or "none" (Istio's labels), "unknown" when the reporter cannot tell. */
  connectionSecurityPolicy: "mutual_tls" | "none" | "unknown";
  upstreamCluster?: string;
  /** `address:port` of the endpoint that answered. */
  upstreamHost?: string;
  upstreamServiceTimeMs?: number;
  routeName?: string;
  downstreamRemoteAddress?: string;
  downstreamLocalAddress?: string;
  userAgent?: string;
  requestId?: string;
  xForwardedFor?: string;
  traceId?: string;
  spanId?: string;
  /** Number of attempts beyond the first. */
  retries?: number;
  /** The gRPC status of a gRPC request (content-type application/grpc): makes request_protocol "grpc". */
  grpcStatus?: number;
  /** Envoy's %CONNECTION_TERMINATION_DETAILS%. */
  connectionTerminationDetails?: string;
  /** Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON%, e.g. a TLS handshake error. */
  upstreamTransportFailureReason?: string;
  /** `address:port` the proxy used to reach the upstream. */
  upstreamLocalAddress?: string;
  /** SNI the downstream connection asked for. */
  requestedServerName?: string;
}

/** Where records go: the metrics registry, the access log, both, or a test's list. */
export interface TelemetrySink {
  record(record: RequestRecord): void;
}
