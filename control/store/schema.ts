/**
 * @module store/schema
 * The drizzle schema (SQLite dialect, run on D1): the source of truth for `migrations/`, which
 * drizzle-kit generates from this file (`npm run db:generate`).
 *
 * - `resources`: the current state of every Istio object, one row per (group, kind, namespace, name).
 * - `changes`: the append-only change log; `revision` is the mesh-wide revision of each write.
 * - `mesh_revision`: the single revision counter (one row, id 1).
 * - `write_guards`: a CHECK-constrained table used to abort a write batch whose precondition failed.
 * - `api_tokens`: hashed bearer tokens created through the API.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const resourcesTable = sqliteTable(
  "resources",
  {
    uid: text("uid").primaryKey(),
    group: text("api_group").notNull(),
    kind: text("kind").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    labels: text("labels", { mode: "json" }).$type<Record<string, string>>().notNull(),
    annotations: text("annotations", { mode: "json" }).$type<Record<string, string>>().notNull(),
    /** The spec exactly as written, as JSON text. */
    spec: text("spec").notNull(),
    resourceVersion: integer("resource_version").notNull(),
    generation: integer("generation").notNull(),
    creationTimestamp: text("creation_timestamp").notNull(),
  },
  (t) => [
    uniqueIndex("resources_key").on(t.group, t.kind, t.namespace, t.name),
    index("resources_revision").on(t.resourceVersion),
  ],
);

export const changesTable = sqliteTable(
  "changes",
  {
    revision: integer("revision").primaryKey(),
    type: text("type", { enum: ["ADDED", "MODIFIED", "DELETED"] }).notNull(),
    group: text("api_group").notNull(),
    kind: text("kind").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    /** The object as stored after the write (before it, for DELETED), without resourceVersion. */
    object: text("object").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("changes_kind").on(t.group, t.kind, t.revision)],
);

export const meshRevisionTable = sqliteTable("mesh_revision", {
  id: integer("id").primaryKey(),
  revision: integer("revision").notNull(),
});

export const writeGuardsTable = sqliteTable(
  "write_guards",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    ok: integer("ok").notNull(),
  },
  (t) => [check("write_guard_precondition", sql`${t.ok} = 1`)],
);

export const apiTokensTable = sqliteTable("api_tokens", {
  name: text("name").primaryKey(),
  role: text("role", { enum: ["admin", "viewer"] }).notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: text("created_at").notNull(),
});
