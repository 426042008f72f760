/**
 * @module registry/proxy-credential
 * Who is calling the registry: a proxy with a workload credential (a join token, a Kubernetes
 * service-account JWT, or a proof signed by its workload certificate), or an admin (the admin token
 * or an admin API token). A viewer token may read the registry but never write it.
 */
import { Forbidden, Unauthorized } from "../errors.js";
import { chooseAuthenticator } from "../ca/authenticate/dispatch.js";
import type { Caller } from "../ca/authenticate/identity.js";
import { bearerToken, resolveApiToken } from "../http/auth.js";
import type { ControlPlaneDeps } from "../http/context.js";
import { isWorkloadCertificateProof, verifyWorkloadCertificateProof } from "./workload-certificate-proof.js";

/**
 * Resolves the `Authorization` header to a caller. Missing or invalid credentials → Unauthorized or
 * CredentialInvalid (401); a viewer API token → Forbidden (403).
 */
export async function authenticateProxy(deps: ControlPlaneDeps, authorization: string | undefined): Promise<Caller> {
  const token = bearerToken(authorization);
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
  const holder = await resolveApiToken(token, deps.db, deps.adminToken);
  if (!holder) throw new Unauthorized("invalid bearer token");
  if (holder.role !== "admin") throw new Forbidden(`a ${holder.role} token cannot change the registry: use a workload credential or an admin token`);
  return { kind: "admin", subject: holder.secret ? "admin" : `api-token:${holder.name}` };
}
