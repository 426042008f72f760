/**
 * @module registry/registry-store
 * D1 access for the service registry: workloads that registered themselves (with heartbeats and
 * expiry), the Kubernetes Services and EndpointSlices a cluster sync agent posted, and the registry
 * revision. Every write that can change a proxy's config (a new or changed registration, a
 * deregistration, an expiry, a changed kube sync) bumps `registry_revision` in the same D1 batch;
 * a heartbeat, or a re-registration that changes nothing but lastSeen/expiry, does not.
 */
import { and, asc, eq, gt, lte, sql, type SQL } from "drizzle-orm";
import type { ProxyRegistration } from "../distribution/contracts.js";
import { canonicalJson } from "../resources/canonical-json.js";
import type { WeftDatabase } from "../store/resource-store.js";
import { kubeObjectsTable, registryRevisionTable, workloadsTable, type WorkloadPort } from "../store/schema.js";

type WorkloadRow = typeof workloadsTable.$inferSelect;

/** The Kubernetes kinds a cluster sync agent may post. */
export type KubeKind = "Service" | "EndpointSlice";

/** One synced Kubernetes object, as listKubeObjects returns it. */
export interface KubeObject {
  cluster: string;
  kind: KubeKind;
  namespace: string;
  name: string;
  object: any;
}

/** What a registration stores, apart from its id and the times the store sets. */
export type WorkloadRecord = Omit<ProxyRegistration, "id" | "registeredAt" | "lastSeenAt" | "expiresAt">;

export interface UpsertResult {
  registration: ProxyRegistration;
  /** No live registration had this id before. */
  created: boolean;
  /** The registry revision was bumped: the registration is new or differs in more than its times. */
  changed: boolean;
}

/** How a kube sync changed one cluster's set. */
export interface KubeSyncResult {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** Whether anything was written (and the registry revision bumped). */
  changed: boolean;
}

/** D1 allows 100 bound parameters per statement; a kube_objects row has 6. */
const KUBE_ROWS_PER_INSERT = 16;

/** istioctl's proxy id: `<name>.<namespace>`. */
export function registrationId(name: string, namespace: string): string {
  return `${name}.${namespace}`;
}

function toRegistration(row: WorkloadRow): ProxyRegistration {
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    serviceAccount: row.serviceAccount,
    address: row.address,
    labels: row.labels,
    ports: row.ports,
    ...(row.node !== null ? { node: row.node } : {}),
    kind: row.proxyKind,
    gateways: row.gateways,
    registeredBy: row.registeredBy,
    registeredAt: row.registeredAt,
    lastSeenAt: row.lastSeenAt,
    expiresAt: row.expiresAt,
  };
}

/** Bumps the registry revision (creating its row at 1), only when `when` holds inside the batch. */
function bumpRevision(db: WeftDatabase, when: SQL = sql`1`) {
  return db
    .insert(registryRevisionTable)
    .select(sql`SELECT 1, 1 WHERE ${when}`)
    .onConflictDoUpdate({ target: registryRevisionTable.id, set: { revision: sql`${registryRevisionTable.revision} + 1` } });
}

/** The registration `id`; undefined when absent or expired at `now`. */
export async function getRegistration(db: WeftDatabase, id: string, now: Date): Promise<ProxyRegistration | undefined> {
  const rows = await db
    .select()
    .from(workloadsTable)
    .where(and(eq(workloadsTable.id, id), gt(workloadsTable.expiresAt, now.toISOString())))
    .limit(1);
  return rows[0] ? toRegistration(rows[0]) : undefined;
}

/** Every registration not expired at `now`, sorted by id. */
export async function listRegistrations(db: WeftDatabase, now: Date): Promise<ProxyRegistration[]> {
  const rows = await db.select().from(workloadsTable).where(gt(workloadsTable.expiresAt, now.toISOString())).orderBy(asc(workloadsTable.id));
  return rows.map(toRegistration);
}

/** The registry revision (0 before the first change). */
export async function readRegistryRevision(db: WeftDatabase): Promise<number> {
  const rows = await db.select({ revision: registryRevisionTable.revision }).from(registryRevisionTable).where(eq(registryRevisionTable.id, 1));
  return rows[0]?.revision ?? 0;
}

