// The edge gateway Worker inside workerd, against the real control plane (its default export with real
// D1 and the ConfigHub, passed as the gateway's CONTROL_PLANE binding). Istio YAML is applied through the
// control plane; origins are ServiceEntries whose static endpoints the test's origin transport maps to
// the conformance upstream Worker (UPSTREAMS), and a dead origin is a refused loopback port reached
// with the real fetch. Each `createEdgeGatewayWorker()` is a fresh isolate; its clock is the test's.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import controlPlane from "../../workers/control-plane.js";
import { createEdgeGatewayWorker, type Env as GatewayEnv } from "../../workers/edge-gateway.js";
import { apply, call, json } from "./helpers.js";
import type { Echo } from "../conformance/upstream-app.js";

const NS = "edge";
const SA = "edge-gateway";
/** Static ServiceEntry endpoint addresses → the upstream Worker's endpoint name. */
const ORIGINS: Record<string, string> = { "10.0.0.1": "origin-a", "10.0.0.2": "origin-b" };
const ISSUER = "https://issuer.example.com";

let joinToken = "";
let signKey: CryptoKey;
let gatewayCount = 0;

const controlPlaneBinding = (): Fetcher =>
  ({ fetch: (input: RequestInfo, init?: RequestInit) => controlPlane.fetch(new Request(input, init) as Request<unknown, IncomingRequestCfProperties>, env, createExecutionContext()) }) as unknown as Fetcher;
const unreachableBinding = (): Fetcher =>
  ({ fetch: async () => { throw new Error("connect ECONNREFUSED (test: control plane down)"); } }) as unknown as Fetcher;

function gatewayEnv(name: string, extra: Partial<GatewayEnv> = {}): GatewayEnv {
  return {
    CONTROL_PLANE: controlPlaneBinding(),
    WEFT_JOIN_TOKEN: joinToken,
    WEFT_GATEWAY_NAMESPACE: NS,
    WEFT_GATEWAY_SERVICE_ACCOUNT: SA,
    WEFT_GATEWAY_NAME: name,
    WEFT_GATEWAY_LABELS: JSON.stringify({ istio: "ingressgateway" }),
    WEFT_GATEWAYS: "edge/public,edge/secure",
    WEFT_CONFIG_REFRESH: "5s",
    WEFT_ADMIN_TOKEN: "gw-admin",
    ...extra,
  };
}

/** A fresh isolate of the gateway Worker: its clock, its log lines, its origin attempts. */
function isolate(name = `gw-${++gatewayCount}`, extra: Partial<GatewayEnv> = {}) {
  let time = Date.now();
  const lines: string[] = [];
  const attempts: string[] = [];
  const worker = createEdgeGatewayWorker({
    now: () => time,
    log: (line) => void lines.push(line),
    async fetchOrigin(request) {
      const url = new URL(request.url);
      attempts.push(`${url.host} ${request.headers.get("host")}`);
      const endpoint = ORIGINS[url.hostname];
      if (endpoint === undefined) return fetch(request);
      const headers = new Headers(request.headers);
      headers.set("x-test-endpoint", endpoint);
      return env.UPSTREAMS.fetch(new Request(request, { headers }));
    },
  });
  const genv = gatewayEnv(name, extra);
  const send = async (url: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(url, init) as Request<unknown, IncomingRequestCfProperties>, genv, ctx);
    const body = await response.text();
    await waitOnExecutionContext(ctx);
    return { status: response.status, headers: response.headers, body, echo: () => JSON.parse(body) as Echo };
  };
  const accessLog = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => "response_code" in l && "upstream_cluster" in l);
  return { name, send, lines, accessLog, attempts, advance: (ms: number) => void (time += ms) };
}

const MESH = (jwks: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: ${NS} }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*/www.example.com", "*/api.example.com", "*/flaky.example.com", "*/news.example.com"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: secure, namespace: ${NS} }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*/secure.example.com"]
    tls: { httpsRedirect: true }
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ["*/secure.example.com"]
    tls: { mode: SIMPLE, credentialName: secure-cert }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: origin-a, namespace: ${NS} }
