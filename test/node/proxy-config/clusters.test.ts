/**
 * @module test/node/proxy-config/clusters
 * How destinations become clusters: Istio's names, the port when a destination gives none,
 * endpoints from the registry or a ServiceEntry narrowed by subset labels, and the DestinationRule
 * policy (which rule applies, subset and port-level overrides, each policy part mapped).
 */
import { describe, expect, it } from "vitest";
import type { IstioObject, ServiceEndpoints } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { build, cluster, dr, se, sidecar, vs } from "./support.js";

const REVIEWS = "reviews.default.svc.cluster.local";

/** A VirtualService in `default` sending one route to each destination given. */
function routeTo(...dests: Record<string, unknown>[]): IstioObject {
  return vs("default", "probe", { hosts: ["probe.test"], http: dests.map((destination, i) => ({ match: [{ uri: { exact: `/${i}` } }], route: [{ destination }] })) });
}

const reviewsEndpoints: ServiceEndpoints[] = [
  {
    host: REVIEWS,
    port: 9080,
    endpoints: [
      { address: "10.0.0.3", port: 9080, labels: { app: "reviews", version: "v3" } },
      { address: "10.0.0.1", port: 9080, labels: { app: "reviews", version: "v1" } },
      { address: "10.0.0.2", port: 9080, labels: { app: "reviews", version: "v2" } },
    ],
  },
];

const reviewsRule = dr("default", "reviews", {
  host: "reviews",
  trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" }, connectionPool: { tcp: { maxConnections: 100, connectTimeout: "250ms" }, http: { http1MaxPendingRequests: 10, maxRetries: 3 } } },
  subsets: [
    { name: "v1", labels: { version: "v1" } },
    { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "X-User" } } } },
  ],
});

describe("cluster names and ports", () => {
  it("outbound|<port>|<subset>|<host>; the port from the destination, else the service's only port, else 80", () => {
    const config = build({
      resources: [
        routeTo({ host: "reviews" }, { host: "reviews", subset: "v1", port: { number: 9081 } }, { host: "api.example.com" }, { host: "unknown" }),
        se("default", "api", { hosts: ["api.example.com"], ports: [{ number: 443, name: "https", protocol: "HTTPS" }], resolution: "DNS" }),
      ],
      proxy: sidecar(),
      endpoints: reviewsEndpoints,
    });
    expect(config.clusters.map((c) => [c.name, c.port, c.subset])).toEqual([
      ["outbound|443||api.example.com", 443, undefined],
      ["outbound|80||unknown.default.svc.cluster.local", 80, undefined],
      [`outbound|9080||${REVIEWS}`, 9080, undefined],
      [`outbound|9081|v1|${REVIEWS}`, 9081, "v1"],
    ]);
  });

  it("a Kubernetes Service with one port gives it; with several, 80 is used", () => {
    const service = (name: string, ports: number[]): IstioObject => ({ kind: "Service", apiVersion: "v1", metadata: { name, namespace: "default" }, spec: { ports: ports.map((port) => ({ port })) } });
    const config = build({ resources: [routeTo({ host: "one" }, { host: "two" }), service("one", [9080]), service("two", [8080, 8443])], proxy: sidecar() });
    // The route's picks, plus the default routes' clusters of every port of "two" (no VirtualService routes it).
    expect(config.clusters.map((c) => c.name)).toEqual([
      "outbound|8080||two.default.svc.cluster.local",
      "outbound|80||two.default.svc.cluster.local",
      "outbound|8443||two.default.svc.cluster.local",
      "outbound|9080||one.default.svc.cluster.local",
    ]);
  });

  it("a service no VirtualService routes gets a default route on each port; one that is routed does not", () => {
    const service = (name: string, ports: number[]): IstioObject => ({ kind: "Service", apiVersion: "v1", metadata: { name, namespace: "default" }, spec: { ports: ports.map((port) => ({ port })) } });
    const config = build({ resources: [routeTo({ host: "one" }), service("one", [9080]), service("plain", [8080, 9090])], proxy: sidecar() });
    const plain = "plain.default.svc.cluster.local";
    for (const port of [8080, 9090]) {
      const listener = config.listeners.find((l) => l.port === port);
      expect(listener?.virtualHosts).toEqual([
        { name: `${plain}:${port}`, domains: [plain], routes: [expect.objectContaining({ name: "default", match: [], action: { kind: "route", destinations: [{ cluster: `outbound|${port}||${plain}`, weight: 100 }] } })] },
      ]);
    }
    expect(config.listeners.flatMap((l) => l.virtualHosts).filter((vh) => vh.domains.includes("one.default.svc.cluster.local"))).toHaveLength(1);
    const gateway = build({ resources: [service("plain", [8080])], proxy: { ...sidecar(), kind: "gateway", gateways: ["default/gw"] } });
    expect(gateway.listeners.flatMap((l) => l.virtualHosts)).toEqual([]);
  });
});

