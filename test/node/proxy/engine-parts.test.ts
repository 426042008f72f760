// The proxy engine's pure parts: rewrites and redirect locations, the mirror authority, retry conditions,
// back-off, metered bodies, and config updates (kept upstream state, refused bad configs).
import { describe, expect, it } from "vitest";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "../../../edge-proxy/core/config/proxy-config.js";
import { meterBody } from "../../../edge-proxy/core/proxy/metered-body.js";
import { createProxy, shadowHost } from "../../../edge-proxy/core/proxy/proxy.js";
import { backoffMs, retryConditions } from "../../../edge-proxy/core/proxy/retry-policy.js";
import { redirectLocation, rewritePath } from "../../../edge-proxy/core/proxy/rewrite.js";

describe("rewritePath", () => {
  it("replaces the matched prefix, keeping the rest and the query", () => {
    expect(rewritePath({ uri: "/v2/" }, "/v1/items?x=1", { uri: { prefix: "/v1/" } })).toBe("/v2/items?x=1");
    expect(rewritePath({ uri: "/" }, "/api", { uri: { prefix: "/api" } })).toBe("/");
    expect(rewritePath({ uri: "" }, "/api", { uri: { prefix: "/api" } })).toBe("/");
  });
  it("replaces the case-insensitively matched prefix by its length", () => {
    expect(rewritePath({ uri: "/new" }, "/OLD/x", { uri: { prefix: "/old" }, ignoreUriCase: true })).toBe("/new/x");
  });
  it("replaces the whole path after an exact or regex match, or with no match", () => {
    expect(rewritePath({ uri: "/b" }, "/a?q", { uri: { exact: "/a" } })).toBe("/b?q");
    expect(rewritePath({ uri: "/b" }, "/a", undefined)).toBe("/b");
  });
  it("rewrites every regex match with RE2-style \\N groups and literal $", () => {
    expect(rewritePath({ uriRegex: { match: "/(\\d+)", rewrite: "/n\\1" } }, "/1/22/x?y=/3", undefined)).toBe("/n1/n22/x?y=/3");
    expect(rewritePath({ uriRegex: { match: "^/price", rewrite: "/$usd" } }, "/price", undefined)).toBe("/$usd");
  });
});

describe("redirectLocation", () => {
  const url = new URL("http://shop.example.com:8080/old/path?q=1");
  it("replaces the path and keeps the query unless the new uri has one", () => {
    expect(redirectLocation({ kind: "redirect", uri: "/new", code: 301 }, url, 8080)).toBe("http://shop.example.com:8080/new?q=1");
    expect(redirectLocation({ kind: "redirect", uri: "/new?x=2", code: 301 }, url, 8080)).toBe("http://shop.example.com:8080/new?x=2");
  });
  it("drops the port when the scheme or authority changes, unless asked to keep or set one", () => {
    expect(redirectLocation({ kind: "redirect", scheme: "https", code: 308 }, url, 8080)).toBe("https://shop.example.com/old/path?q=1");
    expect(redirectLocation({ kind: "redirect", authority: "b.example.com", derivePort: "FROM_REQUEST_PORT", code: 302 }, url, 8080)).toBe("http://b.example.com:8080/old/path?q=1");
    expect(redirectLocation({ kind: "redirect", scheme: "https", port: 8443, code: 302 }, url, 8080)).toBe("https://shop.example.com:8443/old/path?q=1");
    expect(redirectLocation({ kind: "redirect", scheme: "https", port: 443, code: 302 }, url, 8080)).toBe("https://shop.example.com/old/path?q=1");
  });
});

describe("shadowHost", () => {
  it("puts -shadow after the host name and before the port", () => {
    expect(shadowHost("ratings:9080")).toBe("ratings-shadow:9080");
    expect(shadowHost("ratings.default.svc.cluster.local")).toBe("ratings.default.svc.cluster.local-shadow");
  });
});

describe("retryConditions", () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({ kind: "response" as const, response: new Response(null, { status, headers }) });
  it("follows Envoy's meaning of each condition", () => {
    const fivexx = retryConditions({ attempts: 2, retryOn: ["5xx"] });
    expect([500, 503, 504].map((s) => fivexx.retriable(response(s)))).toEqual([true, true, true]);
    expect(fivexx.retriable(response(429))).toBe(false);
    expect(fivexx.retriable({ kind: "reset" })).toBe(true);
    expect(fivexx.retriable({ kind: "timeout" })).toBe(true);
    const gateway = retryConditions({ attempts: 2, retryOn: ["gateway-error"] });
    expect([500, 502, 503, 504].map((s) => gateway.retriable(response(s)))).toEqual([false, true, true, true]);
    expect(gateway.retriable({ kind: "reset" })).toBe(false);
    const connect = retryConditions({ attempts: 2, retryOn: ["connect-failure"] });
    expect(connect.retriable({ kind: "connect-failure" })).toBe(true);
    expect(connect.retriable(response(503))).toBe(false);
    const codes = retryConditions({ attempts: 2, retryOn: ["retriable-status-codes", "418"] });
    expect(codes.retriable(response(418))).toBe(true);
    expect(codes.retriable(response(503))).toBe(false);
    expect(retryConditions({ attempts: 2, retryOn: ["retriable-4xx"] }).retriable(response(409))).toBe(true);
    expect(retryConditions({ attempts: 2, retryOn: ["unavailable"] }).retriable(response(200, { "grpc-status": "14" }))).toBe(true);
    expect(retryConditions({ attempts: 2, retryOn: ["refused-stream"] }).retriable({ kind: "refused-stream" })).toBe(true);
  });
  it("backs off with full jitter under 25 ms × 2^n, capped at 250 ms", () => {
    expect(backoffMs(0, () => 0.999)).toBeLessThan(25);
    expect(backoffMs(3, () => 0.999)).toBeLessThan(200);
    expect(backoffMs(10, () => 0.999)).toBeLessThan(250);
    expect(backoffMs(5, () => 0)).toBe(0);
  });
});

