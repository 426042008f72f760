/**
 * @module proxy/local-reply
 * The responses the proxy makes itself, with Envoy's status codes, bodies and response flags, so clients
 * and dashboards see what they would see from an Istio sidecar.
 */
import type { ResponseFlag } from "../telemetry/types.js";

export interface LocalReply {
  status: number;
  body: string;
  flag?: ResponseFlag;
  /** Envoy's response_code_details. */
  details: string;
}

export const LOCAL_REPLIES = {
  noRoute: { status: 404, body: "", flag: "NR", details: "route_not_found" },
  /** REGISTRY_ONLY: a host the registry does not know goes to Istio's BlackHoleCluster. */
  blackHole: { status: 502, body: "", flag: "NR", details: "route_not_found{BlackHoleCluster}" },
  noHealthyUpstream: { status: 503, body: "no healthy upstream", flag: "UH", details: "no_healthy_upstream" },
  connectFailure: { status: 503, body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure", flag: "UF", details: "upstream_reset_before_response_started{connection_failure}" },
  reset: { status: 503, body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination", flag: "UC", details: "upstream_reset_before_response_started{connection_termination}" },
  refusedStream: { status: 503, body: "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset", flag: "UC", details: "upstream_reset_before_response_started{remote_refused_stream_reset}" },
  overflow: { status: 503, body: "upstream connect error or disconnect/reset before headers. reset reason: overflow", flag: "UO", details: "upstream_reset_before_response_started{overflow}" },
  timeout: { status: 504, body: "upstream request timeout", flag: "UT", details: "upstream_response_timeout" },
  downstreamDisconnect: { status: 499, body: "", flag: "DC", details: "downstream_remote_disconnect" },
  faultAbort: { status: 0, body: "fault filter abort", flag: "FI", details: "fault_filter_abort" },
} as const satisfies Record<string, LocalReply>;

export function localResponse(reply: LocalReply, status = reply.status): Response {
  if (reply.body === "") return new Response(null, { status });
  return new Response(reply.body, { status, headers: { "content-type": "text/plain" } });
}
