/**
 * @module ca/ca-store
 * D1 access for the certificate authority's public material and records: the issuing CA's
 * certificate and chain, the trust anchors (roots, with retirement), the issuance audit log, and
 * revoked serials. The CA's private key is never stored here.
 */
import { and, asc, count, desc, eq, isNull } from "drizzle-orm";
import type { WeftDatabase } from "../store/resource-store.js";
import { caIssuerTable, caRootsTable, issuedCertificatesTable, revokedCertificatesTable } from "../store/schema.js";

export type IssuerRow = typeof caIssuerTable.$inferSelect;
export type RootRow = typeof caRootsTable.$inferSelect;
export type IssuedRow = typeof issuedCertificatesTable.$inferSelect;
export type RevokedRow = typeof revokedCertificatesTable.$inferSelect;

export async function getIssuer(db: WeftDatabase): Promise<IssuerRow | undefined> {
  const rows = await db.select().from(caIssuerTable).where(eq(caIssuerTable.id, 1));
  return rows[0];
}

/**
 * Makes `issuer` the issuing CA and adds `root` to the trust anchors (kept beside any older root).
 * With `onlyIfAbsent`, a concurrent bootstrap that got there first wins and nothing changes.
 */
export async function setIssuer(db: WeftDatabase, issuer: Omit<IssuerRow, "id">, root: RootRow, onlyIfAbsent: boolean): Promise<void> {
  const insertIssuer = db.insert(caIssuerTable).values({ id: 1, ...issuer });
  await db.batch([
    onlyIfAbsent
      ? insertIssuer.onConflictDoNothing()
      : insertIssuer.onConflictDoUpdate({ target: caIssuerTable.id, set: { ...issuer } }),
    db.insert(caRootsTable).values(root).onConflictDoUpdate({ target: caRootsTable.fingerprint, set: { retiredAt: null } }),
  ]);
}

/** Trust anchors; active ones only unless `includeRetired`. */
export async function listRoots(db: WeftDatabase, includeRetired = false): Promise<RootRow[]> {
  const query = db.select().from(caRootsTable);
  return includeRetired ? query.orderBy(asc(caRootsTable.addedAt)) : query.where(isNull(caRootsTable.retiredAt)).orderBy(asc(caRootsTable.addedAt));
}

export async function addRoot(db: WeftDatabase, root: RootRow): Promise<void> {
  await db.insert(caRootsTable).values(root).onConflictDoUpdate({ target: caRootsTable.fingerprint, set: { retiredAt: null } });
}

/** Marks a root retired; returns false when no active root has that fingerprint. */
export async function retireRoot(db: WeftDatabase, fingerprint: string, at: string): Promise<boolean> {
  const rows = await db
    .update(caRootsTable)
    .set({ retiredAt: at })
    .where(and(eq(caRootsTable.fingerprint, fingerprint), isNull(caRootsTable.retiredAt)))
    .returning({ fingerprint: caRootsTable.fingerprint });
  return rows.length > 0;
}

export async function recordIssued(db: WeftDatabase, row: IssuedRow): Promise<void> {
  await db.insert(issuedCertificatesTable).values(row);
}

export async function findIssued(db: WeftDatabase, serial: string): Promise<IssuedRow | undefined> {
  const rows = await db.select().from(issuedCertificatesTable).where(eq(issuedCertificatesTable.serial, serial));
  return rows[0];
}

/** The audit log, newest first, optionally for one namespace. */
export async function listIssued(db: WeftDatabase, filter: { namespace?: string; limit: number }): Promise<(IssuedRow & { revokedAt: string | null })[]> {
  const query = db
    .select({
      serial: issuedCertificatesTable.serial,
      spiffeId: issuedCertificatesTable.spiffeId,
      namespace: issuedCertificatesTable.namespace,
      serviceAccount: issuedCertificatesTable.serviceAccount,
      notBefore: issuedCertificatesTable.notBefore,
      notAfter: issuedCertificatesTable.notAfter,
      requester: issuedCertificatesTable.requester,
      issuerFingerprint: issuedCertificatesTable.issuerFingerprint,
      issuedAt: issuedCertificatesTable.issuedAt,
      revokedAt: revokedCertificatesTable.revokedAt,
    })
    .from(issuedCertificatesTable)
    .leftJoin(revokedCertificatesTable, eq(revokedCertificatesTable.serial, issuedCertificatesTable.serial));
  const where = filter.namespace === undefined ? undefined : eq(issuedCertificatesTable.namespace, filter.namespace);
  return (where ? query.where(where) : query).orderBy(desc(issuedCertificatesTable.issuedAt), asc(issuedCertificatesTable.serial)).limit(filter.limit);
}

/** Records a revocation; returns the existing record when the serial was already revoked. */
export async function revoke(db: WeftDatabase, row: RevokedRow): Promise<RevokedRow> {
  await db.insert(revokedCertificatesTable).values(row).onConflictDoNothing();
  const rows = await db.select().from(revokedCertificatesTable).where(eq(revokedCertificatesTable.serial, row.serial));
  return rows[0]!;
}

/** Every revoked serial with its date, and the count (the CRL number grows with it). */
export async function listRevoked(db: WeftDatabase): Promise<{ rows: RevokedRow[]; total: number }> {
  const [rows, totals] = await db.batch([
    db.select().from(revokedCertificatesTable).orderBy(asc(revokedCertificatesTable.revokedAt)),
    db.select({ total: count() }).from(revokedCertificatesTable),
  ]);
  return { rows, total: totals[0]?.total ?? 0 };
}
