/**
 * @module test/node/proxy-config/build-config-for-proxy
 * A registered proxy's config from a mesh snapshot (no database: createMeshSnapshot), end to end:
 * PeerAuthentication precedence (mesh → namespace → workload, portLevelMtls, UNSET inheritance),
 * the identity taken from the registration, registry endpoints and trust in the output, the version
 * (SHA-256 of canonical JSON) shared by registrations of one scope, and the build cache.
 */
import { describe, expect, it } from "vitest";
import type { IstioObject } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";
import { buildConfigForProxy, createConfigCache, proxyIdentityOf, proxyScopeKey } from "../../../control/distribution/build-config.js";
import type { BuiltConfig, ProxyRegistration } from "../../../control/distribution/contracts.js";
import { type SnapshotParts, createMeshSnapshot } from "../../../control/distribution/snapshot.js";

const ROOT = "-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----";

function registration(namespace: string, name: string, labels: Record<string, string>, extra: Partial<ProxyRegistration> = {}): ProxyRegistration {
  return {
    id: `${name}.${namespace}`,
    namespace,
    name,
    serviceAccount: "default",
    address: "10.9.0.1",
    labels,
    ports: [],
    kind: "sidecar",
    gateways: [],
    registeredBy: "admin",
    registeredAt: "2024-01-01T00:00:00Z",
    lastSeenAt: "2024-01-01T00:00:00Z",
    expiresAt: "2030-01-01T00:00:00Z",
    ...extra,
  };
}

function peer(namespace: string, name: string, created: string, spec: unknown): IstioObject {
  return { kind: "PeerAuthentication", apiVersion: "security.istio.io/v1", metadata: { name, namespace, creationTimestamp: created }, spec };
}

function snapshot(resources: IstioObject[], parts: Partial<SnapshotParts> = {}) {
  return createMeshSnapshot({
    revisions: { mesh: 1, registry: 0, trust: "" },
    trustDomain: "cluster.local",
    resources,
    workloads: [],
    kube: [],
    trust: { trustDomain: "cluster.local", roots: [], revokedSerials: [] },
    ...parts,
  });
}

async function built(snap: ReturnType<typeof snapshot>, proxy: ProxyRegistration): Promise<BuiltConfig> {
  const result = await buildConfigForProxy(snap, proxy);
  const check = validateProxyConfig(result.config);
  expect(check.ok ? [] : check.errors).toEqual([]);
  return result;
}

const PEER_LEVELS = [
  peer("istio-system", "default", "2024-01-01T00:00:00Z", { mtls: { mode: "STRICT" } }),
  peer("foo", "namespace-wide", "2024-01-02T00:00:00Z", { mtls: { mode: "PERMISSIVE" } }),
  peer("foo", "httpbin", "2024-01-03T00:00:00Z", {
    selector: { matchLabels: { app: "httpbin" } },
    mtls: { mode: "DISABLE" },
    portLevelMtls: { "8080": { mode: "STRICT" }, "9090": { mode: "UNSET" } },
  }),
  peer("foo", "ratings", "2024-01-04T00:00:00Z", { selector: { matchLabels: { app: "ratings" } }, mtls: { mode: "UNSET" }, portLevelMtls: { "9443": { mode: "STRICT" } } }),
  // Newer than the httpbin policy: the oldest workload policy wins.
  peer("foo", "httpbin-newer", "2024-02-01T00:00:00Z", { selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "STRICT" } }),
];

describe("PeerAuthentication precedence through buildConfigForProxy", () => {
  const snap = snapshot(PEER_LEVELS);

  it("mesh-wide (root namespace) when the namespace has no policy", async () => {
    const { config } = await built(snap, registration("bar", "web-1", { app: "web" }));
    expect(config.inbound?.peerAuthentication).toEqual({ mode: "STRICT", policy: "istio-system/default" });
  });

  it("the namespace's policy over the mesh's", async () => {
    const { config } = await built(snap, registration("foo", "other-1", { app: "other" }));
    expect(config.inbound?.peerAuthentication).toEqual({ mode: "PERMISSIVE", policy: "foo/namespace-wide" });
  });

  it("the (oldest) workload policy over both, with portLevelMtls; an UNSET port takes the workload's mode", async () => {
    const { config } = await built(snap, registration("foo", "httpbin-7d9f-abcde", { app: "httpbin", version: "v1" }));
    expect(config.inbound?.peerAuthentication).toEqual({ mode: "DISABLE", policy: "foo/httpbin", portLevel: { "8080": "STRICT", "9090": "DISABLE" } });
  });

  it("a workload policy with UNSET mode inherits the namespace's, keeping its port overrides", async () => {
    const { config } = await built(snap, registration("foo", "ratings-1", { app: "ratings" }));
    expect(config.inbound?.peerAuthentication).toEqual({ mode: "PERMISSIVE", policy: "foo/namespace-wide", portLevel: { "9443": "STRICT" } });
  });

  it("no policy at all: PERMISSIVE", async () => {
    const { config } = await built(snapshot([]), registration("foo", "x", {}));
    expect(config.inbound?.peerAuthentication).toEqual({ mode: "PERMISSIVE" });
  });
});

