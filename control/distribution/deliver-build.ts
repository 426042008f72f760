/**
 * @module distribution/deliver-build
 * The current configs of many proxies at once, for delivery: what `configForProxy` does for one, with a
 * single read of the revisions for all of them. A rebuild for a thousand connected proxies is then one
 * D1 read (plus a snapshot load when something changed) and one build per scope, not a thousand reads.
 */
import { buildConfigForProxy, type ConfigForProxyDeps } from "./build-config.js";
import type { BuiltConfig, ProxyRegistration } from "./contracts.js";
import { ISOLATE_SNAPSHOT_CACHE, loadSnapshot, readRevisions, type SnapshotOptions, type SnapshotRevisions } from "./snapshot.js";

/** Each proxy's config, in the order given, all from one snapshot; `revisions` when the caller just read them. */
export async function configsForProxies(deps: ConfigForProxyDeps, proxies: readonly ProxyRegistration[], revisions?: SnapshotRevisions): Promise<BuiltConfig[]> {
  if (proxies.length === 0) return [];
  const options: SnapshotOptions = { trustDomain: deps.trustDomain };
  if (deps.clusterDomain !== undefined) options.clusterDomain = deps.clusterDomain;
  if (deps.rootNamespace !== undefined) options.rootNamespace = deps.rootNamespace;
  const snapshots = deps.snapshotCache ?? ISOLATE_SNAPSHOT_CACHE;
  const current = revisions ?? (await readRevisions(deps.db));
  const snapshot = await snapshots.get(current, options, () => loadSnapshot(deps.db, deps.now(), options));
  // The cache shares one build among proxies of a scope, concurrent misses included.
  return Promise.all(proxies.map((proxy) => deps.cache.get(snapshot.revisions, proxy, () => buildConfigForProxy(snapshot, proxy))));
}