describe("endpoints", () => {
  it("come from the registry, sorted, narrowed to the subset's labels", () => {
    const config = build({ resources: [routeTo({ host: "reviews" }, { host: "reviews", subset: "v2" }), reviewsRule], proxy: sidecar(), endpoints: reviewsEndpoints });
    expect(cluster(config, `outbound|9080||${REVIEWS}`).endpoints.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    expect(cluster(config, `outbound|9080|v2|${REVIEWS}`).endpoints).toEqual([{ address: "10.0.0.2", port: 9080, labels: { app: "reviews", version: "v2" } }]);
  });

  it("a subset no DestinationRule defines selects no endpoints", () => {
    const config = build({ resources: [routeTo({ host: "reviews", subset: "v9" }), reviewsRule], proxy: sidecar(), endpoints: reviewsEndpoints });
    expect(cluster(config, `outbound|9080|v9|${REVIEWS}`).endpoints).toEqual([]);
  });

  it("come from a ServiceEntry's static endpoints (named port, weight, labels), or its host for DNS without endpoints", () => {
    const config = build({
      resources: [
        routeTo({ host: "db.internal", subset: "primary" }, { host: "api.example.com" }, { host: "passthrough.example.com" }),
        se("default", "db", {
          hosts: ["db.internal"],
          ports: [{ number: 5432, name: "tcp-pg", protocol: "TCP", targetPort: 15432 }],
          resolution: "STATIC",
          endpoints: [{ address: "10.1.0.2", labels: { role: "replica" } }, { address: "10.1.0.1", ports: { "tcp-pg": 6432 }, labels: { role: "primary" }, weight: 3 }],
        }),
        dr("default", "db", { host: "db.internal", subsets: [{ name: "primary", labels: { role: "primary" } }] }),
        se("default", "api", { hosts: ["api.example.com"], ports: [{ number: 443, name: "https", protocol: "HTTPS" }], resolution: "DNS" }),
        se("default", "passthrough", { hosts: ["passthrough.example.com"], ports: [{ number: 80, name: "http", protocol: "HTTP" }], resolution: "NONE" }),
      ],
      proxy: sidecar(),
    });
    expect(cluster(config, "outbound|5432|primary|db.internal").endpoints).toEqual([{ address: "10.1.0.1", port: 6432, labels: { role: "primary" }, weight: 3 }]);
    expect(cluster(config, "outbound|443||api.example.com").endpoints).toEqual([{ address: "api.example.com", port: 443, labels: {} }]);
    expect(cluster(config, "outbound|80||passthrough.example.com").endpoints).toEqual([]);
  });

  it("a ServiceEntry not exported to the proxy's namespace is not used", () => {
    const entry = se("other", "api", { hosts: ["api.example.com"], exportTo: ["."], ports: [{ number: 443, name: "https" }], resolution: "DNS" });
    const config = build({ resources: [routeTo({ host: "api.example.com" }), entry], proxy: sidecar() });
    expect(cluster(config, "outbound|80||api.example.com").endpoints).toEqual([]);
  });
});

describe("DestinationRule traffic policy", () => {
  it("with no rule: Istio's default load balancer, nothing else", () => {
    const config = build({ resources: [routeTo({ host: "reviews" })], proxy: sidecar(), endpoints: reviewsEndpoints });
    expect(cluster(config, `outbound|9080||${REVIEWS}`).policy).toEqual({ loadBalancer: { kind: "LEAST_REQUEST" } });
  });

  it("a subset's policy overrides the top-level one part by part", () => {
    const config = build({ resources: [routeTo({ host: "reviews", subset: "v1" }, { host: "reviews", subset: "v2" }), reviewsRule], proxy: sidecar(), endpoints: reviewsEndpoints });
    const pool = { maxConnections: 100, connectTimeoutMs: 250, http1MaxPendingRequests: 10, maxRetries: 3 };
    expect(cluster(config, `outbound|9080|v1|${REVIEWS}`).policy).toEqual({ loadBalancer: { kind: "ROUND_ROBIN" }, connectionPool: pool });
    expect(cluster(config, `outbound|9080|v2|${REVIEWS}`).policy).toEqual({
      loadBalancer: { kind: "RING_HASH", hashOn: { header: "x-user" }, minimumRingSize: 1024 },
      connectionPool: pool,
    });
  });

  it("portLevelSettings for the cluster's port replace the policy parts wholesale (top level and subset)", () => {
    const rule = dr("default", "ratings", {
      host: "ratings",
      trafficPolicy: {
        loadBalancer: { simple: "RANDOM" },
        tls: { mode: "ISTIO_MUTUAL" },
        portLevelSettings: [{ port: { number: 8443 }, tls: { mode: "SIMPLE", sni: "ratings.example.com" } }],
      },
      subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: "ROUND_ROBIN" } }] } }],
    });
    const config = build({
      resources: [routeTo({ host: "ratings", port: { number: 8443 } }, { host: "ratings", port: { number: 9080 } }, { host: "ratings", subset: "v1", port: { number: 9080 } }), rule],
      proxy: sidecar(),
    });
    const host = "ratings.default.svc.cluster.local";
    // Port-level settings do not inherit: the load balancer falls back to the default, not RANDOM.
    expect(cluster(config, `outbound|8443||${host}`).policy).toEqual({ loadBalancer: { kind: "LEAST_REQUEST" }, tls: { mode: "SIMPLE", sni: "ratings.example.com" } });
    expect(cluster(config, `outbound|9080||${host}`).policy).toEqual({ loadBalancer: { kind: "RANDOM" }, tls: { mode: "ISTIO_MUTUAL" } });
    expect(cluster(config, `outbound|9080|v1|${host}`).policy).toEqual({ loadBalancer: { kind: "ROUND_ROBIN" } });
  });

  it("maps outlier detection with Istio's defaults, the legacy consecutiveErrors, Maglev, cookie and source-IP hashing", () => {
    const rules = [
      dr("default", "a", { host: "a", trafficPolicy: { outlierDetection: { consecutive5xxErrors: 7 } } }),
      dr("default", "b", {
        host: "b",
        trafficPolicy: { outlierDetection: { consecutiveErrors: 3, interval: "1m", baseEjectionTime: "15s", maxEjectionPercent: 50, minHealthPercent: 20 } },
      }),
      dr("default", "c", { host: "c", trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: "session", path: "/", ttl: "1h" }, maglev: { tableSize: 1009 } } } } }),
      dr("default", "d", { host: "d", trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 2048 } } } } }),
      dr("default", "e", { host: "e", trafficPolicy: { loadBalancer: { simple: "LEAST_CONN" }, tls: { sni: "e.example.com", subjectAltNames: ["spiffe://e"] } } }),
    ];
    const config = build({ resources: [routeTo({ host: "a" }, { host: "b" }, { host: "c" }, { host: "d" }, { host: "e" }), ...rules], proxy: sidecar() });
    const policy = (h: string) => cluster(config, `outbound|80||${h}.default.svc.cluster.local`).policy;
    expect(policy("a").outlierDetection).toEqual({ consecutive5xxErrors: 7, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
    expect(policy("b").outlierDetection).toEqual({
      consecutive5xxErrors: 0,
      consecutiveGatewayErrors: 3,
      intervalMs: 60_000,
      baseEjectionTimeMs: 15_000,
      maxEjectionPercent: 50,
      minHealthPercent: 20,
    });
    expect(policy("c").loadBalancer).toEqual({ kind: "MAGLEV", hashOn: { cookie: { name: "session", path: "/", ttlMs: 3_600_000 } }, tableSize: 1009 });
    expect(policy("d").loadBalancer).toEqual({ kind: "RING_HASH", hashOn: { sourceIp: true }, minimumRingSize: 2048 });
    expect(policy("e")).toEqual({ loadBalancer: { kind: "LEAST_REQUEST" }, tls: { mode: "DISABLE", sni: "e.example.com", subjectAltNames: ["spiffe://e"] } });
  });
});

