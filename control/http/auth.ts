/**
 * @module http/auth
 * Bearer-token authentication. The admin token comes from the host (a Worker secret); further tokens
 * are stored as SHA-256 hashes in D1. Comparison with the admin token is constant-time over digests.
 */
import { eq } from "drizzle-orm";
import { Forbidden, Unauthorized } from "../errors.js";
import { apiTokensTable } from "../store/schema.js";
import type { WeftDatabase } from "../store/resource-store.js";

export type Role = "admin" | "viewer";

const ROLE_RANK: Record<Role, number> = { viewer: 1, admin: 2 };

/** SHA-256 of `text`, lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Equal-length comparison whose time does not depend on where the inputs differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/** An API token as stored: the admin secret (name `admin`) or a token created through the API. */
export interface ApiTokenHolder {
  name: string;
  role: Role;
  /** True for the admin secret itself. */
  secret: boolean;
}

/** Whose API token `token` is, or undefined when it is none. */
export async function resolveApiToken(token: string, db: WeftDatabase, adminToken: string | undefined): Promise<ApiTokenHolder | undefined> {
  const presented = await sha256Hex(token);
  // Both sides are hashed, so the comparison takes the same time whatever the token's length.
  if (adminToken && constantTimeEqual(presented, await sha256Hex(adminToken))) return { name: "admin", role: "admin", secret: true };
  const rows = await db
    .select({ name: apiTokensTable.name, role: apiTokensTable.role, hash: apiTokensTable.tokenHash })
    .from(apiTokensTable)
    .where(eq(apiTokensTable.tokenHash, presented))
    .limit(1);
  const row = rows[0];
  return row && constantTimeEqual(row.hash, presented) ? { name: row.name, role: row.role, secret: false } : undefined;
}

/** Resolves the `Authorization` header to a role, or throws Unauthorized. */
export async function authenticate(header: string | undefined, db: WeftDatabase, adminToken: string | undefined): Promise<Role> {
  const token = bearerToken(header);
  if (!token) throw new Unauthorized("missing bearer token: send Authorization: Bearer TOKEN");
  const holder = await resolveApiToken(token, db, adminToken);
  if (!holder) throw new Unauthorized("invalid bearer token");
  return holder.role;
}

/** Throws Forbidden unless `role` is at least `needed`. */
export function requireRole(role: Role, needed: Role, action: string): void {
  if (ROLE_RANK[role] < ROLE_RANK[needed]) throw new Forbidden(`a ${role} token cannot ${action}: it needs the ${needed} role`);
}

/** A new random token: 32 bytes, base64url, prefixed so it is recognisable in logs and scanners. */
export function newApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return "weft_" + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
