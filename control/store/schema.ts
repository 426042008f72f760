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

/** Trust anchors served at /v1/ca/roots; a retired root stays listed here with `retiredAt` set. */
export const caRootsTable = sqliteTable("ca_roots", {
  fingerprint: text("fingerprint").primaryKey(),
  certificatePem: text("certificate_pem").notNull(),
  subject: text("subject").notNull(),
  notAfter: text("not_after").notNull(),
  addedAt: text("added_at").notNull(),
  retiredAt: text("retired_at"),
});

/**
 * The issuing CA: its certificate and the chain above it (intermediates, then the root), all public.
 * One row (id 1). Its private key is never here: it comes from the WEFT_CA_KEY secret.
 */
export const caIssuerTable = sqliteTable("ca_issuer", {
  id: integer("id").primaryKey(),
  certificatePem: text("certificate_pem").notNull(),
  /** JSON array of PEM certificates above the issuer, ending with the root (empty for a self-signed root). */
  chainPem: text("chain_pem", { mode: "json" }).$type<string[]>().notNull(),
  fingerprint: text("fingerprint").notNull(),
  createdAt: text("created_at").notNull(),
});

/** The audit log: every certificate issued. */
export const issuedCertificatesTable = sqliteTable(
  "issued_certificates",
  {
    serial: text("serial").primaryKey(),
    spiffeId: text("spiffe_id").notNull(),
    namespace: text("namespace").notNull(),
    serviceAccount: text("service_account").notNull(),
    notBefore: text("not_before").notNull(),
    notAfter: text("not_after").notNull(),
    /** Who asked: `system:serviceaccount:ns:sa`, `join-token:<jti>` or `admin`. */
    requester: text("requester").notNull(),
    issuerFingerprint: text("issuer_fingerprint").notNull(),
    issuedAt: text("issued_at").notNull(),
  },
  (t) => [index("issued_identity").on(t.namespace, t.serviceAccount)],
);

/** Revoked serials: served in the CRL and (later) in every proxy's config. */
export const revokedCertificatesTable = sqliteTable("revoked_certificates", {
  serial: text("serial").primaryKey(),
  revokedAt: text("revoked_at").notNull(),
  reason: text("reason"),
});

// ---------------------------------------------------------------------------------------------
// Registry and config distribution (Pilot).

/** A port a registered workload serves. */
export interface WorkloadPort {
  port: number;
  name?: string;
  /** HTTP, HTTP2, GRPC, TCP, TLS... (Istio's protocol names); inferred from the name when absent. */
  protocol?: string;
}

/**
 * Workloads that registered themselves: a sidecar's Pod or a VM's proxy, as Istio's WorkloadGroup
 * auto-registration does. The id is istioctl's proxy id, `<name>.<namespace>`. A registration lives
 * until `expiresAt`; heartbeats push it forward, the cron removes expired ones.
 */
export const workloadsTable = sqliteTable(
  "workloads",
  {
    id: text("id").primaryKey(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    serviceAccount: text("service_account").notNull(),
    address: text("address").notNull(),
    labels: text("labels", { mode: "json" }).$type<Record<string, string>>().notNull(),
    ports: text("ports", { mode: "json" }).$type<WorkloadPort[]>().notNull(),
    node: text("node"),
    proxyKind: text("proxy_kind", { enum: ["sidecar", "gateway"] }).notNull(),
    /** `namespace/name` of the Gateways a gateway proxy serves (empty for sidecars). */
    gateways: text("gateways", { mode: "json" }).$type<string[]>().notNull(),
    /** Who registered it: `system:serviceaccount:ns:sa`, `join-token:<jti>`, `spiffe://...` or `admin`. */
    registeredBy: text("registered_by").notNull(),
    registeredAt: text("registered_at").notNull(),
    lastSeenAt: text("last_seen_at").notNull(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("workloads_namespace").on(t.namespace), index("workloads_expiry").on(t.expiresAt)],
);

/**
 * Kubernetes Services and EndpointSlices posted by a cluster sync agent (`weft kube-sync`), one row per
 * object, replaced as a whole per cluster on each sync.
 */
export const kubeObjectsTable = sqliteTable(
  "kube_objects",
  {
    cluster: text("cluster").notNull(),
    kind: text("kind", { enum: ["Service", "EndpointSlice"] }).notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    /** The object as Kubernetes served it (JSON text). */
    object: text("object").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("kube_objects_key").on(t.cluster, t.kind, t.namespace, t.name)],
);

/**
 * The registry's revision (one row, id 1): bumped by every registry change that can change a proxy's
 * config (registration, expiry, sync), not by heartbeats. Configs are cached per (scope, mesh revision,
 * registry revision).
 */
export const registryRevisionTable = sqliteTable("registry_revision", {
  id: integer("id").primaryKey(),
  revision: integer("revision").notNull(),
});

/** What each proxy was sent and what it answered: SYNCED, STALE or NOT SENT, as `istioctl proxy-status`. */
export const proxyStatusTable = sqliteTable("proxy_status", {
  proxyId: text("proxy_id").primaryKey(),
  sentVersion: text("sent_version"),
  sentAt: text("sent_at"),
  ackedVersion: text("acked_version"),
  ackedAt: text("acked_at"),
  nackVersion: text("nack_version"),
  nackReason: text("nack_reason"),
  nackAt: text("nack_at"),
});
