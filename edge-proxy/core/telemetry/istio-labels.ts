/**
 * @module telemetry/istio-labels
 * The label set of one of Istio's standard HTTP metric series, as istio/proxy's `istio_stats` filter
 * (source/extensions/filters/http/istio_stats/istio_stats.cc) derives it from a request and its two
 * workloads: label names in the client-side order, the "unknown" fallbacks, and Prometheus escaping.
 * Rendered once per series.
 */
import type { RequestRecord, WorkloadInfo } from "./types.js";

/** Istio's label names, in the order the client-side istio_stats filter emits them. */
export const ISTIO_LABEL_NAMES: readonly string[] = Object.freeze([
  "reporter",
  "source_workload",
  "source_canonical_service",
  "source_canonical_revision",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_cluster",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_service",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_service_name",
  "destination_service_namespace",
  "destination_cluster",
  "request_protocol",
  "response_code",
  "grpc_response_status",
  "response_flags",
  "connection_security_policy",
]);

const UNKNOWN = "unknown";

/**
 * A series' raw values besides its source and destination workloads: a RequestRecord's, with its response
 * flags as Envoy's text ("" for none) and the Host only where there is no destination service.
 */
export interface SeriesKey {
  readonly reporter: RequestRecord["reporter"];
  readonly responseCode: number;
  readonly flags: string;
  readonly connectionSecurityPolicy: RequestRecord["connectionSecurityPolicy"];
  readonly grpcStatus: number | undefined;
  readonly destinationService: string | undefined;
  readonly authority: string | undefined;
  readonly destinationServiceName: string | undefined;
  readonly destinationServiceNamespace: string | undefined;
}

/** `name="value",...` with istio_stats' fallbacks, for source `s` and destination `d`; `cluster` names workloads without their own. */
export function renderLabels(r: SeriesKey, s: WorkloadInfo, d: WorkloadInfo, cluster: string): string {
  const service = r.destinationService ?? nonEmpty(r.authority);
  const serviceName = r.destinationServiceName ?? (r.destinationService !== undefined ? r.destinationService.split(".")[0] : nonEmpty(r.authority));
  const values = [
    r.reporter,
    s.workload,
    canonicalService(s),
    canonicalRevision(s),
    workloadNamespace(s),
    principal(s),
    s.app,
    s.version,
    s.cluster ?? cluster,
    d.workload,
    workloadNamespace(d),
    principal(d),
    d.app,
    d.version,
    service,
    canonicalService(d),
    canonicalRevision(d),
    serviceName,
    r.destinationServiceNamespace ?? workloadNamespace(d),
    d.cluster ?? cluster,
    r.grpcStatus === undefined ? "http" : "grpc",
    String(r.responseCode),
    r.grpcStatus === undefined ? "" : String(r.grpcStatus),
    r.flags === "" ? "-" : r.flags,
    r.connectionSecurityPolicy,
  ];
  const pairs: string[] = [];
  for (let i = 0; i < ISTIO_LABEL_NAMES.length; i++) {
    const name = ISTIO_LABEL_NAMES[i]!;
    // grpc_response_status is "" for plain HTTP in Istio, not "unknown".
    const raw = values[i];
    const value = name === "grpc_response_status" ? (raw ?? "") : raw === undefined || raw === "" ? UNKNOWN : raw;
    pairs.push(`${name}="${escapeLabelValue(value)}"`);
  }
  // join makes one flat string, where `+=` would keep a tree of ~50 pieces alive per series for the GC to trace.
  return pairs.join(",");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function canonicalService(w: WorkloadInfo): string | undefined {
  return nonEmpty(w.canonicalService) ?? nonEmpty(w.app) ?? w.workload;
}

function canonicalRevision(w: WorkloadInfo): string {
  return nonEmpty(w.canonicalRevision) ?? nonEmpty(w.version) ?? "latest";
}

/** Istio prefers the namespace in the peer's SAN, then its metadata. */
function workloadNamespace(w: WorkloadInfo): string | undefined {
  if (w.namespace) return w.namespace;
  const principalText = w.principal;
  if (principalText === undefined) return undefined;
  const at = principalText.indexOf("/ns/");
  if (at < 0) return undefined;
  const end = principalText.indexOf("/", at + 4);
  return principalText.slice(at + 4, end < 0 ? undefined : end) || undefined;
}

/** Istio's principal labels are the peer's URI SAN: `spiffe://cluster.local/ns/default/sa/sleep`. */
function principal(w: WorkloadInfo): string | undefined {
  const p = w.principal;
  if (!p) return undefined;
  return p.startsWith("spiffe://") ? p : `spiffe://${p}`;
}

/** Prometheus label value escaping: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
