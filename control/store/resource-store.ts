/**
 * @module store/resource-store
 * Reads and writes Istio objects in D1 through drizzle. Every write bumps the mesh revision and
 * appends to the change log in the same transaction (a D1 batch); an object's resourceVersion is the
 * revision of its last write. Preconditions (object absent, or at an expected resourceVersion) are
 * checked inside the transaction by a CHECK-constrained guard row, so a lost race aborts the whole
 * batch and stores nothing.
 */
import { and, asc, eq, gt, sql, type SQL } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { apiTokensTable, changesTable, meshRevisionTable, resourcesTable, writeGuardsTable } from "./schema.js";

export type WeftDatabase = DrizzleD1Database<Record<string, unknown>>;

/** Identifies one object. */
export interface ResourceKey {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/** An object as stored (version-independent). */
export interface StoredResource extends ResourceKey {
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The spec as JSON text, exactly as written. */
  spec: string;
  resourceVersion: number;
  generation: number;
  creationTimestamp: string;
}

export type WriteOp =
  | { type: "create"; resource: Omit<StoredResource, "resourceVersion"> }
  | { type: "update"; resource: Omit<StoredResource, "resourceVersion">; expectResourceVersion: number }
  | { type: "delete"; resource: StoredResource; expectResourceVersion: number };

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  revision: number;
  type: ChangeType;
  resource: StoredResource;
}

/** A write batch whose precondition no longer held when it ran (another write got there first). */
export class WriteRaced extends Error {
  readonly code = "ERR_WRITE_RACED";
}

const CURRENT_REVISION = sql`(SELECT ${meshRevisionTable.revision} FROM ${meshRevisionTable} WHERE ${meshRevisionTable.id} = 1)`;

function keyWhere(key: ResourceKey): SQL {
  return and(
    eq(resourcesTable.group, key.group),
    eq(resourcesTable.kind, key.kind),
    eq(resourcesTable.namespace, key.namespace),
    eq(resourcesTable.name, key.name),
  )!;
}

function fromRow(row: typeof resourcesTable.$inferSelect): StoredResource {
  return { ...row };
}