describe("which DestinationRule applies", () => {
  const mode = (resources: IstioObject[], ns: string, labels: Record<string, string> = {}) =>
    build({ resources: [vs(ns, "probe", { hosts: ["probe.test"], http: [{ route: [{ destination: { host: REVIEWS } }] }] }), ...resources], proxy: sidecar(ns, labels) }).clusters[0]?.policy.tls?.mode;
  const tls = (ns: string, name: string, m: string, extra: Record<string, unknown> = {}) => dr(ns, name, { host: REVIEWS, trafficPolicy: { tls: { mode: m } }, ...extra });

  it("the proxy's namespace first, then the service's, then the root namespace", () => {
    const all = [tls("client", "local", "SIMPLE"), tls("default", "service", "MUTUAL"), tls("istio-system", "root", "ISTIO_MUTUAL")];
    expect(mode(all, "client")).toBe("SIMPLE");
    expect(mode(all.slice(1), "client")).toBe("MUTUAL");
    expect(mode(all.slice(2), "client")).toBe("ISTIO_MUTUAL");
    expect(mode([], "client")).toBeUndefined();
  });

  it("a proxy in the root namespace looks at the service's namespace before its own", () => {
    expect(mode([tls("default", "service", "MUTUAL"), tls("istio-system", "root", "ISTIO_MUTUAL")], "istio-system")).toBe("MUTUAL");
  });

  it("honours exportTo for rules of other namespaces, never for the proxy's own", () => {
    expect(mode([tls("default", "service", "MUTUAL", { exportTo: ["."] }), tls("istio-system", "root", "ISTIO_MUTUAL")], "client")).toBe("ISTIO_MUTUAL");
    expect(mode([tls("default", "service", "MUTUAL", { exportTo: ["client"] })], "client")).toBe("MUTUAL");
    expect(mode([tls("client", "local", "SIMPLE", { exportTo: ["elsewhere"] })], "client")).toBe("SIMPLE");
  });

  it("an exact host beats a wildcard; a workloadSelector rule applies only to the workloads it selects", () => {
    expect(mode([dr("client", "wild", { host: "*.svc.cluster.local", trafficPolicy: { tls: { mode: "SIMPLE" } } }), tls("client", "exact", "MUTUAL")], "client")).toBe("MUTUAL");
    expect(mode([dr("client", "wild", { host: "*.default.svc.cluster.local", trafficPolicy: { tls: { mode: "SIMPLE" } } })], "client")).toBe("SIMPLE");
    const selecting = tls("client", "for-canary", "MUTUAL", { workloadSelector: { matchLabels: { track: "canary" } } });
    expect(mode([selecting, tls("client", "everyone", "SIMPLE")], "client", { track: "canary" })).toBe("MUTUAL");
    expect(mode([selecting, tls("client", "everyone", "SIMPLE")], "client", { track: "stable" })).toBe("SIMPLE");
  });

  it("rules for the same host in one namespace merge: the oldest's policy, every distinct subset", () => {
    const older = dr("default", "z-first", { host: "reviews", trafficPolicy: { loadBalancer: { simple: "RANDOM" } }, subsets: [{ name: "v1", labels: { version: "v1" } }] }, "2024-01-01T00:00:00Z");
    const newer = dr("default", "a-second", { host: "reviews", trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } }, subsets: [{ name: "v2", labels: { version: "v2" } }] }, "2024-02-01T00:00:00Z");
    const config = build({ resources: [newer, older, routeTo({ host: "reviews", subset: "v1" }, { host: "reviews", subset: "v2" })], proxy: sidecar(), endpoints: reviewsEndpoints });
    expect(cluster(config, `outbound|9080|v1|${REVIEWS}`).policy.loadBalancer).toEqual({ kind: "RANDOM" });
    expect(cluster(config, `outbound|9080|v2|${REVIEWS}`).endpoints.map((e) => e.address)).toEqual(["10.0.0.2"]);
  });
});
