/**
 * @module conformance/suite
 * One suite of Istio traffic semantics, run by test/node/conformance.test.ts (loopback Node servers) and
 * test/workers/conformance.test.ts (inside workerd, upstreams in a second Worker): every test starts from
 * Istio YAML, builds the proxy config with buildProxyConfig, and sends real requests through the engine to
 * real upstream HTTP servers.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProxy, type Proxy } from "../../edge-proxy/core/proxy/proxy.js";
import type { ProxyHost } from "../../edge-proxy/core/proxy/host.js";
import type { PeerInfo } from "../../edge-proxy/core/security/types.js";
import { seededRandom } from "../../edge-proxy/core/routing/seeded-random.js";
import { createAccessLog } from "../../edge-proxy/core/telemetry/access-log.js";
import { configFrom, countingSend, echoOf, manualClock, recordSink, type ConformanceHarness, type EndpointAddress } from "./harness.js";

const REVIEWS = "reviews.default.svc.cluster.local:9080";
const RATINGS = "ratings.default.svc.cluster.local:9080";

export function conformanceSuite(harness: ConformanceHarness): void {
  const e = (i: number, labels: Record<string, string> = {}) => ({ ...harness.endpoint(i), labels });
  const name = (a: EndpointAddress) => `${a.address}:${a.port}`;

  beforeAll(() => harness.start(4));
  afterAll(() => harness.stop());

  function proxyFor(yaml: string, endpoints: Parameters<typeof configFrom>[1], host: Partial<ProxyHost> = {}, options: Parameters<typeof configFrom>[2] = {}) {
    const counting = countingSend(harness);
    const sink = recordSink();
    const engine = createProxy(configFrom(yaml, endpoints, options), { send: counting.send, random: seededRandom(7), telemetry: [sink], ...host });
    const proxy = harness.adapt ? harness.adapt(engine, host.send ?? counting.send) : engine;
    return { proxy, attempts: counting.attempts, records: sink.records };
  }

  const get = (proxy: Proxy, url: string, headers: Record<string, string> = {}, init: RequestInit = {}) => proxy.outbound(new Request(url, { headers, ...init }));

  describe(`proxy core conformance (${harness.runtime})`, () => {
    describe("matching", () => {
      const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: api-prefix
    match: [{ uri: { prefix: /api }, method: { exact: GET } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - name: api-shadowed
    match: [{ uri: { prefix: /api } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: default
    route: [{ destination: { host: reviews, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
  - { name: v3, labels: { version: v3 } }
`;
      const endpoints = () => ({ [REVIEWS]: [e(0, { version: "v1" }), e(1, { version: "v2" }), e(2, { version: "v3" })] });

      it("sends the first matching route's traffic, in order", async () => {
        const { proxy } = proxyFor(yaml, endpoints());
        expect((await echoOf(await get(proxy, "http://reviews:9080/api/x", { "end-user": "jason" }))).endpoint).toBe("e1");
        expect((await echoOf(await get(proxy, "http://reviews:9080/api/x"))).endpoint).toBe("e2");
        expect((await echoOf(await get(proxy, "http://reviews:9080/api/x", {}, { method: "POST", body: "b" }))).endpoint).toBe("e1");
        expect((await echoOf(await get(proxy, "http://reviews.default.svc.cluster.local:9080/other"))).endpoint).toBe("e0");
      });

      it("answers 404 with flag NR for a host no route serves", async () => {
        const { proxy, records, attempts } = proxyFor(yaml, endpoints());
        const response = await get(proxy, "http://unknown.example.com/");
        expect(response.status).toBe(404);
        await response.arrayBuffer();
        expect(records.at(-1)?.responseFlags).toEqual(["NR"]);
        expect(attempts).toHaveLength(0);
      });
    });

    it("splits 90/10 within ±3 points over 10,000 requests (seeded)", async () => {
      const { proxy } = proxyFor(
        `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 90 }
    - { destination: { host: reviews, subset: v2 }, weight: 10 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`,
        { [REVIEWS]: [e(0, { version: "v1" }), e(1, { version: "v2" })] },
      );
      const counts: Record<string, number> = {};
      for (let batch = 0; batch < 100; batch++) {
        const responses = await Promise.all(Array.from({ length: 100 }, () => get(proxy, "http://reviews:9080/")));
        for (const response of responses) {
          const upstream = response.headers.get("x-upstream") ?? "none";
          counts[upstream] = (counts[upstream] ?? 0) + 1;
          await response.arrayBuffer();
        }
      }
      expect((counts.e0 ?? 0) + (counts.e1 ?? 0)).toBe(10_000);
      expect(Math.abs((counts.e1 ?? 0) / 100 - 10)).toBeLessThanOrEqual(3);
    });

    describe("actions", () => {
      const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - match: [{ uri: { prefix: /old/ } }]
    rewrite: { uri: /new/, authority: ratings-v2.default.svc.cluster.local }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { regex: "/items/[0-9]+/detail" } }]
    rewrite: { uriRegexRewrite: { match: "^/items/([0-9]+)/detail", rewrite: "/v2/items/\\\\1" } }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { exact: /moved } }]
    redirect: { uri: /here, authority: elsewhere.example.com, redirectCode: 308 }
  - match: [{ uri: { exact: /health } }]
    directResponse: { status: 418, body: { string: "short and stout" } }
  - match: [{ uri: { prefix: /headers } }]
    headers:
      request: { set: { x-route: set }, add: { x-added: one }, remove: [x-secret] }
      response: { set: { x-served-by: weft }, remove: [x-upstream] }
    route:
    - destination: { host: ratings }
      headers: { request: { set: { x-route: destination, x-dest: yes } }, response: { add: { x-dest-response: yes } } }
  - match: [{ uri: { prefix: /cors } }]
    corsPolicy:
      allowOrigins: [{ exact: "https://app.example.com" }, { prefix: "https://dev." }]
      allowMethods: [GET, POST]
      allowHeaders: [x-custom]
      exposeHeaders: [x-upstream]
      maxAge: 24h
      allowCredentials: true
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { prefix: /abort } }]
    fault: { abort: { httpStatus: 429, percentage: { value: 100 } } }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { prefix: /delay } }]
    fault: { delay: { fixedDelay: 150ms, percentage: { value: 100 } } }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { prefix: /slow } }]
    timeout: 200ms
    retries: { attempts: 0 }
    route: [{ destination: { host: ratings } }]
`;
      const endpoints = () => ({ [RATINGS]: [e(0)] });

      it("rewrites a matched prefix and the authority; rewrites by regex", async () => {
        const { proxy } = proxyFor(yaml, endpoints());
        const echo = await echoOf(await get(proxy, "http://ratings:9080/old/a/b?q=1"));
        expect(echo.path).toBe("/new/a/b?q=1");
        expect(echo.host).toBe("ratings-v2.default.svc.cluster.local");
        expect((await echoOf(await get(proxy, "http://ratings:9080/items/42/detail"))).path).toBe("/v2/items/42");
      });

      it("redirects and answers directly without calling upstream", async () => {
        const { proxy, attempts } = proxyFor(yaml, endpoints());
        const redirect = await get(proxy, "http://ratings:9080/moved?x=1");
        expect(redirect.status).toBe(308);
        expect(redirect.headers.get("location")).toBe("http://elsewhere.example.com/here?x=1");
        const direct = await get(proxy, "http://ratings:9080/health");
        expect(direct.status).toBe(418);
        expect(await direct.text()).toBe("short and stout");
        expect(attempts).toHaveLength(0);
      });

      it("applies request and response header operations, destination first then route", async () => {
        const { proxy } = proxyFor(yaml, endpoints());
        const response = await get(proxy, "http://ratings:9080/headers", { "x-secret": "s", "x-added": "zero" });
        expect(response.headers.get("x-served-by")).toBe("weft");
        expect(response.headers.get("x-dest-response")).toBe("yes");
        expect(response.headers.get("x-upstream")).toBeNull();
        const echo = await echoOf(response);
        expect(echo.headers["x-route"]).toBe("set");
        expect(echo.headers["x-dest"]).toBe("yes");
        expect(echo.headers["x-added"]).toBe("zero, one");
        expect(echo.headers["x-secret"]).toBeUndefined();
      });

      it("answers an allowed CORS preflight itself, decorates actual requests, forwards unmatched preflights", async () => {
        const { proxy, attempts } = proxyFor(yaml, endpoints());
        const preflight = await get(proxy, "http://ratings:9080/cors", { origin: "https://dev.example.com", "access-control-request-method": "POST" }, { method: "OPTIONS" });
        expect(preflight.status).toBe(200);
        expect(preflight.headers.get("access-control-allow-origin")).toBe("https://dev.example.com");
        expect(preflight.headers.get("access-control-allow-methods")).toBe("GET,POST");
        expect(preflight.headers.get("access-control-allow-headers")).toBe("x-custom");
        expect(preflight.headers.get("access-control-max-age")).toBe("86400");
        expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
        expect(attempts).toHaveLength(0);

        const actual = await get(proxy, "http://ratings:9080/cors", { origin: "https://app.example.com" });
        expect(actual.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
        expect(actual.headers.get("access-control-expose-headers")).toBe("x-upstream");
        await actual.arrayBuffer();

        const foreign = await get(proxy, "http://ratings:9080/cors", { origin: "https://evil.example.com", "access-control-request-method": "POST" }, { method: "OPTIONS" });
        expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
        expect((await echoOf(foreign)).method).toBe("OPTIONS");
        expect(attempts).toHaveLength(2);
      });

      it("injects aborts (FI) and delays (DI)", async () => {
        const { proxy, attempts, records } = proxyFor(yaml, endpoints());
        const aborted = await get(proxy, "http://ratings:9080/abort");
        expect(aborted.status).toBe(429);
        expect(await aborted.text()).toBe("fault filter abort");
        expect(records.at(-1)?.responseFlags).toEqual(["FI"]);
        expect(attempts).toHaveLength(0);
        const started = Date.now();
        const delayed = await get(proxy, "http://ratings:9080/delay");
        await delayed.arrayBuffer();
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
        expect(delayed.status).toBe(200);
        expect(records.at(-1)?.responseFlags).toEqual(["DI"]);
      });

      it("times out a slow upstream with 504 UT", async () => {
        const { proxy, records } = proxyFor(yaml, endpoints());
        const started = Date.now();
        const response = await get(proxy, "http://ratings:9080/slow", { "x-test-delay": "1500" });
        expect(response.status).toBe(504);
        expect(await response.text()).toBe("upstream request timeout");
        expect(Date.now() - started).toBeLessThan(1200);
        expect(records.at(-1)?.responseFlags).toEqual(["UT"]);
      });
    });

    describe("retries", () => {
      const vs = (retries: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - route: [{ destination: { host: ratings } }]
    retries: ${retries}
`;
      it("retries 5xx up to the attempts given", async () => {
        const { proxy, attempts } = proxyFor(vs("{ attempts: 3, retryOn: 5xx }"), { [RATINGS]: [e(0)] });
        const response = await get(proxy, "http://ratings:9080/", { "x-test-fail-first": "2", "x-test-key": `r5xx-${harness.runtime}` });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        expect(attempts).toHaveLength(3);
      });

      it("does not retry what retryOn leaves out, and flags URX when attempts run out", async () => {
        const { proxy, attempts, records } = proxyFor(vs("{ attempts: 2, retryOn: connect-failure }"), { [RATINGS]: [e(0)] });
        const response = await get(proxy, "http://ratings:9080/", { "x-test-status": "503" });
        expect(response.status).toBe(503);
        await response.arrayBuffer();
        expect(attempts).toHaveLength(1);

        const { proxy: second, attempts: secondAttempts } = proxyFor(vs("{ attempts: 2, retryOn: gateway-error }"), { [RATINGS]: [e(0)] });
        const exhausted = await get(second, "http://ratings:9080/", { "x-test-status": "503" });
        expect(exhausted.status).toBe(503);
        await exhausted.arrayBuffer();
        expect(secondAttempts).toHaveLength(3);
        expect(records).toHaveLength(1);
      });

      it("honours perTryTimeout: a slow first try is abandoned and retried", async () => {
        const { proxy, attempts, records } = proxyFor(vs("{ attempts: 2, perTryTimeout: 150ms, retryOn: 5xx }"), { [RATINGS]: [e(0)] });
        const started = Date.now();
        const response = await get(proxy, "http://ratings:9080/", { "x-test-slow-first": "1", "x-test-delay": "2000", "x-test-key": `pertry-${harness.runtime}` });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        expect(Date.now() - started).toBeLessThan(1500);
        expect(attempts).toHaveLength(2);
        expect(records.at(-1)?.retries).toBe(1);
      });

      it("answers 503 UF when the only endpoint refuses connections, and retries onto a live endpoint", async () => {
        const dead = harness.deadEndpoint();
        const { proxy, records } = proxyFor(vs("{ attempts: 0 }"), { [RATINGS]: [dead] });
        const refused = await get(proxy, "http://ratings:9080/");
        expect(refused.status).toBe(503);
        expect(await refused.text()).toContain("connection failure");
        expect(records.at(-1)?.responseFlags).toEqual(["UF"]);

        // Istio's default retry policy (no `retries`) retries connect failures on another endpoint.
        const noRetries = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: ratings } }] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec: { host: ratings, trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } } }
`;
        const live = proxyFor(noRetries, { [RATINGS]: [dead, e(1)] });
        for (let i = 0; i < 4; i++) {
          const response = await get(live.proxy, "http://ratings:9080/");
          expect(response.status).toBe(200);
          expect((await echoOf(response)).endpoint).toBe("e1");
        }
        expect(live.attempts.some((a) => a.endpoint === name(dead))).toBe(true);
      });
    });

    describe("destination rules", () => {
      it("ejects an endpoint after consecutive 5xx and brings it back after the ejection time", async () => {
        const clock = manualClock();
        const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: ratings } }], retries: { attempts: 0 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
`;
        const { proxy } = proxyFor(yaml, { [RATINGS]: [e(0), e(1)] }, { now: clock.now });
        const cluster = proxy.upstream("outbound|9080||ratings.default.svc.cluster.local");
        expect(cluster).toBeDefined();
        const bad = { "x-test-fail-on": "e0" };
        for (let i = 0; i < 6; i++) await (await get(proxy, "http://ratings:9080/", bad)).arrayBuffer();
        expect(cluster?.ejected().map(name)).toEqual([name(harness.endpoint(0))]);
        const during = await Promise.all(Array.from({ length: 6 }, () => get(proxy, "http://ratings:9080/", bad)));
        for (const r of during) {
          expect(r.status).toBe(200);
          await r.arrayBuffer();
        }
        clock.advance(31_000);
        const seen = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const r = await get(proxy, "http://ratings:9080/");
          seen.add(r.headers.get("x-upstream") ?? "");
          await r.arrayBuffer();
        }
        expect(cluster?.ejected()).toEqual([]);
        expect(seen).toEqual(new Set(["e0", "e1"]));
      });

      it("overflows the connection pool with 503 UO", async () => {
        const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }], retries: { attempts: 0 } }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } }
`;
        const { proxy, records } = proxyFor(yaml, { [RATINGS]: [e(0)] });
        const responses = await Promise.all([0, 1, 2].map(() => get(proxy, "http://ratings:9080/", { "x-test-delay": "200" })));
        const statuses = await Promise.all(responses.map(async (r) => (await r.arrayBuffer(), r.status)));
        expect(statuses.sort()).toEqual([200, 200, 503]);
        expect(records.filter((r) => r.responseFlags.includes("UO"))).toHaveLength(1);
      });

      it("keeps a consistent-hash key on one endpoint", async () => {
        const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }] }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: x-user, maglev: { tableSize: 251 } } } }
`;
        const { proxy } = proxyFor(yaml, { [RATINGS]: [e(0), e(1), e(2), e(3)] });
        const seen = new Map<string, Set<string>>();
        for (let round = 0; round < 5; round++) {
          for (let user = 0; user < 12; user++) {
            const r = await get(proxy, "http://ratings:9080/", { "x-user": `user-${user}` });
            const set = seen.get(`user-${user}`) ?? new Set();
            set.add(r.headers.get("x-upstream") ?? "");
            seen.set(`user-${user}`, set);
            await r.arrayBuffer();
          }
        }
        for (const endpoints of seen.values()) expect(endpoints.size).toBe(1);
        expect(new Set([...seen.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
      });

      it("mirrors a copy to another service, fire and forget", async () => {
        const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - route: [{ destination: { host: ratings } }]
    mirror: { host: reviews }
    mirrorPercentage: { value: 100 }
`;
        const { proxy, attempts } = proxyFor(yaml, { [RATINGS]: [e(0)], [REVIEWS]: [e(3)] });
        const response = await get(proxy, "http://ratings:9080/m", {}, { method: "POST", body: "payload" });
        expect((await echoOf(response)).body).toBe("payload");
        await new Promise((resolve) => setTimeout(resolve, 100));
        const shadow = attempts.find((a) => a.shadow);
        expect(shadow?.endpoint).toBe(name(harness.endpoint(3)));
        expect(shadow?.host).toBe("ratings-shadow:9080");
      });
    });

    describe("failures and the gateway", () => {
      const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }], retries: { attempts: 0 } }] }
`;
      it("answers 503 UH when the cluster has no endpoints", async () => {
        const { proxy, records, attempts } = proxyFor(yaml, { [RATINGS]: [] });
        const response = await get(proxy, "http://ratings:9080/");
        expect(response.status).toBe(503);
        expect(await response.text()).toBe("no healthy upstream");
        expect(records.at(-1)?.responseFlags).toEqual(["UH"]);
        expect(attempts).toHaveLength(0);
      });

      it("flags DC when the downstream goes away before the upstream answers", async () => {
        const { proxy, records } = proxyFor(yaml, { [RATINGS]: [e(0)] });
        const controller = new AbortController();
        const pending = proxy.outbound(new Request("http://ratings:9080/", { headers: { "x-test-delay": "1000" } }), { signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        const started = Date.now();
        const response = await pending;
        await response.arrayBuffer();
        expect(Date.now() - started).toBeLessThan(800);
        expect(records.at(-1)?.responseFlags).toContain("DC");
      });

      it("sets the consistent-hash cookie when the request has none, and then sticks to it", async () => {
        const { proxy } = proxyFor(
          `${yaml}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: session, path: /, ttl: 3600s } } } }
`,
          { [RATINGS]: [e(0), e(1), e(2), e(3)] },
        );
        const first = await get(proxy, "http://ratings:9080/");
        const cookie = first.headers.get("set-cookie") ?? "";
        expect(cookie).toMatch(/^session=[^;]+;/);
        expect(cookie).toContain("Max-Age=3600");
        const endpoint = (await echoOf(first)).endpoint;
        const value = cookie.split(";")[0] as string;
        for (let i = 0; i < 5; i++) {
          const again = await get(proxy, "http://ratings:9080/", { cookie: value });
          expect(again.headers.get("set-cookie")).toBeNull();
          expect((await echoOf(again)).endpoint).toBe(endpoint);
        }
      });

      it("runs a gateway: its own AuthorizationPolicy first, then the VirtualServices bound to its Gateway", async () => {
        const gatewayYaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: public, namespace: edge }
spec:
  hosts: [shop.example.com]
  gateways: [edge/public]
  http: [{ route: [{ destination: { host: ratings.default.svc.cluster.local, port: { number: 9080 } } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: block-bots, namespace: edge }
spec:
  selector: { matchLabels: { istio: edge-gateway } }
  action: DENY
  rules: [{ when: [{ key: "request.headers[user-agent]", values: ["bad-bot*"] }] }]
`;
        const { proxy, attempts } = proxyFor(gatewayYaml, { [RATINGS]: [e(2)] }, {}, { proxy: { kind: "gateway", namespace: "edge", labels: { istio: "edge-gateway" }, gateways: ["edge/public"], workload: "edge-gateway" } });
        const peer: PeerInfo = { port: 443, mtls: false, sourceIp: "203.0.113.9" };
        const ok = await proxy.gateway(new Request("https://shop.example.com/cart"), { peer });
        expect(ok.status).toBe(200);
        expect((await echoOf(ok)).endpoint).toBe("e2");
        const bot = await proxy.gateway(new Request("https://shop.example.com/cart", { headers: { "user-agent": "bad-bot/2" } }), { peer });
        expect(bot.status).toBe(403);
        await bot.arrayBuffer();
        expect(attempts).toHaveLength(1);
      });

      it("runs a gateway's servers: plain HTTP on an httpsRedirect server gets a 301 to https, HTTPS is routed", async () => {
        const gatewayYaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: edge }
spec:
  selector: { istio: edge-gateway }
  servers:
  - { port: { number: 80, name: http, protocol: HTTP }, hosts: [shop.example.com], tls: { httpsRedirect: true } }
  - { port: { number: 443, name: https, protocol: HTTPS }, hosts: [shop.example.com], tls: { mode: SIMPLE, credentialName: shop-cert } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop, namespace: edge }
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http: [{ match: [{ uri: { prefix: /cart } }], route: [{ destination: { host: ratings.default.svc.cluster.local, port: { number: 9080 } } }] }]
`;
        const { proxy, attempts, records } = proxyFor(gatewayYaml, { [RATINGS]: [e(1)] }, {}, { proxy: { kind: "gateway", namespace: "edge", labels: { istio: "edge-gateway" }, gateways: ["edge/public"], workload: "edge-gateway" } });
        expect(proxy.config.listeners.map((l) => [l.port, l.tls?.mode])).toEqual([[80, undefined], [443, "SIMPLE"]]);
        const plain = await proxy.gateway(new Request("http://shop.example.com/cart?x=1"), { peer: { port: 80, mtls: false, sourceIp: "203.0.113.9" } });
        expect(plain.status).toBe(301);
        expect(plain.headers.get("location")).toBe("https://shop.example.com/cart?x=1");
        await plain.arrayBuffer();
        expect(records.at(-1)?.responseCodeDetails).toBe("https_redirect");
        expect(records.at(-1)?.responseFlags).toEqual([]);
        // Envoy redirects before matching routes: a path no route takes is redirected too.
        const unrouted = await proxy.gateway(new Request("http://shop.example.com:80/elsewhere"), { peer: { port: 80, mtls: false, sourceIp: "203.0.113.9" } });
        expect(unrouted.status).toBe(301);
        expect(unrouted.headers.get("location")).toBe("https://shop.example.com/elsewhere");
        await unrouted.arrayBuffer();
        expect(attempts).toHaveLength(0);
        const secure = await proxy.gateway(new Request("https://shop.example.com/cart?x=1"), { peer: { port: 443, mtls: false, sourceIp: "203.0.113.9" } });
        expect(secure.status).toBe(200);
        expect((await echoOf(secure)).endpoint).toBe("e1");
        expect(attempts).toHaveLength(1);
      });
    });

    describe("security (inbound)", () => {
      const policies = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin }
spec:
  selector: { matchLabels: { app: reviews } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-sleep }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/sleep"] } }]
  - from: [{ source: { requestPrincipals: ["https://issuer.example.com/*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext }
spec:
  selector: { matchLabels: { app: reviews } }
  action: CUSTOM
  provider: { name: checker }
  rules: [{ to: [{ operation: { paths: ["/checked*"] } }] }]
`;
      const peer = (sa: string, extra: Partial<PeerInfo> = {}): PeerInfo => ({ port: harness.endpoint(0).port, mtls: true, spiffeId: `spiffe://cluster.local/ns/default/sa/${sa}`, sourceIp: "10.1.2.3", ...extra });
      const inboundProxy = (extraYaml = "", host: Partial<ProxyHost> = {}) =>
        proxyFor(policies + extraYaml, {}, host, { proxy: { labels: { app: "reviews" }, workload: "reviews-v1", serviceAccount: "reviews" } });
      const inboundRequest = (path: string, headers: Record<string, string> = {}) => new Request(`http://reviews:${harness.endpoint(0).port}${path}`, { headers });

      it("evaluates CUSTOM, then DENY, then ALLOW (deny when ALLOW policies exist and none matched)", async () => {
        const checked: string[] = [];
        const { proxy, records } = inboundProxy("", {
          customAuthorizers: {
            checker: async (request) => {
              checked.push(new URL(request.url).pathname);
              return request.headers.get("x-let-me") === "in";
            },
          },
        });
        const ok = await proxy.inbound(inboundRequest("/data"), { peer: peer("sleep") });
        expect(ok.status).toBe(200);
        expect((await echoOf(ok)).endpoint).toBe("e0");
        const admin = await proxy.inbound(inboundRequest("/admin/users"), { peer: peer("sleep") });
        expect(admin.status).toBe(403);
        expect(await admin.text()).toBe("RBAC: access denied");
        const stranger = await proxy.inbound(inboundRequest("/data"), { peer: peer("stranger") });
        expect(stranger.status).toBe(403);
        await stranger.arrayBuffer();
        const customDenied = await proxy.inbound(inboundRequest("/checked"), { peer: peer("sleep") });
        expect(customDenied.status).toBe(403);
        await customDenied.arrayBuffer();
        expect(records.at(-1)?.responseFlags).toEqual(["UAEX"]);
        const customAllowed = await proxy.inbound(inboundRequest("/checked", { "x-let-me": "in" }), { peer: peer("sleep") });
        expect(customAllowed.status).toBe(200);
        await customAllowed.arrayBuffer();
        expect(checked).toEqual(["/checked", "/checked"]);
        expect(records.map((r) => r.reporter)).toContain("destination");
        expect(records.find((r) => r.responseCode === 200)?.connectionSecurityPolicy).toBe("mutual_tls");
      });

      it("refuses plain text under STRICT PeerAuthentication", async () => {
        const { proxy } = inboundProxy(`
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict }
spec: { mtls: { mode: STRICT } }
`);
        const plain = await proxy.inbound(inboundRequest("/data"), { peer: { port: harness.endpoint(0).port, mtls: false, sourceIp: "10.1.2.3" } });
        expect(plain.status).toBeGreaterThanOrEqual(400);
        await plain.arrayBuffer();
        const mutual = await proxy.inbound(inboundRequest("/data"), { peer: peer("sleep") });
        expect(mutual.status).toBe(200);
        await mutual.arrayBuffer();
      });

      it("verifies JWTs with RequestAuthentication: 401 for a bad token, principal for a good one", async () => {
        const { publicKey, privateKey } = await generateKeyPair("ES256");
        const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
        const { proxy } = inboundProxy(`
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt }
spec:
  selector: { matchLabels: { app: reviews } }
  jwtRules:
  - issuer: https://issuer.example.com
    jwks: '${JSON.stringify({ keys: [jwk] })}'
    outputPayloadToHeader: x-jwt-payload
`);
        const token = await new SignJWT({ scope: "read" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer("https://issuer.example.com").setSubject("alice").setIssuedAt().setExpirationTime("10m").sign(privateKey);
        const anonymous = peer("stranger", { mtls: false, spiffeId: undefined as never });
        delete (anonymous as Partial<PeerInfo>).spiffeId;
        const good = await proxy.inbound(inboundRequest("/data", { authorization: `Bearer ${token}` }), { peer: anonymous });
        expect(good.status).toBe(200);
        const echo = await echoOf(good);
        expect(echo.headers.authorization).toBeUndefined();
        expect(JSON.parse(atob((echo.headers["x-jwt-payload"] ?? "").replace(/-/g, "+").replace(/_/g, "/"))).sub).toBe("alice");
        const bad = await proxy.inbound(inboundRequest("/data", { authorization: `Bearer ${token.slice(0, -4)}AAAA` }), { peer: anonymous });
        expect(bad.status).toBe(401);
        await bad.arrayBuffer();
        const none = await proxy.inbound(inboundRequest("/data"), { peer: anonymous });
        expect(none.status).toBe(403);
        await none.arrayBuffer();
      });
    });

    describe("telemetry", () => {
      const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings } }] }] }
`;
      it("counts requests with Istio's metric names and labels, and writes JSON access-log lines with Envoy's flags", async () => {
        const lines: string[] = [];
        const { proxy } = proxyFor(yaml, { [RATINGS]: [e(0, { app: "ratings", version: "v1" })] }, { telemetry: [createAccessLog((line) => lines.push(line))] });
        for (let i = 0; i < 3; i++) await (await get(proxy, "http://ratings:9080/")).arrayBuffer();
        await (await get(proxy, "http://nowhere:9080/")).arrayBuffer();
        const text = proxy.metrics.render();
        const ok = text.split("\n").find((line) => line.startsWith("istio_requests_total{") && line.includes('response_code="200"'));
        expect(ok).toMatch(/ 3$/);
        expect(ok).toContain('reporter="source"');
        expect(ok).toContain('source_workload="sleep"');
        expect(ok).toContain('destination_service="ratings.default.svc.cluster.local"');
        expect(ok).toContain('destination_app="ratings"');
        expect(text).toMatch(/istio_requests_total\{[^}]*response_code="404"[^}]*response_flags="NR"[^}]*\} 1/);
        expect(text).toContain("istio_request_duration_milliseconds_bucket{");
        expect(text).toContain("istio_response_bytes_sum{");
        const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(entries).toHaveLength(4);
        expect(entries[0]).toMatchObject({ method: "GET", path: "/", response_code: 200, response_flags: "-", upstream_cluster: "outbound|9080||ratings.default.svc.cluster.local", upstream_host: name(harness.endpoint(0)) });
        expect(entries[3]).toMatchObject({ response_code: 404, response_flags: "NR", upstream_host: null });
      });

      it("propagates W3C trace context with a new span id per hop, and starts a trace when none came", async () => {
        const { proxy, records } = proxyFor(yaml, { [RATINGS]: [e(0)] });
        const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const echo = await echoOf(await get(proxy, "http://ratings:9080/", { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }));
        const [, keptTrace, span] = (echo.headers.traceparent ?? "").split("-");
        expect(keptTrace).toBe(traceId);
        expect(span).toMatch(/^[0-9a-f]{16}$/);
        expect(span).not.toBe("00f067aa0ba902b7");
        expect(records.at(-1)?.traceId).toBe(traceId);
        const fresh = await echoOf(await get(proxy, "http://ratings:9080/"));
        expect(fresh.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
        expect(fresh.headers["x-b3-traceid"]).toBe((fresh.headers.traceparent ?? "").split("-")[1]);
        expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      });
    });
  });
}