describe("identity, endpoints, trust and version", () => {
  it("the identity comes from the registration; the workload is the canonical-name, app.kubernetes.io/name or app label, else the name", () => {
    expect(proxyIdentityOf(registration("foo", "httpbin-7d9f-abcde", { app: "httpbin" }, { serviceAccount: "httpbin" }))).toEqual({
      kind: "sidecar",
      namespace: "foo",
      labels: { app: "httpbin" },
      gateways: ["mesh"],
      workload: "httpbin",
      serviceAccount: "httpbin",
    });
    expect(proxyIdentityOf(registration("foo", "p", { app: "a", "service.istio.io/canonical-name": "canon" })).workload).toBe("canon");
    expect(proxyIdentityOf(registration("foo", "p", { app: "a", "app.kubernetes.io/name": "k8s-name" })).workload).toBe("k8s-name");
    expect(proxyIdentityOf(registration("foo", "vm-1", {})).workload).toBe("vm-1");
    const gateway = proxyIdentityOf(registration("istio-system", "ingress-1", { istio: "ingressgateway" }, { kind: "gateway", gateways: ["default/public", "default/admin"] }));
    expect(gateway.gateways).toEqual(["default/public", "default/admin"]);
  });

  it("registrations of one scope (same labels, namespace, account) get one version; the name matters only without naming labels", async () => {
    const snap = snapshot(PEER_LEVELS);
    const a = await built(snap, registration("foo", "httpbin-1", { app: "httpbin" }, { address: "10.0.0.1", id: "httpbin-1.foo" }));
    const b = await built(snap, registration("foo", "httpbin-2", { app: "httpbin" }, { address: "10.0.0.2", id: "httpbin-2.foo" }));
    expect(a.version).toMatch(/^[0-9a-f]{64}$/);
    expect(b.version).toBe(a.version);
    expect(proxyScopeKey(registration("foo", "httpbin-1", { app: "httpbin" }))).toBe(proxyScopeKey(registration("foo", "httpbin-2", { app: "httpbin" }, { address: "10.0.0.2" })));
    expect(proxyScopeKey(registration("foo", "vm-1", {}))).not.toBe(proxyScopeKey(registration("foo", "vm-2", {})));
    const other = await built(snap, registration("foo", "httpbin-3", { app: "httpbin" }, { serviceAccount: "other" }));
    expect(other.version).not.toBe(a.version);
  });

  it("registry endpoints reach the clusters; trust is written once the CA has a root (revoked serials lower-case and sorted)", async () => {
    const resources: IstioObject[] = [
      { kind: "VirtualService", apiVersion: "networking.istio.io/v1", metadata: { name: "reviews", namespace: "default" }, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }] }] } },
    ];
    const parts: Partial<SnapshotParts> = {
      workloads: [{ namespace: "default", name: "reviews-v1", serviceAccount: "reviews", address: "10.1.0.1", labels: { app: "reviews" }, ports: [{ port: 9080, name: "http" }] }],
      kube: [{ kind: "Service", namespace: "default", name: "reviews", object: { metadata: { name: "reviews", namespace: "default" }, spec: { selector: { app: "reviews" }, ports: [{ name: "http", port: 9080 }] } } }],
    };
    const noRoot = await built(snapshot(resources, parts), registration("default", "productpage-1", { app: "productpage" }));
    expect(noRoot.config.trust).toBeUndefined();
    expect(noRoot.config.clusters).toEqual([
      expect.objectContaining({ name: "outbound|9080||reviews.default.svc.cluster.local", endpoints: [{ address: "10.1.0.1", port: 9080, labels: { app: "reviews" } }] }),
    ]);
    const withRoot = await built(
      snapshot(resources, { ...parts, trust: { trustDomain: "cluster.local", roots: [ROOT], revokedSerials: ["0BEEF", "0abc"] } }),
      registration("default", "productpage-1", { app: "productpage" }),
    );
    expect(withRoot.config.trust).toEqual({ trustDomain: "cluster.local", roots: [ROOT], revokedSerials: ["0abc", "0beef"] });
    expect(withRoot.version).not.toBe(noRoot.version);
  });
});

describe("config cache", () => {
  it("one build per (scope, revisions); concurrent misses share it; a new revision or another scope builds again", async () => {
    const cache = createConfigCache();
    const snap = snapshot(PEER_LEVELS);
    let builds = 0;
    const get = (proxy: ProxyRegistration, revisions = { mesh: 1, registry: 0 }) =>
      cache.get(revisions, proxy, async () => {
        builds++;
        return buildConfigForProxy(snap, proxy);
      });
    const replicas = Array.from({ length: 50 }, (_, i) => registration("foo", `httpbin-${i}`, { app: "httpbin" }, { id: `httpbin-${i}.foo`, address: `10.0.0.${i}` }));
    const results = await Promise.all(replicas.map((r) => get(r)));
    expect(builds).toBe(1);
    expect(new Set(results.map((r) => r.version)).size).toBe(1);
    await get(replicas[0]!);
    expect(builds).toBe(1);
    await get(replicas[0]!, { mesh: 2, registry: 0 });
    await get(registration("foo", "ratings-1", { app: "ratings" }));
    expect(builds).toBe(3);
  });

  it("is bounded (least recently used out) and does not keep failed builds", async () => {
    const cache = createConfigCache({ maxEntries: 2 });
    const snap = snapshot([]);
    let builds = 0;
    const get = (app: string) => {
      const proxy = registration("foo", app, { app });
      return cache.get({ mesh: 1, registry: 1 }, proxy, async () => {
        builds++;
        return buildConfigForProxy(snap, proxy);
      });
    };
    await get("a");
    await get("b");
    await get("a"); // a is now the most recent
    await get("c"); // evicts b
    expect(cache.size).toBe(2);
    expect(builds).toBe(3);
    await get("a");
    expect(builds).toBe(3);
    await get("b");
    expect(builds).toBe(4);

    const failing = registration("foo", "broken", { app: "broken" });
    await expect(cache.get({ mesh: 1, registry: 1 }, failing, async () => Promise.reject(new Error("D1 hiccup")))).rejects.toThrow("D1 hiccup");
    await expect(cache.get({ mesh: 1, registry: 1 }, failing, () => buildConfigForProxy(snap, failing))).resolves.toMatchObject({ version: expect.any(String) });
    expect(() => createConfigCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});
