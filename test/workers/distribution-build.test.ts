// Building proxy configs from the real D1 snapshot inside workerd: resources applied through the
// Worker's API, workloads and synced Kubernetes objects written straight into their tables, then
// loadSnapshot + buildConfigForProxy: registry endpoints in clusters, subsets, CA trust and revoked
// serials, versions that follow relevant changes only (Sidecar scope), snapshot reuse and shared builds.
import { env } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { type ConfigCache, buildConfigForProxy, configForProxy, createConfigCache } from "../../control/distribution/build-config.js";
import type { ProxyRegistration } from "../../control/distribution/contracts.js";
import { createSnapshotCache, loadSnapshot, readRevisions } from "../../control/distribution/snapshot.js";
import { kubeObjectsTable, registryRevisionTable, revokedCertificatesTable, workloadsTable } from "../../control/store/schema.js";
import { validateProxyConfig } from "../../edge-proxy/core/config/validate-proxy-config.js";
import { apply, call } from "./helpers.js";

const db = () => drizzle(env.DB);
const NOW = new Date("2026-05-01T12:00:00Z");
const TRUST = { trustDomain: "cluster.local" };

const MESH = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: billing, namespace: vm }
spec:
  hosts: [billing.internal]
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: 8080 }]
  resolution: STATIC
  workloadSelector: { labels: { app: billing } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: billing, namespace: default }
spec:
  hosts: [billing.internal]
  http: [{ route: [{ destination: { host: billing.internal } }] }]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: default }
spec:
  egress: [{ hosts: ["./*", "istio-system/*"] }]
