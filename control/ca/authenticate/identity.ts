/**
 * @module ca/authenticate/identity
 * What every authenticator of the certificate authority produces: the caller behind a credential,
 * and the name rules a workload identity must keep (Kubernetes namespace and service-account names).
 */

/** A workload's identity inside the mesh; the CA puts it in the certificate as a SPIFFE ID. */
export interface WorkloadIdentity {
  namespace: string;
  serviceAccount: string;
}

/** An authenticated caller of the CA. `subject` is what the audit log records. */
export type Caller =
  | {
      kind: "workload";
      identity: WorkloadIdentity;
      via: "kubernetes-jwt" | "join-token" | "workload-certificate";
      /** e.g. `system:serviceaccount:ns:sa`, a join token's `jti`, or a workload certificate's SPIFFE ID. */
      subject: string;
    }
  | { kind: "admin"; subject: string };

/** Turns a bearer credential into a caller, or rejects with a named error (CredentialInvalid). */
export interface Authenticator {
  authenticate(token: string): Promise<Caller>;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 label as Kubernetes uses it for namespaces: lowercase alphanumerics and '-', at most 63 characters. */
export function isDns1123Label(value: unknown): value is string {
  return typeof value === "string" && value.length <= 63 && DNS1123_LABEL.test(value);
}

/** RFC 1123 subdomain as Kubernetes uses it for service-account names: dot-separated labels, at most 253 characters. */
export function isDns1123Subdomain(value: unknown): value is string {
  return typeof value === "string" && value.length <= 253 && value.split(".").every((label) => DNS1123_LABEL.test(label));
}
