/**
 * @module test/node/proxy-config/routes
 * How VirtualServices become virtual hosts and routes: name resolution, gateway binding, exportTo,
 * route order, weights, redirects and direct responses, rewrites, retries, faults, mirrors, CORS,
 * delegation, duplicate hosts, listeners per match port, and byte-identical output.
 */
import { describe, expect, it } from "vitest";
import { buildProxyConfig } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { build, cluster, destinations, gatewayProxy, listener, routesOf, sidecar, virtualHost, vs } from "./support.js";

const REVIEWS = "reviews.default.svc.cluster.local";
const http = (...routes: unknown[]) => routes;
const to = (host: string, extra: Record<string, unknown> = {}) => ({ route: [{ destination: { host } }], ...extra });

describe("names resolve as Istio resolves them", () => {
  it("resolves short hosts and destinations in the VirtualService's namespace; FQDNs and wildcards stay", () => {
    const config = build({
      resources: [vs("default", "reviews", { hosts: ["reviews", "api.example.com", "*.shop.example.com"], http: http(to("ratings")) })],
      proxy: sidecar("default"),
    });
    const vh = virtualHost(config, "default/reviews");
    expect(vh.domains).toEqual(["*.shop.example.com", "api.example.com", REVIEWS]);
    expect(destinations(vh.routes[0])).toEqual([["outbound|80||ratings.default.svc.cluster.local", 100]]);
    expect(cluster(config, "outbound|80||ratings.default.svc.cluster.local").host).toBe("ratings.default.svc.cluster.local");
  });

  it("uses the cluster domain given, and a VirtualService in another namespace resolves in its own", () => {
    const config = build({
      resources: [vs("shop", "cart", { hosts: ["cart"], http: http(to("cart")) })],
      proxy: sidecar("default"),
      clusterDomain: "mesh.internal",
    });
    expect(virtualHost(config, "shop/cart").domains).toEqual(["cart.shop.svc.mesh.internal"]);
    expect(config.clusters.map((c) => c.name)).toEqual(["outbound|80||cart.shop.svc.mesh.internal"]);
  });
});

describe("gateway binding", () => {
  const resources = [
    vs("default", "mesh-only", { hosts: ["reviews"], http: http(to("reviews")) }),
    vs("default", "edge", { hosts: ["shop.example.com"], gateways: ["public"], http: http(to("web")) }),
    vs("default", "both", { hosts: ["both.example.com"], gateways: ["mesh", "istio-system/ingress"], http: http(to("web")) }),
    vs("apps", "other-ns-gateway", { hosts: ["other.example.com"], gateways: ["public"], http: http(to("web")) }),
  ];
  const names = (proxy: Parameters<typeof buildProxyConfig>[0]["proxy"]) => listener(build({ resources, proxy })).virtualHosts.map((vh) => vh.name);

  it("a sidecar routes the VirtualServices bound to mesh (the default)", () => {
    expect(names(sidecar("default"))).toEqual(["default/both", "default/mesh-only"]);
  });

  it("a gateway routes the VirtualServices naming it, a short gateway name meaning the VirtualService's namespace", () => {
    expect(names(gatewayProxy("default", "default/public"))).toEqual(["default/edge"]);
    expect(names(gatewayProxy("apps", "apps/public"))).toEqual(["apps/other-ns-gateway"]);
    expect(names(gatewayProxy("istio-system", "istio-system/ingress"))).toEqual(["default/both"]);
  });

  it("carries a match's gateways over, resolved to namespace/name", () => {
    const config = build({
      resources: [
        vs("default", "split", {
          hosts: ["split.example.com"],
          gateways: ["mesh", "public"],
          http: http({ match: [{ gateways: ["public"], uri: { prefix: "/edge" } }, { gateways: ["mesh"] }], route: [{ destination: { host: "web" } }] }),
        }),
      ],
      proxy: gatewayProxy("default", "default/public"),
    });
    expect(routesOf(config, "default/split")[0]?.match).toEqual([{ uri: { prefix: "/edge" }, gateways: ["default/public"] }, { gateways: ["mesh"] }]);
  });
});

