/**
 * @module distribution/deliver-status
 * What each proxy was sent and what it answered (`proxy_status`), and the sync status derived from it
 * as `istioctl proxy-status` shows it: SYNCED (acknowledged the current version), STALE (sent a version
 * it has not acknowledged, rejected one, or holds an old one) or NOT SENT.
 */
import { sql } from "drizzle-orm";
import { proxyStatusTable } from "../store/schema.js";
import type { WeftDatabase } from "../store/resource-store.js";

export type ProxyStatusRecord = typeof proxyStatusTable.$inferSelect;

export type SyncStatus = "SYNCED" | "STALE" | "NOT SENT";

/** A proxy's answer to a version: applied (ACK), or refused with a reason (NACK). */
export type ProxyAnswer = { version: string; applied: true } | { version: string; error: string };

/** D1 binds at most 100 parameters per statement; a sent row takes 3. */
const SENT_ROWS_PER_STATEMENT = 33;

/** Records that each proxy was sent a version at `at` (one upsert per 33 proxies, in one batch). */
export async function recordSent(db: WeftDatabase, sent: readonly { proxyId: string; version: string }[], at: Date): Promise<void> {
  if (sent.length === 0) return;
  const sentAt = at.toISOString();
  const statements = [];
  for (let i = 0; i < sent.length; i += SENT_ROWS_PER_STATEMENT) {
    const rows = sent.slice(i, i + SENT_ROWS_PER_STATEMENT).map((s) => ({ proxyId: s.proxyId, sentVersion: s.version, sentAt }));
    statements.push(
      db.insert(proxyStatusTable).values(rows).onConflictDoUpdate({
        target: proxyStatusTable.proxyId,
        set: { sentVersion: sql`excluded.sent_version`, sentAt: sql`excluded.sent_at` },
      }),
    );
  }
  await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
}

/** Records a proxy's ACK or NACK of a version. */
export async function recordAnswer(db: WeftDatabase, proxyId: string, answer: ProxyAnswer, at: Date): Promise<void> {
  const when = at.toISOString();
  const set = "applied" in answer
    ? { ackedVersion: answer.version, ackedAt: when }
    : { nackVersion: answer.version, nackReason: answer.error, nackAt: when };
  await db.insert(proxyStatusTable).values({ proxyId, ...set }).onConflictDoUpdate({ target: proxyStatusTable.proxyId, set });
}

/** Every proxy's record, by proxy id. */
export async function readProxyStatuses(db: WeftDatabase): Promise<Map<string, ProxyStatusRecord>> {
  const rows = await db.select().from(proxyStatusTable);
  return new Map(rows.map((r) => [r.proxyId, r]));
}

/**
 * The sync status of a proxy whose config is now `currentVersion`. The later of its ACK and NACK is
 * its latest answer; a NACK's reason is reported while that NACK is the latest answer.
 */
export function syncStatus(record: ProxyStatusRecord | undefined, currentVersion: string): { status: SyncStatus; reason?: string } {
  if (!record || (!record.sentVersion && !record.ackedVersion && !record.nackVersion)) return { status: "NOT SENT" };
  const nackIsLatest = record.nackAt !== null && (record.ackedAt === null || record.nackAt >= record.ackedAt);
  if (record.ackedVersion === currentVersion && !(nackIsLatest && record.nackVersion === currentVersion)) return { status: "SYNCED" };
  if (nackIsLatest && record.nackReason !== null) return { status: "STALE", reason: `NACK of ${record.nackVersion}: ${record.nackReason}` };
  return { status: "STALE" };
}

/** The latest time the proxy was heard from: its registration's heartbeat, or an ACK or NACK. */
export function lastSeen(registrationLastSeen: string, record: ProxyStatusRecord | undefined): string {
  const times = [registrationLastSeen, record?.ackedAt, record?.nackAt].filter((t): t is string => typeof t === "string");
  return times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}