describe("meterBody", () => {
  it("counts bytes and reports once when the body ends", async () => {
    const ends: [number, string][] = [];
    const body = meterBody(new Response("hello world").body, (bytes, end) => ends.push([bytes, end]));
    expect(await new Response(body).text()).toBe("hello world");
    expect(ends).toEqual([[11, "complete"]]);
  });
  it("reports a cancelled body (the downstream went away)", async () => {
    const ends: [number, string][] = [];
    const source = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(4)) });
    const body = meterBody(source, (bytes, end) => ends.push([bytes, end])) as ReadableStream<Uint8Array>;
    const reader = body.getReader();
    await reader.read();
    await reader.cancel();
    expect(ends).toEqual([[4, "cancelled"]]);
  });
  it("reports a null body at once", () => {
    const ends: [number, string][] = [];
    expect(meterBody(null, (bytes, end) => ends.push([bytes, end]))).toBeNull();
    expect(ends).toEqual([[0, "complete"]]);
  });
});

describe("createProxy and update", () => {
  const cluster = (host: string, endpoints: number) => ({
    name: `outbound|80||${host}`,
    host,
    port: 80,
    endpoints: Array.from({ length: endpoints }, (_, i) => ({ address: `10.0.0.${i + 1}`, port: 80, labels: {} })),
    policy: { loadBalancer: { kind: "ROUND_ROBIN" as const }, outlierDetection: { consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 } },
  });
  const config = (clusters: ReturnType<typeof cluster>[]): ProxyConfig => ({
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: {}, gateways: ["mesh"] },
    listeners: [{ port: 80, virtualHosts: clusters.map((c) => ({ name: c.host, domains: [c.host], routes: [{ name: c.host, match: [], action: { kind: "route" as const, destinations: [{ cluster: c.name, weight: 100 }] } }] })) }],
    clusters,
  });

  it("keeps a cluster's upstream state across updates that do not change it, and rebuilds changed ones", async () => {
    const proxy = createProxy(config([cluster("a", 2), cluster("b", 2)]), { send: async () => new Response("no", { status: 500 }) });
    await (await proxy.outbound(new Request("http://a/"))).arrayBuffer();
    await (await proxy.outbound(new Request("http://b/"))).arrayBuffer();
    expect(proxy.upstream("outbound|80||a")?.ejected()).toHaveLength(1);
    proxy.update(config([cluster("a", 2), cluster("b", 3)]));
    expect(proxy.upstream("outbound|80||a")?.ejected()).toHaveLength(1);
    expect(proxy.upstream("outbound|80||b")?.ejected()).toHaveLength(0);
  });

  it("refuses a config it cannot compile and keeps serving the old one", async () => {
    const proxy = createProxy(config([cluster("a", 1)]), { send: async () => new Response("ok") });
    const bad = config([cluster("a", 1)]);
    (bad.listeners[0]?.virtualHosts[0] as { domains: string[] }).domains = ["a*b"];
    expect(() => proxy.update(bad)).toThrow(/only "\*" and "\*\.<suffix>" wildcards/);
    const response = await proxy.outbound(new Request("http://a/"));
    expect(await response.text()).toBe("ok");
  });

  it("sends a request no virtual host matches to the captured original destination (PassthroughCluster), or 502 under REGISTRY_ONLY", async () => {
    const sent: { cluster: string; endpoint: string; host: string | null }[] = [];
    const host = {
      send: async (request: Request, target: { cluster: { name: string }; endpoint: { address: string; port: number } }) => {
        sent.push({ cluster: target.cluster.name, endpoint: `${target.endpoint.address}:${target.endpoint.port}`, host: request.headers.get("host") });
        return new Response("through");
      },
    };
    const proxy = createProxy(config([cluster("a", 1)]), host);
    const unknown = await proxy.outbound(new Request("http://unknown.example:8080/x"), { port: 8080, originalDestination: { address: "10.9.0.5", port: 8080 } });
    expect(await unknown.text()).toBe("through");
    expect(sent).toEqual([{ cluster: "PassthroughCluster", endpoint: "10.9.0.5:8080", host: "unknown.example:8080" }]);
    // Without an original destination (an edge gateway, a test) an unknown host is still 404 NR.
    expect((await proxy.outbound(new Request("http://unknown.example/"))).status).toBe(404);
    // A known host is routed as before, whatever the original destination.
    await (await proxy.outbound(new Request("http://a/"), { port: 80, originalDestination: { address: "10.9.0.5", port: 80 } })).text();
    expect(sent.at(-1)?.cluster).toBe("outbound|80||a");

    const closed = createProxy({ ...config([cluster("a", 1)]), outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } }, host);
    const blocked = await closed.outbound(new Request("http://unknown.example:8080/"), { port: 8080, originalDestination: { address: "10.9.0.5", port: 8080 } });
    expect(blocked.status).toBe(502);
    expect(sent).toHaveLength(2);
  });
});
