/**
 * @module registry/proxy-credential
 * Who is calling the registry: a proxy with a workload credential (a join token, a Kubernetes
 * service-account JWT, or a proof signed by its workload certificate), or an admin (the admin token
 * or an admin API token). A viewer token may read the registry but never write it.
 */
import { eq } from "drizzle-orm";
import { Forbidden, Unauthorized } from "../errors.js";
import { chooseAuthenticator } from "../ca/authenticate/dispatch.js";
import type { Caller } from "../ca/authenticate/identity.js";
import { constantTimeEqual, sha256Hex } from "../http/auth.js";
import type { ControlPlaneDeps } from "../http/context.js";
import { apiTokensTable } from "../store/schema.js";
import { isWorkloadCertificateProof, verifyWorkloadCertificateProof } from "./workload-certificate-proof.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Resolves the `Authorization` header to a caller. Missing or invalid credentials → Unauthorized or
 * CredentialInvalid (401); a viewer API token → Forbidden (403).
 */
export async function authenticateProxy(deps: ControlPlaneDeps, authorization: string | undefined): Promise<Caller> {
  const token = authorization?.match(BEARER)?.[1];
  if (!token) {
    throw new Unauthorized(
      "missing credential: send Authorization: Bearer with a join token, a service-account JWT, a workload certificate proof or an admin token",
    );
  }
  if (isWorkloadCertificateProof(token)) return verifyWorkloadCertificateProof({ db: deps.db, now: deps.now, trustDomain: deps.ca.trustDomain }, token);
  if (chooseAuthenticator(token) !== "api-token") return deps.authenticateWorkload(token);
  return apiTokenCaller(deps, token);
}

async function apiTokenCaller(deps: ControlPlaneDeps, token: string): Promise<Caller> {
  const presented = await sha256Hex(token);
  // Both sides are hashed, so the comparison takes the same time whatever the token's length.
  if (deps.adminToken && constantTimeEqual(presented, await sha256Hex(deps.adminToken))) return { kind: "admin", subject: "admin" };
  const rows = await deps.db
    .select({ name: apiTokensTable.name, role: apiTokensTable.role, hash: apiTokensTable.tokenHash })
    .from(apiTokensTable)
    .where(eq(apiTokensTable.tokenHash, presented))
    .limit(1);
  const row = rows[0];
  if (!row || !constantTimeEqual(row.hash, presented)) throw new Unauthorized("invalid bearer token");
  if (row.role !== "admin") throw new Forbidden(`a ${row.role} token cannot change the registry: use a workload credential or an admin token`);
  return { kind: "admin", subject: `api-token:${row.name}` };
}