/**
 * Registers `record` as `<name>.<namespace>` until `now + ttlMs`, replacing what was there. A live
 * registration keeps its `registeredAt`; the revision is bumped only when the registration is new or
 * differs in more than its times. With `onlyServiceAccount`, a live registration of the same id owned
 * by another service account is left alone and undefined is returned (nothing is written).
 */
export async function upsertRegistration(
  db: WeftDatabase,
  record: WorkloadRecord,
  now: Date,
  ttlMs: number,
  options: { onlyServiceAccount?: string } = {},
): Promise<UpsertResult | undefined> {
  const id = registrationId(record.name, record.namespace);
  const at = now.toISOString();
  const row: WorkloadRow = {
    id,
    namespace: record.namespace,
    name: record.name,
    serviceAccount: record.serviceAccount,
    address: record.address,
    labels: canonicalLabels(record.labels),
    ports: canonicalPorts(record.ports),
    node: record.node ?? null,
    proxyKind: record.kind,
    gateways: [...new Set(record.gateways)].sort(),
    registeredBy: record.registeredBy,
    registeredAt: at,
    lastSeenAt: at,
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
  };
  const live = and(eq(workloadsTable.id, id), gt(workloadsTable.expiresAt, at))!;
  const owner = options.onlyServiceAccount;
  // A live row of this id that another service account owns: the registration is refused.
  const foreign = owner === undefined ? sql`0` : sql`EXISTS (SELECT 1 FROM ${workloadsTable} WHERE ${live} AND ${workloadsTable.serviceAccount} <> ${owner})`;
  const same = sql`EXISTS (SELECT 1 FROM ${workloadsTable} WHERE ${live}
    AND ${workloadsTable.serviceAccount} = ${row.serviceAccount} AND ${workloadsTable.address} = ${row.address}
    AND ${workloadsTable.labels} = ${JSON.stringify(row.labels)} AND ${workloadsTable.ports} = ${JSON.stringify(row.ports)}
    AND ${workloadsTable.node} IS ${row.node} AND ${workloadsTable.proxyKind} = ${row.proxyKind}
    AND ${workloadsTable.gateways} = ${JSON.stringify(row.gateways)})`;
  const expired = sql`${workloadsTable.expiresAt} <= ${at}`;
  const { id: _id, registeredAt: _registeredAt, ...replaced } = row;
  const [[seen], , written] = await db.batch([
    // Read before the writes in the same transaction: was there a live one, the same one, another owner's?
    db
      .select({ live: sql<number>`EXISTS (SELECT 1 FROM ${workloadsTable} WHERE ${live})`, same: sql<number>`${same}`, taken: sql<number>`${foreign}` })
      .from(sql`(SELECT 1)`),
    bumpRevision(db, sql`NOT ${same} AND NOT ${foreign}`),
    db
      .insert(workloadsTable)
      .values(row)
      .onConflictDoUpdate({
        target: workloadsTable.id,
        set: { ...replaced, registeredAt: sql`CASE WHEN ${expired} THEN excluded.registered_at ELSE ${workloadsTable.registeredAt} END` },
        ...(owner === undefined ? {} : { setWhere: sql`${expired} OR ${workloadsTable.serviceAccount} = ${owner}` }),
      })
      .returning(),
  ]);
  const stored = written[0];
  if (!seen || seen.taken || !stored) return undefined;
  return { registration: toRegistration(stored), created: !seen.live, changed: !seen.same };
}

/**
 * Pushes a live registration's expiry to `now + ttlMs` (by default its own lifetime, `expiresAt -
 * lastSeenAt`, again). Does not bump the revision. Undefined when absent or expired.
 */
export async function heartbeatRegistration(db: WeftDatabase, id: string, now: Date, ttlMs?: number): Promise<ProxyRegistration | undefined> {
  const current = await getRegistration(db, id, now);
  if (!current) return undefined;
  const lifetime = ttlMs ?? Date.parse(current.expiresAt) - Date.parse(current.lastSeenAt);
  const at = now.toISOString();
  const rows = await db
    .update(workloadsTable)
    .set({ lastSeenAt: at, expiresAt: new Date(now.getTime() + lifetime).toISOString() })
    .where(and(eq(workloadsTable.id, id), gt(workloadsTable.expiresAt, at)))
    .returning();
  return rows[0] ? toRegistration(rows[0]) : undefined;
}

