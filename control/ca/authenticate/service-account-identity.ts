/**
 * @module ca/authenticate/service-account-identity
 * Reads the workload identity out of a verified Kubernetes service-account token. Projected tokens
 * carry it twice, in `sub` (`system:serviceaccount:NS:SA`) and in the `kubernetes.io` claim; when both
 * are present they must agree, so a token cannot name one identity in one place and another elsewhere.
 */
import { isRecord } from "../../validation/raw-value.js";
import type { JWTPayload } from "jose";
import { CredentialInvalid } from "../../errors.js";
import { isDns1123Label, isDns1123Subdomain, type WorkloadIdentity } from "./identity.js";

/** The `sub` prefix of every Kubernetes service-account token. */
export const SERVICE_ACCOUNT_SUBJECT_PREFIX = "system:serviceaccount:";

/** The identity named by a verified token's claims; throws CredentialInvalid when there is none or it is inconsistent. */
export function serviceAccountIdentityFromClaims(claims: JWTPayload): WorkloadIdentity {
  const fromSubject = identityFromSubject(claims.sub);
  const fromClaim = identityFromKubernetesClaim(claims["kubernetes.io"]);
  if (fromSubject && fromClaim && (fromSubject.namespace !== fromClaim.namespace || fromSubject.serviceAccount !== fromClaim.serviceAccount)) {
    throw new CredentialInvalid(
      `service-account token names two identities: sub is ${JSON.stringify(claims.sub)} but the kubernetes.io claim names ${fromClaim.namespace}/${fromClaim.serviceAccount}`,
    );
  }
  if (fromClaim && claims.sub !== undefined && !fromSubject) {
    throw new CredentialInvalid(`service-account token names two identities: sub ${JSON.stringify(claims.sub)} is not ${SERVICE_ACCOUNT_SUBJECT_PREFIX}NAMESPACE:NAME but the kubernetes.io claim names ${fromClaim.namespace}/${fromClaim.serviceAccount}`);
  }
  const identity = fromSubject ?? fromClaim;
  if (!identity) {
    throw new CredentialInvalid(
      `no service-account identity in the token: sub is ${JSON.stringify(claims.sub ?? null)}, expected ${SERVICE_ACCOUNT_SUBJECT_PREFIX}NAMESPACE:NAME or a kubernetes.io claim with namespace and serviceaccount.name`,
    );
  }
  return checkNames(identity);
}

function identityFromSubject(sub: unknown): WorkloadIdentity | undefined {
  if (typeof sub !== "string" || !sub.startsWith(SERVICE_ACCOUNT_SUBJECT_PREFIX)) return undefined;
  const parts = sub.slice(SERVICE_ACCOUNT_SUBJECT_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new CredentialInvalid(`malformed service-account subject ${JSON.stringify(sub)}: expected ${SERVICE_ACCOUNT_SUBJECT_PREFIX}NAMESPACE:NAME`);
  }
  return { namespace: parts[0], serviceAccount: parts[1] };
}

function identityFromKubernetesClaim(claim: unknown): WorkloadIdentity | undefined {
  if (claim === undefined) return undefined;
  const namespace = isRecord(claim) ? claim.namespace : undefined;
  const serviceAccount = isRecord(claim) && isRecord(claim.serviceaccount) ? claim.serviceaccount.name : undefined;
  if (typeof namespace !== "string" || typeof serviceAccount !== "string") {
    throw new CredentialInvalid('malformed kubernetes.io claim: it must hold "namespace" and "serviceaccount": {"name"} as strings');
  }
  return { namespace, serviceAccount };
}

function checkNames(identity: WorkloadIdentity): WorkloadIdentity {
  if (!isDns1123Label(identity.namespace)) {
    throw new CredentialInvalid(`service-account token names an invalid namespace ${JSON.stringify(identity.namespace)}: it must be an RFC 1123 label`);
  }
  if (!isDns1123Subdomain(identity.serviceAccount)) {
    throw new CredentialInvalid(`service-account token names an invalid service account ${JSON.stringify(identity.serviceAccount)}: it must be an RFC 1123 subdomain`);
  }
  return identity;
}

