/**
 * @module spiffe-id
 * SPIFFE IDs (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md) in Istio's workload
 * shape `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`: building, parsing, checking.
 */

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const SCHEME = "spiffe://";
const MAX_ID_LENGTH = 2048;
/** A DNS-style trust domain: lowercase labels of letters, digits, '-' and '_', joined by dots. */
const TRUST_DOMAIN = /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/;
/** A Kubernetes namespace: an RFC 1123 label. */
const NAMESPACE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A Kubernetes service account: an RFC 1123 subdomain. */
const SERVICE_ACCOUNT = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** SPIFFE's general rules: trust domain [a-z0-9._-], path segments [A-Za-z0-9._-], none empty, "." or "..". */
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+(?:\/[A-Za-z0-9._-]+)+$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`; TypeError if a part is not valid. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  if (!TRUST_DOMAIN.test(trustDomain)) throw new TypeError(`spiffeId: invalid trust domain "${trustDomain}"`);
  if (!NAMESPACE.test(namespace)) throw new TypeError(`spiffeId: invalid namespace "${namespace}"`);
  if (!SERVICE_ACCOUNT.test(serviceAccount)) throw new TypeError(`spiffeId: invalid service account "${serviceAccount}"`);
  return `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The parts of exactly `spiffe://<td>/ns/<ns>/sa/<sa>` with valid parts; undefined for anything else. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  if (typeof uri !== "string" || !uri.startsWith(SCHEME)) return undefined;
  const parts = uri.slice(SCHEME.length).split("/");
  if (parts.length !== 5 || parts[1] !== "ns" || parts[3] !== "sa") return undefined;
  const [trustDomain, , namespace, , serviceAccount] = parts as [string, string, string, string, string];
  if (!TRUST_DOMAIN.test(trustDomain) || !NAMESPACE.test(namespace) || !SERVICE_ACCOUNT.test(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/** Whether `uri` is any valid SPIFFE ID (a trust domain and a non-empty path), per the SPIFFE-ID standard. */
export function isSpiffeId(uri: string): boolean {
  return typeof uri === "string" && uri.length <= MAX_ID_LENGTH && SPIFFE_ID.test(uri) && !DOT_SEGMENT.test(uri);
}