/** Removes a registration (live or expired but not yet swept), bumping the revision; false when there was none. */
export async function deregisterWorkload(db: WeftDatabase, id: string): Promise<boolean> {
  const [, deleted] = await db.batch([
    bumpRevision(db, sql`EXISTS (SELECT 1 FROM ${workloadsTable} WHERE ${workloadsTable.id} = ${id})`),
    db.delete(workloadsTable).where(eq(workloadsTable.id, id)).returning({ id: workloadsTable.id }),
  ]);
  return deleted.length > 0;
}

/** Removes every registration expired at `now`, bumping the revision when there was any; returns their ids, sorted. */
export async function expireRegistrations(db: WeftDatabase, now: Date): Promise<string[]> {
  const expired = lte(workloadsTable.expiresAt, now.toISOString());
  const [, deleted] = await db.batch([
    bumpRevision(db, sql`EXISTS (SELECT 1 FROM ${workloadsTable} WHERE ${expired})`),
    db.delete(workloadsTable).where(expired).returning({ id: workloadsTable.id }),
  ]);
  return deleted.map((r) => r.id).sort();
}

/** Every synced Kubernetes object, sorted by cluster, kind, namespace and name. */
export async function listKubeObjects(db: WeftDatabase): Promise<KubeObject[]> {
  const rows = await db
    .select()
    .from(kubeObjectsTable)
    .orderBy(asc(kubeObjectsTable.cluster), asc(kubeObjectsTable.kind), asc(kubeObjectsTable.namespace), asc(kubeObjectsTable.name));
  return rows.map((r) => ({ cluster: r.cluster, kind: r.kind, namespace: r.namespace, name: r.name, object: JSON.parse(r.object) }));
}

/**
 * Makes `objects` the whole set of `cluster`'s Services and EndpointSlices, atomically. When the set
 * is the same as stored (compared as canonical JSON), nothing is written and the revision stays.
 */
export async function replaceKubeObjects(
  db: WeftDatabase,
  cluster: string,
  objects: { kind: KubeKind; namespace: string; name: string; object: unknown }[],
  now: Date,
): Promise<KubeSyncResult> {
  const key = (o: { kind: string; namespace: string; name: string }) => `${o.kind}/${o.namespace}/${o.name}`;
  const current = await db
    .select({ kind: kubeObjectsTable.kind, namespace: kubeObjectsTable.namespace, name: kubeObjectsTable.name, object: kubeObjectsTable.object })
    .from(kubeObjectsTable)
    .where(eq(kubeObjectsTable.cluster, cluster));
  const stored = new Map(current.map((r) => [key(r), r.object]));
  const at = now.toISOString();
  const rows = objects.map((o) => ({ cluster, kind: o.kind, namespace: o.namespace, name: o.name, object: canonicalJson(o.object), updatedAt: at }));
  const result: KubeSyncResult = { added: 0, updated: 0, removed: 0, unchanged: 0, changed: false };
  const seen = new Set<string>();
  for (const row of rows) {
    const k = key(row);
    if (seen.has(k)) throw new TypeError(`replaceKubeObjects: ${k} is listed twice`);
    seen.add(k);
    const before = stored.get(k);
    if (before === undefined) result.added++;
    else if (before !== row.object) result.updated++;
    else result.unchanged++;
  }
  result.removed = [...stored.keys()].filter((k) => !seen.has(k)).length;
  result.changed = result.added + result.updated + result.removed > 0;
  if (!result.changed) return result;

  const inserts = [];
  for (let i = 0; i < rows.length; i += KUBE_ROWS_PER_INSERT) inserts.push(db.insert(kubeObjectsTable).values(rows.slice(i, i + KUBE_ROWS_PER_INSERT)));
  await db.batch([db.delete(kubeObjectsTable).where(eq(kubeObjectsTable.cluster, cluster)), bumpRevision(db), ...inserts]);
  return result;
}

function canonicalLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function canonicalPorts(ports: WorkloadPort[]): WorkloadPort[] {
  return [...ports]
    .sort((a, b) => a.port - b.port)
    .map((p) => ({ port: p.port, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.protocol !== undefined ? { protocol: p.protocol } : {}) }));
}