spec:
  hosts: [origin-a.example.com]
  location: MESH_EXTERNAL
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: 10.0.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: origin-b, namespace: ${NS} }
spec:
  hosts: [origin-b.example.com]
  location: MESH_EXTERNAL
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: 10.0.0.2 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: origin-dead, namespace: ${NS} }
spec:
  hosts: [origin-dead.example.com]
  location: MESH_EXTERNAL
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: 127.0.0.1, ports: { http: 9 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: origin-dead, namespace: ${NS} }
spec:
  host: origin-dead.example.com
  trafficPolicy: { connectionPool: { tcp: { connectTimeout: 1s } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: www, namespace: ${NS} }
spec:
  hosts: [www.example.com]
  gateways: [edge/public]
  http:
  - match: [{ uri: { prefix: /b/ } }]
    route: [{ destination: { host: origin-b.example.com, port: { number: 80 } } }]
  - route: [{ destination: { host: origin-a.example.com, port: { number: 80 } } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api, namespace: ${NS} }
spec:
  hosts: [api.example.com]
  gateways: [edge/public]
  http: [{ route: [{ destination: { host: origin-b.example.com, port: { number: 80 } } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: flaky, namespace: ${NS} }
spec:
  hosts: [flaky.example.com]
  gateways: [edge/public]
  http:
  - route: [{ destination: { host: origin-dead.example.com, port: { number: 80 } } }]
    retries: { attempts: 2, retryOn: connect-failure }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: secure, namespace: ${NS} }
spec:
  hosts: [secure.example.com]
  gateways: [edge/secure]
  http: [{ route: [{ destination: { host: origin-a.example.com, port: { number: 80 } } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: ${NS} }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  jwtRules: [{ issuer: "${ISSUER}", jwks: '${jwks}' }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: private-needs-jwt, namespace: ${NS} }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: ALLOW
  rules:
  - to: [{ operation: { notPaths: ["/private*"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/private*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-blocked, namespace: ${NS} }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/blocked*"] } }] }]
`;

let jwks = "";
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  signKey = privateKey as CryptoKey;
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] });
});

// Storage is isolated per test: each starts from the same mesh and a join token for the gateway's identity.
beforeEach(async () => {
  const created = await call("POST", "/v1/join-tokens", { body: { namespace: NS, serviceAccount: SA, ttl: "1h" } });
  expect(created.status).toBe(201);
  joinToken = (await json(created)).token;
  const applied = await apply(MESH(jwks));
  expect(applied.status, await applied.clone().text()).toBeLessThan(300);
});

const jwt = () => new SignJWT({ scope: "read" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(ISSUER).setSubject("alice").setIssuedAt().setExpirationTime("10m").sign(signKey);

describe("edge gateway Worker", () => {
  it("registers, fetches its config and routes by host and path to two origins, keeping the Host header", async () => {
    const gw = isolate();
    const a = await gw.send("http://www.example.com/index.html");
    expect(a.status, a.body).toBe(200);
    expect(a.echo().endpoint).toBe("origin-a");
    expect(a.echo().host).toBe("www.example.com");
    const b = await gw.send("http://www.example.com/b/page");
    expect(b.echo().endpoint).toBe("origin-b");
    const api = await gw.send("http://api.example.com/v1/items");
    expect(api.echo().endpoint).toBe("origin-b");
    const none = await gw.send("http://unknown.example.com/");
    expect(none.status).toBe(404);
    expect(gw.attempts[0]).toBe("10.0.0.1 www.example.com");
    // One access-log line per request, Istio's JSON fields.
    expect(gw.accessLog().map((l) => l.response_code)).toEqual([200, 200, 200, 404]);
    expect(gw.accessLog()[3]?.response_flags).toBe("NR");
    // Registered as a gateway, and the applied version ACKed.
    const status = await json(await call("GET", `/v1/proxy-status?namespace=${NS}`));
    const mine = status.items.find((i: { id: string }) => i.id === `${gw.name}.${NS}`);
    expect(mine).toMatchObject({ kind: "gateway", status: "SYNCED" });
  });

  it("applies a config change after WEFT_CONFIG_REFRESH without a redeploy, in the background", async () => {
    const gw = isolate();
    expect((await gw.send("http://news.example.com/")).status).toBe(404);
    const changed = await apply(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: news, namespace: ${NS} }
spec:
  hosts: [news.example.com]
  gateways: [edge/public]
  http: [{ route: [{ destination: { host: origin-b.example.com, port: { number: 80 } } }] }]
`);
    expect(changed.status).toBeLessThan(300);
    // Within the refresh interval no control-plane round trip happens: the old config still answers.
    gw.advance(1_000);
    expect((await gw.send("http://news.example.com/")).status).toBe(404);
    // Past it, one request (served from the config it had) triggers a revalidation in waitUntil...
    gw.advance(5_000);
    expect((await gw.send("http://news.example.com/")).status).toBe(404);
    // ...and the next one sees the change.
    const after = await gw.send("http://news.example.com/");
    expect(after.status, after.body).toBe(200);
    expect(after.echo().endpoint).toBe("origin-b");
    expect(gw.lines.filter((l) => l.includes('"config_applied"'))).toHaveLength(2);
  });

  it("enforces RequestAuthentication and AuthorizationPolicy: 401 bad JWT, 403 without, 200 with a valid one; DENY /blocked", async () => {
    const gw = isolate();
    const token = await jwt();
    const bad = await gw.send("http://www.example.com/private/x", { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    expect(bad.status).toBe(401);
    const anonymous = await gw.send("http://www.example.com/private/x");
    expect(anonymous.status).toBe(403);
    const good = await gw.send("http://www.example.com/private/x", { headers: { authorization: `Bearer ${token}` } });
    expect(good.status, good.body).toBe(200);
    expect(good.echo().endpoint).toBe("origin-a");
    const blocked = await gw.send("http://www.example.com/blocked/x", { headers: { authorization: `Bearer ${token}` } });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toBe("RBAC: access denied");
  });

  it("retries a failing origin, then answers 503 with UF/URX in the access log", async () => {
    const gw = isolate();
    const res = await gw.send("http://flaky.example.com/");
    expect(res.status).toBe(503);
    expect(gw.attempts.filter((a) => a.startsWith("127.0.0.1:9 "))).toHaveLength(3);
    const line = gw.accessLog().at(-1);
    expect(String(line?.response_flags)).toMatch(/UF|URX/);
    expect(line?.upstream_cluster).toBe("outbound|80||origin-dead.example.com");
  });

  it("refuses a config that fails validation (NACK) and keeps routing with the previous one", async () => {
    let corrupt = false;
    const statuses: unknown[] = [];
    const real = controlPlaneBinding();
    const tampering = {
      async fetch(input: RequestInfo, init?: RequestInit) {
        const request = new Request(input, init);
        if (new URL(request.url).pathname.endsWith("/status")) statuses.push(await request.clone().json());
        const response = await real.fetch(request);
        if (!corrupt || request.method !== "GET" || !new URL(request.url).pathname.endsWith("/config")) return response;
        const config = (await (await real.fetch(new Request(request.url, { headers: { authorization: request.headers.get("authorization") ?? "" } }))).json()) as object;
        await response.body?.cancel();
        return Response.json({ ...config, fromTheFuture: true }, { headers: { etag: '"bad-version"' } });
      },
    } as unknown as Fetcher;
    const gw = isolate(undefined, { CONTROL_PLANE: tampering });
    expect((await gw.send("http://api.example.com/")).status).toBe(200);
    corrupt = true;
    gw.advance(6_000);
    await gw.send("http://api.example.com/");
    const after = await gw.send("http://api.example.com/");
    expect(after.status).toBe(200);
    expect(gw.lines.some((l) => l.includes('"config_rejected"') && l.includes("bad-version"))).toBe(true);
    // One ACK of the first version, then one NACK of the bad one.
    expect(statuses).toEqual([{ version: expect.any(String), applied: true }, { version: "bad-version", error: expect.stringContaining("fromTheFuture") }]);
  });

  it("serves the admin endpoints under /__weft/ only with the admin token", async () => {
    const gw = isolate();
    await gw.send("http://www.example.com/");
    expect((await gw.send("http://www.example.com/__weft/stats/prometheus")).status).toBe(404);
    const stats = await gw.send("http://www.example.com/__weft/stats/prometheus", { headers: { authorization: "Bearer gw-admin" } });
    expect(stats.status).toBe(200);
    expect(stats.body).toContain("istio_requests_total");
    const dump = await gw.send("http://www.example.com/__weft/config_dump", { headers: { authorization: "Bearer gw-admin" } });
    expect(JSON.parse(dump.body).config.proxy).toMatchObject({ kind: "gateway", namespace: NS, gateways: ["edge/public", "edge/secure"] });
  });

  it("a cold isolate without the control plane serves the config kept in the Cache API", async () => {
    const warm = isolate();
    expect((await warm.send("http://api.example.com/")).status).toBe(200);
    const cold = isolate(warm.name, { CONTROL_PLANE: unreachableBinding() });
    const res = await cold.send("http://api.example.com/");
    expect(res.status, res.body).toBe(200);
    expect(res.echo().endpoint).toBe("origin-b");
    expect(cold.lines.some((l) => l.includes('"control_plane_unreachable"'))).toBe(true);
    expect(cold.lines.some((l) => l.includes('"source":"kept"'))).toBe(true);
  });

  it("a cold isolate without the control plane and no kept config answers 503 NC, never routing", async () => {
    const cold = isolate(undefined, { CONTROL_PLANE: unreachableBinding() });
    const res = await cold.send("http://api.example.com/");
    expect(res.status).toBe(503);
    expect(res.headers.get("x-weft-flag")).toBe("NC");
    expect(res.body).toBe("no config: the control plane is unreachable and no config was kept");
    expect(cold.attempts).toHaveLength(0);
    expect(cold.lines.some((l) => l.includes('"response_flags":"NC"'))).toBe(true);
  });

  it("answers 301 to https for an httpsRedirect server (needs the engine's Gateway-server semantics)", async () => {
    const gw = isolate();
    const res = await gw.send("http://secure.example.com/path?q=1", { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("https://secure.example.com/path?q=1");
    const tls = await gw.send("https://secure.example.com/path");
    expect(tls.status, tls.body).toBe(200);
  });
});
