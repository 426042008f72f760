// Envoy-style JSON access log entries: the fields of Istio's default format under accessLogEncoding JSON,
// null for absent values, Envoy's response-flags text, and one JSON line per record from the sink.
import { describe, expect, it } from "vitest";
import { accessLogEntry, createAccessLog, responseFlagsText } from "../../../edge-proxy/core/telemetry/access-log.js";
import type { RequestRecord } from "../../../edge-proxy/core/telemetry/types.js";

const FIELDS = [
  "start_time", "method", "path", "protocol", "response_code", "response_flags", "response_code_details",
  "connection_termination_details", "upstream_transport_failure_reason", "bytes_received", "bytes_sent",
  "duration", "upstream_service_time", "x_forwarded_for", "user_agent", "request_id", "authority",
  "upstream_host", "upstream_cluster", "upstream_local_address", "downstream_local_address",
  "downstream_remote_address", "requested_server_name", "route_name", "trace_id",
];

function minimal(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    reporter: "source",
    startTime: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    durationMs: 0,
    method: "GET",
    path: "/",
    authority: "reviews:9080",
    protocol: "HTTP/1.1",
    scheme: "http",
    responseCode: 0,
    responseFlags: [],
    requestBytes: 0,
    responseBytes: 0,
    source: {},
    destination: {},
    connectionSecurityPolicy: "unknown",
    ...overrides,
  };
}

describe("accessLogEntry", () => {
  it("maps every field of a full record", () => {
    const entry = accessLogEntry(
      minimal({
        durationMs: 42.9,
        method: "POST",
        path: "/reviews/1?x=1",
        protocol: "HTTP/2",
        responseCode: 503,
        responseFlags: ["URX", "UF"],
        responseCodeDetails: "upstream_reset_before_response_started{connection_failure}",
        connectionTerminationDetails: "closed by peer",
        upstreamTransportFailureReason: "TLS_error:|268435581:SSL routines",
        requestBytes: 120,
        responseBytes: 91,
        upstreamServiceTimeMs: 40,
        xForwardedFor: "10.0.0.1",
        userAgent: "curl/8.5.0",
        requestId: "3b3c6a4e-8f1d-4f57-9f0e-2a7f6c1d9b11",
        upstreamHost: "10.1.2.3:9080",
        upstreamCluster: "outbound|9080|v2|reviews.default.svc.cluster.local",
        upstreamLocalAddress: "10.1.0.9:51234",
        downstreamLocalAddress: "10.96.0.12:9080",
        downstreamRemoteAddress: "10.1.0.9:40000",
        requestedServerName: "outbound_.9080_.v2_.reviews.default.svc.cluster.local",
        routeName: "default/reviews",
        traceId: "0af7651916cd43dd8448eb211c80319c",
      }),
    );
    expect(entry).toEqual({
      start_time: "2026-01-02T03:04:05.678Z",
      method: "POST",
      path: "/reviews/1?x=1",
      protocol: "HTTP/2",
      response_code: 503,
      response_flags: "UF,URX",
      response_code_details: "upstream_reset_before_response_started{connection_failure}",
      connection_termination_details: "closed by peer",
      upstream_transport_failure_reason: "TLS_error:|268435581:SSL routines",
      bytes_received: 120,
      bytes_sent: 91,
      duration: 42,
      upstream_service_time: "40",
      x_forwarded_for: "10.0.0.1",
      user_agent: "curl/8.5.0",
      request_id: "3b3c6a4e-8f1d-4f57-9f0e-2a7f6c1d9b11",
      authority: "reviews:9080",
      upstream_host: "10.1.2.3:9080",
      upstream_cluster: "outbound|9080|v2|reviews.default.svc.cluster.local",
      upstream_local_address: "10.1.0.9:51234",
      downstream_local_address: "10.96.0.12:9080",
      downstream_remote_address: "10.1.0.9:40000",
      requested_server_name: "outbound_.9080_.v2_.reviews.default.svc.cluster.local",
      route_name: "default/reviews",
      trace_id: "0af7651916cd43dd8448eb211c80319c",
    });
    expect(Object.keys(entry)).toEqual(FIELDS);
  });

  it("writes null for absent values, - for no flags, and 0 for no response", () => {
    const entry = accessLogEntry(minimal({ authority: "" }));
    expect(Object.keys(entry)).toEqual(FIELDS);
    expect(entry.response_flags).toBe("-");
    expect(entry.response_code).toBe(0);
    expect(entry.bytes_received).toBe(0);
    expect(entry.duration).toBe(0);
    const nulls = Object.entries(entry).filter(([, v]) => v === null).map(([k]) => k);
    expect(nulls).toEqual([
      "response_code_details", "connection_termination_details", "upstream_transport_failure_reason",
      "upstream_service_time", "x_forwarded_for", "user_agent", "request_id", "authority", "upstream_host",
      "upstream_cluster", "upstream_local_address", "downstream_local_address", "downstream_remote_address",
      "requested_server_name", "route_name", "trace_id",
    ]);
  });

  it("prints start_time as RFC 3339 UTC with milliseconds", () => {
    expect(accessLogEntry(minimal({ startTime: 0 })).start_time).toBe("1970-01-01T00:00:00.000Z");
    expect(accessLogEntry(minimal()).start_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe("responseFlagsText", () => {
  it("is - for none, the flag for one, and Envoy's order without duplicates for several", () => {
    expect(responseFlagsText([])).toBe("-");
    expect(responseFlagsText(["NR"])).toBe("NR");
    expect(responseFlagsText(["URX", "UF"])).toBe("UF,URX");
    expect(responseFlagsText(["DC", "UH", "UT", "UH"])).toBe("UH,UT,DC");
    expect(responseFlagsText(["UPE", "UAEX", "RL", "FI", "DI", "NR", "UO", "UC"])).toBe("UC,UO,NR,DI,FI,RL,UAEX,UPE");
  });
});

describe("createAccessLog", () => {
  it("writes one JSON line per record", () => {
    const lines: string[] = [];
    const log = createAccessLog((line) => lines.push(line));
    log.record(minimal({ path: "/a\nb", userAgent: 'say "hi"' }));
    log.record(minimal({ responseCode: 200, responseFlags: ["DC"] }));
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain("\n");
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first!.path).toBe("/a\nb");
    expect(first!.user_agent).toBe('say "hi"');
    expect(first!.request_id).toBeNull();
    expect(second).toMatchObject({ response_code: 200, response_flags: "DC" });
  });
});