describe("exportTo", () => {
  const resources = [
    vs("team-a", "private", { hosts: ["private"], exportTo: ["."], http: http(to("private")) }),
    vs("team-a", "shared", { hosts: ["shared"], exportTo: ["team-b"], http: http(to("shared")) }),
    vs("team-a", "public", { hosts: ["public"], http: http(to("public")) }),
  ];
  const names = (ns: string) => listener(build({ resources, proxy: sidecar(ns) })).virtualHosts.map((vh) => vh.name);

  it("hides a VirtualService from the namespaces it is not exported to", () => {
    expect(names("team-a")).toEqual(["team-a/private", "team-a/public"]);
    expect(names("team-b")).toEqual(["team-a/public", "team-a/shared"]);
    expect(names("team-c")).toEqual(["team-a/public"]);
  });

  it("leaves out the clusters only hidden VirtualServices use", () => {
    const config = build({ resources, proxy: sidecar("team-c") });
    expect(config.clusters.map((c) => c.host)).toEqual(["public.team-a.svc.cluster.local"]);
  });
});

describe("routes", () => {
  it("keep the VirtualService's order, so the first match wins", () => {
    const config = build({
      resources: [
        vs("default", "reviews", {
          hosts: ["reviews"],
          http: http(
            { name: "jason", match: [{ headers: { "End-User": { exact: "jason" } } }], route: [{ destination: { host: "reviews", subset: "v2" } }] },
            { match: [{ uri: { prefix: "/api" }, ignoreUriCase: true }, { queryParams: { debug: {} } }], route: [{ destination: { host: "reviews", subset: "v3" } }] },
            to("reviews"),
          ),
        }),
      ],
      proxy: sidecar(),
    });
    const routes = routesOf(config, "default/reviews");
    expect(routes.map((r) => r.name)).toEqual(["jason", "default/reviews/1", "default/reviews/2"]);
    expect(routes[0]?.match).toEqual([{ headers: { "end-user": { exact: "jason" } } }]);
    expect(routes[1]?.match).toEqual([{ uri: { prefix: "/api" }, ignoreUriCase: true }, { queryParams: { debug: {} } }]);
    expect(routes[2]?.match).toEqual([]);
  });

  it("weights: a lone destination takes 100, a split keeps its weights, zero-weight destinations are left out", () => {
    const config = build({
      resources: [
        vs("default", "reviews", {
          hosts: ["reviews"],
          http: http(
            { match: [{ uri: { prefix: "/a" } }], route: [{ destination: { host: "reviews", subset: "v1" }, weight: 25 }] },
            {
              match: [{ uri: { prefix: "/b" } }],
              route: [
                { destination: { host: "reviews", subset: "v1" }, weight: 80 },
                { destination: { host: "reviews", subset: "v2" }, weight: 20, headers: { request: { set: { "x-canary": "1" } } } },
              ],
            },
            { route: [{ destination: { host: "reviews", subset: "v1" }, weight: 100 }, { destination: { host: "reviews", subset: "v3" }, weight: 0 }] },
          ),
        }),
      ],
      proxy: sidecar(),
    });
    const routes = routesOf(config, "default/reviews");
    expect(destinations(routes[0])).toEqual([[`outbound|80|v1|${REVIEWS}`, 100]]);
    expect(destinations(routes[1])).toEqual([[`outbound|80|v1|${REVIEWS}`, 80], [`outbound|80|v2|${REVIEWS}`, 20]]);
    expect(routes[1]?.action.kind === "route" && routes[1].action.destinations[1]?.headers).toEqual({ request: { set: { "x-canary": "1" } } });
    expect(destinations(routes[2])).toEqual([[`outbound|80|v1|${REVIEWS}`, 100]]);
    expect(config.clusters.map((c) => c.subset)).toEqual(["v1", "v2"]);
  });

  it("redirect (301 unless a code is given) and direct response (string, or base64 bytes decoded)", () => {
    const config = build({
      resources: [
        vs("default", "edge", {
          hosts: ["edge.example.com"],
          gateways: ["public"],
          http: http(
            { match: [{ uri: { exact: "/old" } }], redirect: { uri: "/new", authority: "new.example.com" } },
            { match: [{ uri: { exact: "/tls" } }], redirect: { scheme: "https", derivePort: "FROM_PROTOCOL_DEFAULT", redirectCode: 308 } },
            { match: [{ uri: { exact: "/health" } }], directResponse: { status: 200, body: { string: "ok" } } },
            { match: [{ uri: { exact: "/teapot" } }], directResponse: { status: 418, body: { bytes: btoa("I'm a teapot") } } },
            { directResponse: { status: 404 } },
          ),
        }),
      ],
      proxy: gatewayProxy("default", "default/public"),
    });
    const actions = routesOf(config, "default/edge").map((r) => r.action);
    expect(actions).toEqual([
      { kind: "redirect", code: 301, uri: "/new", authority: "new.example.com" },
      { kind: "redirect", code: 308, scheme: "https", derivePort: "FROM_PROTOCOL_DEFAULT" },
      { kind: "direct", status: 200, body: "ok" },
      { kind: "direct", status: 418, body: "I'm a teapot" },
      { kind: "direct", status: 404 },
    ]);
    expect(routesOf(config, "default/edge").every((r) => r.retries === undefined)).toBe(true);
    expect(config.clusters).toEqual([]);
  });

  it("rewrite: uri, authority, uriRegexRewrite", () => {
    const config = build({
      resources: [
        vs("default", "api", {
          hosts: ["api"],
          http: http(
            { match: [{ uri: { prefix: "/v1/" } }], rewrite: { uri: "/", authority: "backend.internal" }, route: [{ destination: { host: "api" } }] },
            { rewrite: { uriRegexRewrite: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1" } }, route: [{ destination: { host: "api" } }] },
          ),
        }),
      ],
      proxy: sidecar(),
    });
    const [first, second] = routesOf(config, "default/api").map((r) => r.action);
    expect(first).toMatchObject({ kind: "route", rewrite: { uri: "/", authority: "backend.internal" } });
    expect(second).toMatchObject({ kind: "route", rewrite: { uriRegex: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1" } } });
  });

  it("retries: Istio's default policy when none is given; explicit attempts, per-try timeout and conditions; 0 attempts disables", () => {
    const config = build({
      resources: [
        vs("default", "ratings", {
          hosts: ["ratings"],
          http: http(
            { match: [{ uri: { prefix: "/default" } }], route: [{ destination: { host: "ratings" } }], timeout: "10s" },
            { match: [{ uri: { prefix: "/explicit" } }], route: [{ destination: { host: "ratings" } }], retries: { attempts: 3, perTryTimeout: "2s", retryOn: "gateway-error, connect-failure,503" } },
            { match: [{ uri: { prefix: "/conditions" } }], route: [{ destination: { host: "ratings" } }], retries: { attempts: 5 } },
            { route: [{ destination: { host: "ratings" } }], retries: { attempts: 0 } },
          ),
        }),
      ],
      proxy: sidecar(),
    });
    const routes = routesOf(config, "default/ratings");
    expect(routes[0]?.retries).toEqual({ attempts: 2, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503"] });
    expect(routes[0]?.timeoutMs).toBe(10_000);
    expect(routes[1]?.retries).toEqual({ attempts: 3, perTryTimeoutMs: 2000, retryOn: ["gateway-error", "connect-failure", "503", "retriable-status-codes"] });
    expect(routes[2]?.retries).toEqual({ attempts: 5, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503"] });
    expect(routes[3]?.retries).toEqual({ attempts: 0, retryOn: [] });
  });

  it("fault injection (percentage, legacy percent, none given means 0%), mirrors, CORS and header operations", () => {
    const config = build({
      resources: [
        vs("default", "ratings", {
          hosts: ["ratings"],
          http: http(
            {
              match: [{ uri: { prefix: "/a" } }],
              route: [{ destination: { host: "ratings", subset: "v1" } }],
              fault: { delay: { fixedDelay: "7s", percentage: { value: 12.5 } }, abort: { httpStatus: 500, percentage: { value: 100 } } },
              mirror: { host: "ratings", subset: "v2" },
              mirrorPercentage: { value: 5 },
              corsPolicy: { allowOrigins: [{ exact: "https://a.example.com" }, { regex: "https://.*\\.example\\.com" }], allowMethods: ["GET", "POST"], maxAge: "24h", allowCredentials: true },
              headers: { request: { set: { "x-b": "2", "x-a": "1" }, remove: ["x-internal"] }, response: { add: { "x-served-by": "weft" } } },
            },
            {
              route: [{ destination: { host: "ratings", subset: "v1" } }],
              fault: { delay: { fixedDelay: "1s", percent: 30 }, abort: { grpcStatus: "UNAVAILABLE" } },
              mirrors: [{ destination: { host: "shadow" }, percentage: { value: 50 } }, { destination: { host: "audit" } }],
              corsPolicy: { allowOrigin: ["https://legacy.example.com"] },
            },
          ),
        }),
      ],
      proxy: sidecar(),
    });
    const [a, b] = routesOf(config, "default/ratings");
    expect(a?.fault).toEqual({ delay: { fixedDelayMs: 7000, percentage: 12.5 }, abort: { httpStatus: 500, percentage: 100 } });
    expect(a?.mirrors).toEqual([{ cluster: "outbound|80|v2|ratings.default.svc.cluster.local", percentage: 5 }]);
    expect(a?.cors).toEqual({
      allowOrigins: [{ exact: "https://a.example.com" }, { regex: "https://.*\\.example\\.com" }],
      allowMethods: ["GET", "POST"],
      maxAgeSeconds: 86400,
      allowCredentials: true,
    });
    expect(JSON.stringify(a?.headers)).toBe(JSON.stringify({ request: { set: { "x-a": "1", "x-b": "2" }, remove: ["x-internal"] }, response: { add: { "x-served-by": "weft" } } }));
    expect(b?.fault).toEqual({ delay: { fixedDelayMs: 1000, percentage: 30 }, abort: { httpStatus: 503, percentage: 0 } });
    expect(b?.mirrors).toEqual([
      { cluster: "outbound|80||shadow.default.svc.cluster.local", percentage: 50 },
      { cluster: "outbound|80||audit.default.svc.cluster.local", percentage: 100 },
    ]);
    expect(b?.cors).toEqual({ allowOrigins: [{ exact: "https://legacy.example.com" }] });
    for (const m of [...(a?.mirrors ?? []), ...(b?.mirrors ?? [])]) expect(cluster(config, m.cluster)).toBeDefined();
  });
});

describe("delegation", () => {
  it("replaces a delegating route with the delegate's routes, matches merged, unset fields inherited from the root", () => {
    const config = build({
      resources: [
        vs("default", "root", {
          hosts: ["shop.example.com"],
          gateways: ["public"],
          http: http(
            { name: "api", match: [{ uri: { prefix: "/api" } }], timeout: "3s", delegate: { name: "api-routes", namespace: "backend" } },
            { name: "fallback", route: [{ destination: { host: "web" } }] },
          ),
        }),
        vs("backend", "api-routes", {
          http: http(
            { name: "orders", match: [{ uri: { prefix: "/api/orders" } }], route: [{ destination: { host: "orders" } }] },
            { name: "elsewhere", match: [{ uri: { prefix: "/other" } }], route: [{ destination: { host: "other" } }] },
            { route: [{ destination: { host: "catalog" } }], timeout: "1s" },
          ),
        }),
      ],
      proxy: gatewayProxy("default", "default/public"),
    });
    const routes = routesOf(config, "default/root");
    // `/other` is not inside the root's `/api`: Istio drops the conflicting delegate route.
    expect(routes.map((r) => r.name)).toEqual(["api-orders", "api", "fallback"]);
    expect(routes[0]?.match).toEqual([{ uri: { prefix: "/api/orders" } }]);
    expect(routes[0]?.timeoutMs).toBe(3000);
    expect(destinations(routes[0])).toEqual([["outbound|80||orders.backend.svc.cluster.local", 100]]);
    expect(routes[1]?.match).toEqual([{ uri: { prefix: "/api" } }]);
    expect(routes[1]?.timeoutMs).toBe(1000);
    // A delegate has no hosts: it is never a virtual host of its own.
    expect(listener(config).virtualHosts.map((vh) => vh.name)).toEqual(["default/root"]);
  });

  it("a delegate that is missing or not exported to the root's namespace contributes nothing", () => {
    const config = build({
      resources: [
        vs("default", "root", { hosts: ["root"], http: http({ delegate: { name: "missing" } }, { delegate: { name: "hidden", namespace: "other" } }, to("root")) }),
        vs("other", "hidden", { exportTo: ["."], http: http(to("hidden")) }),
      ],
      proxy: sidecar(),
    });
    expect(routesOf(config, "default/root").map((r) => r.name)).toEqual(["default/root/0"]);
  });
});

describe("two VirtualServices for one host", () => {
  const older = vs("default", "b-older", { hosts: ["web.example.com"], gateways: ["mesh", "public"], http: http(to("web-v1"), to("never")) }, "2024-01-01T00:00:00Z");
  const newer = vs("default", "a-newer", { hosts: ["web.example.com"], gateways: ["mesh", "public"], http: http({ match: [{ uri: { prefix: "/beta" } }], route: [{ destination: { host: "web-v2" } }] }) }, "2024-06-01T00:00:00Z");

  it("a sidecar keeps the oldest one's routes", () => {
    const config = build({ resources: [newer, older], proxy: sidecar() });
    expect(listener(config).virtualHosts.map((vh) => vh.name)).toEqual(["default/b-older"]);
    expect(config.clusters.some((c) => c.host.startsWith("web-v2"))).toBe(false);
  });

  it("a gateway concatenates them, oldest first, catch-all routes last", () => {
    const config = build({ resources: [newer, older], proxy: gatewayProxy("default", "default/public") });
    expect(routesOf(config, "default/b-older,default/a-newer").map((r) => r.name)).toEqual(["default/a-newer/0", "default/b-older/0", "default/b-older/1"]);
  });
});

describe("listeners", () => {
  it("port 0 holds every route; a port named by a match gets a listener with what can match there", () => {
    const config = build({
      resources: [
        vs("default", "multi", {
          hosts: ["multi"],
          http: http(
            { match: [{ port: 8080, uri: { prefix: "/admin" } }], route: [{ destination: { host: "admin" } }] },
            { match: [{ port: 9090 }], route: [{ destination: { host: "metrics" } }] },
            to("multi"),
          ),
        }),
      ],
      proxy: sidecar(),
    });
    expect(config.listeners.map((l) => l.port)).toEqual([0, 8080, 9090]);
    expect(routesOf(config, "default/multi").map((r) => r.name)).toEqual(["default/multi/0", "default/multi/1", "default/multi/2"]);
    expect(routesOf(config, "default/multi", 8080).map((r) => r.name)).toEqual(["default/multi/0", "default/multi/2"]);
    expect(routesOf(config, "default/multi", 9090).map((r) => r.name)).toEqual(["default/multi/1", "default/multi/2"]);
    // A destination without a port goes to the port its route's matches are limited to.
    expect(destinations(routesOf(config, "default/multi")[0])).toEqual([["outbound|8080||admin.default.svc.cluster.local", 100]]);
  });

  it("a proxy with nothing to route still gets the any-port listener", () => {
    const config = build({ resources: [], proxy: sidecar() });
    expect(config.listeners).toEqual([{ port: 0, virtualHosts: [] }]);
    expect(config.clusters).toEqual([]);
  });
});

describe("determinism", () => {
  it("the same resources in any order give byte-identical JSON", () => {
    const resources = [
      vs("default", "reviews", { hosts: ["reviews"], http: http({ match: [{ headers: { b: { exact: "1" }, a: { prefix: "x" } } }], route: [{ destination: { host: "reviews", subset: "v2" } }] }, to("reviews")) }),
      vs("default", "ratings", { hosts: ["ratings"], http: http(to("ratings")) }),
      vs("shop", "cart", { hosts: ["cart.shop.svc.cluster.local"], http: http({ route: [{ destination: { host: "cart" }, weight: 30 }, { destination: { host: "cart", subset: "v2" }, weight: 70 }] }) }),
      { kind: "DestinationRule", apiVersion: "networking.istio.io/v1", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v2", labels: { version: "v2" } }] } },
    ];
    const endpoints = [{ host: REVIEWS, port: 80, endpoints: [{ address: "10.0.0.2", port: 9080, labels: { version: "v2" } }, { address: "10.0.0.1", port: 9080, labels: { version: "v1" } }] }];
    const proxy = sidecar("default", { app: "productpage", version: "v1" });
    const reference = JSON.stringify(buildProxyConfig({ resources, proxy, endpoints }));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 20; round++) {
      const shuffled = [...resources].sort(() => random() - 0.5);
      const shuffledEndpoints = endpoints.map((e) => ({ ...e, endpoints: [...e.endpoints].sort(() => random() - 0.5) }));
      const shuffledProxy = { ...proxy, labels: round % 2 === 0 ? { version: "v1", app: "productpage" } : proxy.labels };
      expect(JSON.stringify(buildProxyConfig({ resources: shuffled, proxy: shuffledProxy, endpoints: shuffledEndpoints }))).toBe(reference);
    }
    expect(JSON.parse(reference).clusters.map((c: { name: string }) => c.name)).toEqual([
      "outbound|80|v2|reviews.default.svc.cluster.local",
      "outbound|80||cart.shop.svc.cluster.local",
      "outbound|80||ratings.default.svc.cluster.local",
      "outbound|80||reviews.default.svc.cluster.local",
      "outbound|80|v2|cart.shop.svc.cluster.local",
    ].sort());
  });
});
