/**
 * @module distribution/build-config
 * Builds one registered proxy's config from a mesh snapshot (Istio's ConfigGenerator over a
 * PushContext): the proxy's identity from its registration, the registry's endpoints, the CA's
 * trust, and `version`, the SHA-256 of the config's canonical JSON. Builds are cached per (scope,
 * revisions), the scope being everything of a registration the build reads, so the replicas of a
 * workload share one build; `configForProxy` ties snapshot reuse and the cache together.
 */
import { type IstioObject, buildProxyConfig } from "../../edge-proxy/core/config/build/build-proxy-config.js";
import { gatewaysSelecting } from "../../edge-proxy/core/config/build/gateway-servers.js";
import type { ProxyIdentity } from "../../edge-proxy/core/config/proxy-config.js";
import { canonicalJson } from "../resources/canonical-json.js";
import type { WeftDatabase } from "../store/resource-store.js";
import type { BuiltConfig, MeshRevisions, ProxyRegistration } from "./contracts.js";
import { ISOLATE_SNAPSHOT_CACHE, type MeshSnapshot, type SnapshotCache, type SnapshotOptions, type SnapshotRevisions, loadSnapshot, readRevisions } from "./snapshot.js";

/** Labels naming a workload for telemetry, in Istio's canonical-name order. */
const WORKLOAD_NAME_LABELS = ["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"] as const;

/**
 * The proxy identity a registration stands for. `gateways` is `["mesh"]` for a sidecar and the
 * registered Gateways for a gateway; a gateway registered without any gets, given `resources`, every
 * Gateway whose selector its labels satisfy (the gateway's own labels select the Gateways meant
 * for it, as in Istio). `workload` is the first of the labels `service.istio.io/canonical-name`,
 * `app.kubernetes.io/name`, `app` (Istio's canonical service name), else the registered name (a
 * Pod's name, hash suffix included, or a VM's).
 */
export function proxyIdentityOf(proxy: ProxyRegistration, resources?: readonly IstioObject[]): ProxyIdentity {
  const named = WORKLOAD_NAME_LABELS.map((l) => proxy.labels[l]).find((v) => v !== undefined && v !== "");
  const gateways =
    proxy.kind === "sidecar" ? ["mesh"] : proxy.gateways.length === 0 && resources !== undefined ? gatewaysSelecting(resources, proxy.labels) : [...proxy.gateways];
  return {
    kind: proxy.kind,
    namespace: proxy.namespace,
    labels: { ...proxy.labels },
    gateways,
    workload: named ?? proxy.name,
    serviceAccount: proxy.serviceAccount,
  };
}

/**
 * Everything of a registration the build reads (kind, namespace, labels, gateways, service account,
 * and the workload name — the registered name only when no naming label is set), as one string.
 * Registrations with equal keys get byte-identical configs from the same snapshot (Gateways selected
 * by labels follow from the labels and the snapshot, both already in the cache key).
 */
export function proxyScopeKey(proxy: ProxyRegistration): string {
  const identity = proxyIdentityOf(proxy);
  return canonicalJson({ ...identity, gateways: [...new Set(identity.gateways)].sort() });
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/**
 * The config of `proxy` from `snapshot`, and its version (lowercase hex SHA-256 of its canonical
 * JSON). `trust` is left out while the CA has no root yet (a proxy would trust no peer at all).
 */
export async function buildConfigForProxy(snapshot: MeshSnapshot, proxy: ProxyRegistration): Promise<BuiltConfig> {
  const config = buildProxyConfig({
    resources: snapshot.buildResources,
    proxy: proxyIdentityOf(proxy, snapshot.buildResources),
    endpoints: snapshot.endpoints,
    clusterDomain: snapshot.clusterDomain,
    rootNamespace: snapshot.rootNamespace,
    ...(snapshot.trust.roots.length > 0 ? { trust: snapshot.trust } : {}),
  });
  return { version: await sha256Hex(canonicalJson(config)), config };
}

/** Revisions a cached build is valid for; `trust` (the snapshot's trust stamp) when the caller has it. */
export type CacheRevisions = MeshRevisions & { trust?: string };

export interface ConfigCache {
  /**
   * The build for `proxy`'s scope at `snapshotRevisions`: cached, or `build()`'s result (one call
   * for concurrent misses of the same key). A failed build is not cached.
   */
  get(snapshotRevisions: CacheRevisions, proxy: ProxyRegistration, build: () => Promise<BuiltConfig>): Promise<BuiltConfig>;
  /** Entries held (settled or in flight). */
  readonly size: number;
}

export const DEFAULT_CACHE_ENTRIES = 1000;

/** A least-recently-used cache of builds keyed by (scope key, revisions), at most `maxEntries` (default 1000). */
export function createConfigCache(options: { maxEntries?: number } = {}): ConfigCache {
  const maxEntries = options.maxEntries ?? DEFAULT_CACHE_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const entries = new Map<string, Promise<BuiltConfig>>();
  return {
    get size() {
      return entries.size;
    },
    get(revisions, proxy, build) {
      const key = `${revisions.mesh}|${revisions.registry}|${revisions.trust ?? ""}|${proxyScopeKey(proxy)}`;
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const promise = build();
      entries.set(key, promise);
      promise.catch(() => {
        if (entries.get(key) === promise) entries.delete(key);
      });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return promise;
    },
  };
}

export interface ConfigForProxyDeps {
  db: WeftDatabase;
  now: () => Date;
  trustDomain: string;
  cache: ConfigCache;
  /** Where the last snapshot is held; default: one per isolate. */
  snapshotCache?: SnapshotCache;
  clusterDomain?: string;
  rootNamespace?: string;
}

/**
 * The current configs of `proxies`, in the order given, all from one snapshot: one cheap read of the
 * revisions (or the caller's, when it just read them); the isolate's snapshot when they match it (else a
 * reload, shared by concurrent callers); the cached build of each proxy's scope when there is one (else a
 * build, shared likewise). A rebuild for a thousand connected proxies is one D1 read and one build per scope.
 */
export async function configsForProxies(deps: ConfigForProxyDeps, proxies: readonly ProxyRegistration[], revisions?: SnapshotRevisions): Promise<BuiltConfig[]> {
  if (proxies.length === 0) return [];
  const options: SnapshotOptions = { trustDomain: deps.trustDomain };
  if (deps.clusterDomain !== undefined) options.clusterDomain = deps.clusterDomain;
  if (deps.rootNamespace !== undefined) options.rootNamespace = deps.rootNamespace;
  const snapshots = deps.snapshotCache ?? ISOLATE_SNAPSHOT_CACHE;
  const current = revisions ?? (await readRevisions(deps.db));
  const snapshot = await snapshots.get(current, options, () => loadSnapshot(deps.db, deps.now(), options));
  return Promise.all(proxies.map((proxy) => deps.cache.get(snapshot.revisions, proxy, () => buildConfigForProxy(snapshot, proxy))));
}

/** The current config of one proxy (see {@link configsForProxies}). */
export async function configForProxy(deps: ConfigForProxyDeps, proxy: ProxyRegistration): Promise<BuiltConfig> {
  const [built] = await configsForProxies(deps, [proxy]);
  return built as BuiltConfig;
}