`;

interface WorkloadInput {
  namespace: string;
  name: string;
  address: string;
  labels: Record<string, string>;
  ports?: { port: number; name?: string }[];
  expiresAt?: string;
}

async function registerWorkloads(...workloads: WorkloadInput[]): Promise<void> {
  await db()
    .insert(workloadsTable)
    .values(
      workloads.map((w) => ({
        id: `${w.name}.${w.namespace}`,
        namespace: w.namespace,
        name: w.name,
        serviceAccount: w.labels.app ?? "default",
        address: w.address,
        labels: w.labels,
        ports: w.ports ?? [],
        proxyKind: "sidecar" as const,
        gateways: [],
        registeredBy: "admin",
        registeredAt: "2026-05-01T11:00:00Z",
        lastSeenAt: "2026-05-01T11:59:00Z",
        expiresAt: w.expiresAt ?? "2026-05-01T13:00:00Z",
      })),
    );
}

async function syncService(namespace: string, name: string, spec: unknown): Promise<void> {
  await db()
    .insert(kubeObjectsTable)
    .values({ cluster: "east", kind: "Service", namespace, name, object: JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec }), updatedAt: NOW.toISOString() });
}

function registration(namespace: string, name: string, labels: Record<string, string>): ProxyRegistration {
  return {
    id: `${name}.${namespace}`,
    namespace,
    name,
    serviceAccount: labels.app ?? "default",
    address: "10.99.0.1",
    labels,
    ports: [],
    kind: "sidecar",
    gateways: [],
    registeredBy: "admin",
    registeredAt: NOW.toISOString(),
    lastSeenAt: NOW.toISOString(),
    expiresAt: "2026-05-01T13:00:00Z",
  };
}

const PRODUCTPAGE = registration("default", "productpage-v1-abc12", { app: "productpage", version: "v1" });

async function build(proxy = PRODUCTPAGE) {
  const snapshot = await loadSnapshot(db(), NOW, TRUST);
  const built = await buildConfigForProxy(snapshot, proxy);
  const check = validateProxyConfig(built.config);
  expect(check.ok ? [] : check.errors).toEqual([]);
  return { snapshot, ...built };
}

async function setUp(): Promise<void> {
  expect((await apply(MESH)).status).toBe(200);
  await registerWorkloads(
    { namespace: "default", name: "reviews-v1-aaa", address: "10.1.0.1", labels: { app: "reviews", version: "v1" }, ports: [{ port: 9080, name: "http" }] },
    { namespace: "default", name: "reviews-v2-bbb", address: "10.1.0.2", labels: { app: "reviews", version: "v2" }, ports: [{ port: 9080, name: "http" }] },
    { namespace: "default", name: "reviews-v3-old", address: "10.1.0.3", labels: { app: "reviews", version: "v1" }, expiresAt: "2026-05-01T11:59:59Z" },
    { namespace: "vm", name: "billing-vm-1", address: "192.168.0.10", labels: { app: "billing" }, ports: [{ port: 18080, name: "http" }] },
    { namespace: "vm", name: "billing-vm-2", address: "192.168.0.11", labels: { app: "billing" } },
  );
  await syncService("default", "reviews", { selector: { app: "reviews" }, ports: [{ name: "http", port: 9080, targetPort: 9080 }] });
}

describe("the snapshot", () => {
  it("reads resources as Istio objects, live workloads, synced objects and revisions (registry 0 without a row)", async () => {
    await setUp();
    const snapshot = await loadSnapshot(db(), NOW, TRUST);
    expect(snapshot.revisions.mesh).toBeGreaterThan(0);
    expect(snapshot.revisions.registry).toBe(0);
    const vs = snapshot.resources.find((r) => r.kind === "VirtualService" && r.metadata.name === "reviews")!;
    expect(vs).toMatchObject({ apiVersion: "networking.istio.io/v1", metadata: { name: "reviews", namespace: "default" }, spec: { hosts: ["reviews"] } });
    expect(vs.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(snapshot.workloads.map((w) => w.name).sort()).toEqual(["billing-vm-1", "billing-vm-2", "reviews-v1-aaa", "reviews-v2-bbb"]);
    expect(snapshot.kube).toEqual([expect.objectContaining({ kind: "Service", namespace: "default", name: "reviews" })]);
    expect(snapshot.buildResources.some((r) => r.kind === "Service" && r.apiVersion === "v1" && r.metadata.name === "reviews")).toBe(true);

    await db().insert(registryRevisionTable).values({ id: 1, revision: 7 });
    expect((await loadSnapshot(db(), NOW, TRUST)).revisions.registry).toBe(7);
    expect(await readRevisions(db())).toEqual((await loadSnapshot(db(), NOW, TRUST)).revisions);
  });
});

describe("building from D1", () => {
  it("a registered workload is an endpoint of the Service and the ServiceEntry selecting it; subsets filter by labels", async () => {
    await setUp();
    const { config } = await build();
    const byName = new Map(config.clusters.map((c) => [c.name, c]));
    expect(byName.get("outbound|9080|v1|reviews.default.svc.cluster.local")?.endpoints).toEqual([{ address: "10.1.0.1", port: 9080, labels: { app: "reviews", version: "v1" } }]);
    expect(byName.get("outbound|9080|v2|reviews.default.svc.cluster.local")?.endpoints).toEqual([{ address: "10.1.0.2", port: 9080, labels: { app: "reviews", version: "v2" } }]);
    // The ServiceEntry port is named http: a workload's port of that name, else the targetPort.
    expect(byName.get("outbound|80||billing.internal")?.endpoints).toEqual([
      { address: "192.168.0.10", port: 18080, labels: { app: "billing" } },
      { address: "192.168.0.11", port: 8080, labels: { app: "billing" } },
    ]);
    expect(config.proxy).toEqual({ kind: "sidecar", namespace: "default", labels: { app: "productpage", version: "v1" }, gateways: ["mesh"], workload: "productpage", serviceAccount: "productpage" });
  });

  it("trust: absent until the CA has a root, then its roots and the revoked serials", async () => {
    await setUp();
    expect((await build()).config.trust).toBeUndefined();
    const bundle = new TextDecoder().decode(await (await call("GET", "/v1/ca/roots", { token: null })).arrayBuffer());
    await db().insert(revokedCertificatesTable).values([
      { serial: "7f01", revokedAt: "2026-05-01T10:00:00Z", reason: "keyCompromise" },
      { serial: "1a2b", revokedAt: "2026-05-01T10:05:00Z", reason: null },
    ]);
    const { config } = await build();
    expect(config.trust?.trustDomain).toBe("cluster.local");
    expect(config.trust?.roots).toEqual([bundle.trim()]);
    expect(config.trust?.revokedSerials).toEqual(["1a2b", "7f01"]);
  });

  it("the version changes with a relevant resource and stays with one outside the proxy's Sidecar scope", async () => {
    await setUp();
    const first = await build();
    expect(first.version).toMatch(/^[0-9a-f]{64}$/);

    await apply(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: cart, namespace: shop }
spec:
  hosts: [cart]
  http: [{ route: [{ destination: { host: cart } }] }]
`);
    const unrelated = await build();
    expect(unrelated.snapshot.revisions.mesh).toBeGreaterThan(first.snapshot.revisions.mesh);
    expect(unrelated.version).toBe(first.version);
    // Without the Sidecar's scope, the same proxy in another namespace does see it.
    const unscoped = await build(registration("web", "front-1", { app: "front" }));
    expect(unscoped.config.listeners[0]!.virtualHosts.map((vh) => vh.name)).toContain("shop/cart");

    await apply(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`);
    const relevant = await build();
    expect(relevant.version).not.toBe(first.version);
    expect(relevant.config.clusters.find((c) => c.subset === "v1")?.policy.loadBalancer).toEqual({ kind: "ROUND_ROBIN" });

    await registerWorkloads({ namespace: "default", name: "reviews-v1-ccc", address: "10.1.0.4", labels: { app: "reviews", version: "v1" } });
    expect((await build()).version).not.toBe(relevant.version);
  });
});

describe("peer authentication through the build", () => {
  it("follows Istio's precedence: workload selector over namespace over the root namespace, port-level overrides from the workload policy", async () => {
    const policies = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: mesh, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: shop, namespace: shop }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: cart, namespace: shop }
spec:
  selector: { matchLabels: { app: cart } }
  mtls: { mode: DISABLE }
  portLevelMtls: { "8080": { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: inherit, namespace: shop }
spec:
  selector: { matchLabels: { app: search } }
  mtls: { mode: UNSET }
`;
    expect((await apply(policies)).status).toBe(200);
    const modeOf = async (namespace: string, labels: Record<string, string>) => (await build(registration(namespace, `${labels.app ?? "w"}-1`, labels))).config.inbound?.peerAuthentication;
    expect(await modeOf("shop", { app: "cart" })).toMatchObject({ mode: "DISABLE", portLevel: { "8080": "STRICT" }, policy: "shop/cart" });
    expect(await modeOf("shop", { app: "search" })).toMatchObject({ mode: "PERMISSIVE" });
    expect(await modeOf("shop", { app: "other" })).toMatchObject({ mode: "PERMISSIVE", policy: "shop/shop" });
    expect(await modeOf("default", { app: "productpage" })).toMatchObject({ mode: "STRICT", policy: "istio-system/mesh" });
  });
});