/** The object at `key`, or undefined. */
export async function getResource(db: WeftDatabase, key: ResourceKey): Promise<StoredResource | undefined> {
  const rows = await db.select().from(resourcesTable).where(keyWhere(key)).limit(1);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Several objects in one round trip, in the order of `keys` (undefined where absent). */
export async function getResources(db: WeftDatabase, keys: ResourceKey[]): Promise<(StoredResource | undefined)[]> {
  if (keys.length === 0) return [];
  const queries = keys.map((k) => db.select().from(resourcesTable).where(keyWhere(k)).limit(1));
  const results = (await db.batch(queries as [(typeof queries)[0], ...typeof queries])) as (typeof resourcesTable.$inferSelect)[][];
  return results.map((rows) => (rows[0] ? fromRow(rows[0]) : undefined));
}

/** Every object of a kind, in one namespace or all; with the revision the list is consistent with. */
export async function listResources(
  db: WeftDatabase,
  filter: { group: string; kind: string; namespace?: string },
): Promise<{ revision: number; items: StoredResource[] }> {
  const where = filter.namespace === undefined
    ? and(eq(resourcesTable.group, filter.group), eq(resourcesTable.kind, filter.kind))
    : and(eq(resourcesTable.group, filter.group), eq(resourcesTable.kind, filter.kind), eq(resourcesTable.namespace, filter.namespace));
  const [revisionRows, rows] = await db.batch([
    db.select({ revision: meshRevisionTable.revision }).from(meshRevisionTable).where(eq(meshRevisionTable.id, 1)),
    db.select().from(resourcesTable).where(where).orderBy(asc(resourcesTable.namespace), asc(resourcesTable.name)),
  ]);
  return { revision: revisionRows[0]?.revision ?? 0, items: rows.map(fromRow) };
}

/** The current mesh revision (0 before the first write). */
export async function currentRevision(db: WeftDatabase): Promise<number> {
  const rows = await db.select({ revision: meshRevisionTable.revision }).from(meshRevisionTable).where(eq(meshRevisionTable.id, 1));
  return rows[0]?.revision ?? 0;
}

/**
 * Applies `ops` in one transaction. Returns the revision each op was written at.
 * Throws {@link WriteRaced} when any precondition failed; then nothing was written.
 */
export async function commitWrites(db: WeftDatabase, ops: WriteOp[], now: string): Promise<number[]> {
  if (ops.length === 0) return [];
  const statements = [];
  for (const op of ops) {
    const r = op.resource;
    const key: ResourceKey = { group: r.group, kind: r.kind, namespace: r.namespace, name: r.name };
    const precondition = op.type === "create"
      ? sql`NOT EXISTS (SELECT 1 FROM ${resourcesTable} WHERE ${keyWhere(key)})`
      : sql`EXISTS (SELECT 1 FROM ${resourcesTable} WHERE ${keyWhere(key)} AND ${resourcesTable.resourceVersion} = ${op.expectResourceVersion})`;
    // Inserts (NULL, 0) when the precondition fails: the CHECK constraint then aborts the batch.
    statements.push(db.insert(writeGuardsTable).select(sql`SELECT NULL, CASE WHEN ${precondition} THEN 1 ELSE 0 END`));
    statements.push(
      db.insert(meshRevisionTable).values({ id: 1, revision: 1 }).onConflictDoUpdate({
        target: meshRevisionTable.id,
        set: { revision: sql`${meshRevisionTable.revision} + 1` },
      }),
    );
    if (op.type === "create") {
      statements.push(db.insert(resourcesTable).values({ ...op.resource, resourceVersion: CURRENT_REVISION }));
    } else if (op.type === "update") {
      statements.push(
        db.update(resourcesTable)
          .set({ labels: r.labels, annotations: r.annotations, spec: r.spec, generation: r.generation, resourceVersion: CURRENT_REVISION })
          .where(keyWhere(key)),
      );
    } else {
      statements.push(db.delete(resourcesTable).where(keyWhere(key)));
    }
    statements.push(
      db.insert(changesTable).values({
        revision: CURRENT_REVISION,
        type: op.type === "create" ? "ADDED" : op.type === "update" ? "MODIFIED" : "DELETED",
        group: r.group,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        object: JSON.stringify(changeObject(r)),
        createdAt: now,
      }),
    );
  }
  statements.push(db.delete(writeGuardsTable));
  statements.push(db.select({ revision: meshRevisionTable.revision }).from(meshRevisionTable).where(eq(meshRevisionTable.id, 1)));
  let results: unknown[];
  try {
    results = await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  } catch (err) {
    if (/write_guard_precondition|CHECK constraint failed/i.test(String((err as Error)?.message) + String((err as { cause?: Error })?.cause?.message))) {
      throw new WriteRaced("a concurrent write changed the object first");
    }
    throw err;
  }
  const last = (results[results.length - 1] as { revision: number }[])[0]!.revision;
  return ops.map((_, i) => last - (ops.length - 1 - i));
}

type ChangeObject = Omit<StoredResource, "resourceVersion" | keyof ResourceKey>;

function changeObject(r: Omit<StoredResource, "resourceVersion">): ChangeObject {
  return { uid: r.uid, labels: r.labels, annotations: r.annotations, spec: r.spec, generation: r.generation, creationTimestamp: r.creationTimestamp };
}

/** Changes after `revision` for one kind (optionally one namespace), oldest first, at most `limit`. */
export async function changesSince(
  db: WeftDatabase,
  filter: { group: string; kind: string; namespace?: string; after: number; limit: number },
): Promise<Change[]> {
  const conditions = [eq(changesTable.group, filter.group), eq(changesTable.kind, filter.kind), gt(changesTable.revision, filter.after)];
  if (filter.namespace !== undefined) conditions.push(eq(changesTable.namespace, filter.namespace));
  const rows = await db.select().from(changesTable).where(and(...conditions)).orderBy(asc(changesTable.revision)).limit(filter.limit);
  return rows.map((row) => {
    const obj = JSON.parse(row.object) as ChangeObject;
    return {
      revision: row.revision,
      type: row.type,
      resource: { ...obj, group: row.group, kind: row.kind, namespace: row.namespace, name: row.name, resourceVersion: row.revision },
    };
  });
}

/** The oldest revision the change log still holds, or undefined when it is empty. */
export async function oldestChange(db: WeftDatabase): Promise<number | undefined> {
  const rows = await db.select({ revision: sql<number>`min(${changesTable.revision})` }).from(changesTable);
  return rows[0]?.revision ?? undefined;
}

/**
 * Drops change-log entries older than `before` (ISO time) while always keeping the newest `keep`.
 * Returns how many were dropped.
 */
export async function compactChanges(db: WeftDatabase, before: string, keep: number): Promise<number> {
  const result = await db.run(sql`DELETE FROM ${changesTable} WHERE ${changesTable.createdAt} < ${before}
    AND ${changesTable.revision} <= (SELECT coalesce(max(${changesTable.revision}), 0) - ${keep} FROM ${changesTable})`);
  return result.meta.changes ?? 0;
}

export { apiTokensTable };
