/**
 * @module distribution/snapshot
 * The mesh snapshot proxy configs are built from (Istio's PushContext): every stored resource as an
 * Istio object, the live registered workloads, the synced Kubernetes objects, the CA's trust (roots
 * served, revoked serials) and the revisions it is consistent with, read in one D1 batch (one
 * transaction). The registry's endpoints are derived once per snapshot. An isolate keeps its last
 * snapshot and reloads it only when a cheap read of the revisions (and the trust stamp) differs.
 */
import { asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { IstioObject, ServiceEndpoints } from "../../edge-proxy/core/config/build/istio-objects.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_ROOT_NAMESPACE } from "../../edge-proxy/core/config/build/istio-objects.js";
import { type KubeObject, type RegisteredWorkload, serviceEndpointsFrom } from "../../edge-proxy/core/config/build/registry-endpoints.js";
import type { TrustConfig } from "../../edge-proxy/core/config/proxy-config.js";
import { kindByName } from "../resources/kinds.js";
import type { WeftDatabase } from "../store/resource-store.js";
import {
  caRootsTable,
  kubeObjectsTable,
  meshRevisionTable,
  registryRevisionTable,
  resourcesTable,
  revokedCertificatesTable,
  workloadsTable,
} from "../store/schema.js";
import type { MeshRevisions } from "./contracts.js";

/**
 * The revisions a snapshot is consistent with, plus a stamp of the CA's trust: root rotation and
 * revocation bump neither revision, yet change every proxy's config.
 */
export interface SnapshotRevisions extends MeshRevisions {
  /** `<revoked count>:<latest revocation>:<active root fingerprints, sorted>`. */
  trust: string;
}

export interface SnapshotOptions {
  /** SPIFFE trust domain of the mesh (`cluster.local` by default in Istio). */
  trustDomain: string;
  /** Kubernetes cluster domain; default `cluster.local`. */
  clusterDomain?: string;
  /** Istio's root namespace; default `istio-system`. */
  rootNamespace?: string;
}

export interface MeshSnapshot {
  revisions: SnapshotRevisions;
  trustDomain: string;
  clusterDomain: string;
  rootNamespace: string;
  /** Every stored resource, spec parsed. */
  resources: IstioObject[];
  /** Registered workloads not expired when the snapshot was read. */
  workloads: RegisteredWorkload[];
  /** Synced Kubernetes Services and EndpointSlices (every cluster). */
  kube: KubeObject[];
  /** Active roots (oldest first) and revoked serials. */
  trust: TrustConfig;
  /** Derived: the registry's endpoints per service host and port. */
  endpoints: ServiceEndpoints[];
  /** Derived: `resources` plus the synced Services as `v1` Service objects (ports, inbound ports). */
  buildResources: IstioObject[];
}

/** The parts of a snapshot that are read; the rest is derived by {@link createMeshSnapshot}. */
export type SnapshotParts = Omit<MeshSnapshot, "endpoints" | "buildResources" | "clusterDomain" | "rootNamespace"> & {
  clusterDomain?: string;
  rootNamespace?: string;
};

/** A snapshot from its parts (pure: no database), deriving the registry's endpoints. */
export function createMeshSnapshot(parts: SnapshotParts): MeshSnapshot {
  const clusterDomain = parts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const rootNamespace = parts.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const endpoints = serviceEndpointsFrom({ resources: parts.resources, workloads: parts.workloads, kube: parts.kube, clusterDomain });
  return { ...parts, clusterDomain, rootNamespace, endpoints, buildResources: [...parts.resources, ...syncedServices(parts.kube, parts.resources)] };
}

/** Synced Services as `v1` Service objects, one per namespace/name (first cluster wins), skipping stored ones. */
function syncedServices(kube: readonly KubeObject[], resources: readonly IstioObject[]): IstioObject[] {
  const seen = new Set(resources.filter((o) => o.kind === "Service").map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  const out: IstioObject[] = [];
  for (const k of kube) {
    const key = `${k.namespace}/${k.name}`;
    if (k.kind !== "Service" || seen.has(key)) continue;
    seen.add(key);
    const o = (k.object ?? {}) as { metadata?: { labels?: Record<string, string>; creationTimestamp?: string }; spec?: unknown };
    const metadata: IstioObject["metadata"] = { name: k.name, namespace: k.namespace };
    if (o.metadata?.labels) metadata.labels = o.metadata.labels;
    if (typeof o.metadata?.creationTimestamp === "string") metadata.creationTimestamp = o.metadata.creationTimestamp;
    out.push({ kind: "Service", apiVersion: "v1", metadata, spec: o.spec ?? {} });
  }
  return out;
}

function trustStamp(revoked: { count: number; latest: string | null }, fingerprints: readonly string[]): string {
  return `${revoked.count}:${revoked.latest ?? ""}:${[...fingerprints].sort().join(",")}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads the whole snapshot in one D1 batch. Workloads whose `expiresAt` is not after `now` are left out. */
export async function loadSnapshot(db: WeftDatabase, now: Date, options: SnapshotOptions): Promise<MeshSnapshot> {
  const [mesh, registry, resources, workloads, kube, roots, revoked] = await db.batch([
    db.select({ revision: meshRevisionTable.revision }).from(meshRevisionTable).where(eq(meshRevisionTable.id, 1)),
    db.select({ revision: registryRevisionTable.revision }).from(registryRevisionTable).where(eq(registryRevisionTable.id, 1)),
    db.select().from(resourcesTable).orderBy(asc(resourcesTable.namespace), asc(resourcesTable.kind), asc(resourcesTable.name)),
    db.select().from(workloadsTable).where(gt(workloadsTable.expiresAt, now.toISOString())).orderBy(asc(workloadsTable.id)),
    db.select().from(kubeObjectsTable).orderBy(asc(kubeObjectsTable.cluster), asc(kubeObjectsTable.kind), asc(kubeObjectsTable.namespace), asc(kubeObjectsTable.name)),
    db.select({ fingerprint: caRootsTable.fingerprint, pem: caRootsTable.certificatePem }).from(caRootsTable).where(isNull(caRootsTable.retiredAt)).orderBy(asc(caRootsTable.addedAt), asc(caRootsTable.fingerprint)),
    db.select({ serial: revokedCertificatesTable.serial, revokedAt: revokedCertificatesTable.revokedAt }).from(revokedCertificatesTable).orderBy(asc(revokedCertificatesTable.serial)),
  ]);
  const latestRevocation = revoked.reduce<string | null>((max, r) => (max === null || r.revokedAt > max ? r.revokedAt : max), null);
  return createMeshSnapshot({
    revisions: {
      mesh: mesh[0]?.revision ?? 0,
      registry: registry[0]?.revision ?? 0,
      trust: trustStamp({ count: revoked.length, latest: latestRevocation }, roots.map((r) => r.fingerprint)),
    },
    trustDomain: options.trustDomain,
    ...(options.clusterDomain !== undefined ? { clusterDomain: options.clusterDomain } : {}),
    ...(options.rootNamespace !== undefined ? { rootNamespace: options.rootNamespace } : {}),
    resources: resources.map((r) => {
      const metadata: IstioObject["metadata"] = { name: r.name, namespace: r.namespace, creationTimestamp: r.creationTimestamp };
      if (Object.keys(r.labels).length > 0) metadata.labels = r.labels;
      return { kind: r.kind, apiVersion: `${r.group}/${kindByName(r.group, r.kind)?.versions[0] ?? "v1"}`, metadata, spec: parseJson(r.spec) ?? {} };
    }),
    workloads: workloads.map((w) => ({ namespace: w.namespace, name: w.name, serviceAccount: w.serviceAccount, address: w.address, labels: w.labels, ports: w.ports })),
    kube: kube.map((k) => ({ kind: k.kind, namespace: k.namespace, name: k.name, object: parseJson(k.object) })),
    trust: { trustDomain: options.trustDomain, roots: roots.map((r) => r.pem.trim()), revokedSerials: revoked.map((r) => r.serial) },
  });
}

/** The current revisions and trust stamp, in one statement: what decides whether a held snapshot is still current. */
export async function readRevisions(db: WeftDatabase): Promise<SnapshotRevisions> {
  const rows = await db.all<{ mesh: number | null; registry: number | null; revoked: number; latest: string | null; roots: string | null }>(sql`
    SELECT
      (SELECT ${meshRevisionTable.revision} FROM ${meshRevisionTable} WHERE ${meshRevisionTable.id} = 1) AS mesh,
      (SELECT ${registryRevisionTable.revision} FROM ${registryRevisionTable} WHERE ${registryRevisionTable.id} = 1) AS registry,
      (SELECT count(*) FROM ${revokedCertificatesTable}) AS revoked,
      (SELECT max(${revokedCertificatesTable.revokedAt}) FROM ${revokedCertificatesTable}) AS latest,
      (SELECT group_concat(${caRootsTable.fingerprint}, ',') FROM ${caRootsTable} WHERE ${caRootsTable.retiredAt} IS NULL) AS roots`);
  const row = rows[0];
  const fingerprints = (row?.roots ?? "").split(",").filter((f) => f !== "");
  return {
    mesh: row?.mesh ?? 0,
    registry: row?.registry ?? 0,
    trust: trustStamp({ count: row?.revoked ?? 0, latest: row?.latest ?? null }, fingerprints),
  };
}

/** An isolate-held snapshot: reused while the revisions match, loaded once by concurrent callers when they do not. */
export interface SnapshotCache {
  /** The snapshot last loaded, if any. */
  readonly current: MeshSnapshot | undefined;
  /** The snapshot for `revisions` (read just before): the held one when it matches, else `load()`'s, shared by concurrent callers. */
  get(revisions: SnapshotRevisions, options: SnapshotOptions, load: () => Promise<MeshSnapshot>): Promise<MeshSnapshot>;
}

function snapshotKey(revisions: SnapshotRevisions, options: SnapshotOptions): string {
  return JSON.stringify([revisions.mesh, revisions.registry, revisions.trust, options.trustDomain, options.clusterDomain ?? "", options.rootNamespace ?? ""]);
}

export function createSnapshotCache(): SnapshotCache {
  let held: { key: string; snapshot: MeshSnapshot } | undefined;
  const loading = new Map<string, Promise<MeshSnapshot>>();
  return {
    get current() {
      return held?.snapshot;
    },
    get(revisions, options, load) {
      const key = snapshotKey(revisions, options);
      if (held?.key === key) return Promise.resolve(held.snapshot);
      const pending = loading.get(key);
      if (pending) return pending;
      const promise = load()
        .then((snapshot) => {
          // Keyed by what was loaded: a write between the two reads makes the next call reload, never a stale hit.
          const loadedKey = snapshotKey(snapshot.revisions, options);
          if (!held || loadedKey === key || isNewer(snapshot.revisions, held.snapshot.revisions)) held = { key: loadedKey, snapshot };
          return snapshot;
        })
        .finally(() => loading.delete(key));
      loading.set(key, promise);
      return promise;
    },
  };
}

function isNewer(a: MeshRevisions, b: MeshRevisions): boolean {
  return a.mesh >= b.mesh && a.registry >= b.registry;
}

/** The isolate's snapshot cache, used when a caller brings none. */
export const ISOLATE_SNAPSHOT_CACHE: SnapshotCache = createSnapshotCache();