describe("configForProxy", () => {
  function countingCache(): { cache: ConfigCache; builds: () => number } {
    const inner = createConfigCache();
    let builds = 0;
    const cache: ConfigCache = {
      get size() {
        return inner.size;
      },
      get: (revisions, proxy, build) =>
        inner.get(revisions, proxy, () => {
          builds++;
          return build();
        }),
    };
    return { cache, builds: () => builds };
  }

  it("replicas of one scope share one build; the snapshot is reused until a revision changes", async () => {
    await setUp();
    const { cache, builds } = countingCache();
    const snapshotCache = createSnapshotCache();
    const deps = { db: db(), now: () => NOW, trustDomain: "cluster.local", cache, snapshotCache };
    const replicas = Array.from({ length: 20 }, (_, i) => ({ ...PRODUCTPAGE, id: `productpage-v1-${i}.default`, name: `productpage-v1-${i}`, address: `10.2.0.${i}` }));

    const configs = await Promise.all(replicas.map((r) => configForProxy(deps, r)));
    expect(builds()).toBe(1);
    expect(new Set(configs.map((c) => c.version)).size).toBe(1);
    const held = snapshotCache.current;
    expect(held).toBeDefined();

    await configForProxy(deps, replicas[3]!);
    expect(builds()).toBe(1);
    expect(snapshotCache.current).toBe(held);

    await configForProxy(deps, registration("default", "details-1", { app: "details" }));
    expect(builds()).toBe(2);

    await db().insert(registryRevisionTable).values({ id: 1, revision: 1 });
    const after = await configForProxy(deps, replicas[0]!);
    expect(builds()).toBe(3);
    expect(snapshotCache.current).not.toBe(held);
    expect(after.version).toBe(configs[0]!.version);
  });

  it("a revocation reaches the next config although neither revision moved", async () => {
    await setUp();
    await call("GET", "/v1/ca/roots", { token: null });
    const deps = { db: db(), now: () => NOW, trustDomain: "cluster.local", cache: createConfigCache(), snapshotCache: createSnapshotCache() };
    const before = await configForProxy(deps, PRODUCTPAGE);
    expect(before.config.trust?.revokedSerials).toEqual([]);
    await db().insert(revokedCertificatesTable).values({ serial: "00ff", revokedAt: "2026-05-01T12:00:00Z", reason: null });
    const after = await configForProxy(deps, PRODUCTPAGE);
    expect(after.config.trust?.revokedSerials).toEqual(["00ff"]);
    expect(after.version).not.toBe(before.version);
  });
});
