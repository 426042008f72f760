/**
 * @module http/status
 * The one place where error codes become HTTP statuses: every failure leaves the API as a
 * Kubernetes `Status` object (`kind: Status`, `status: Failure`, a reason, the code, causes).
 */
import type { FieldError, WeftErrorCode } from "../errors.js";
import { WeftError } from "../errors.js";

const STATUS_BY_CODE: Record<WeftErrorCode, { http: number; reason: string }> = {
  ERR_INVALID: { http: 422, reason: "Invalid" },
  ERR_NOT_FOUND: { http: 404, reason: "NotFound" },
  ERR_CONFLICT: { http: 409, reason: "Conflict" },
  ERR_ALREADY_EXISTS: { http: 409, reason: "AlreadyExists" },
  ERR_UNAUTHORIZED: { http: 401, reason: "Unauthorized" },
  ERR_FORBIDDEN: { http: 403, reason: "Forbidden" },
  ERR_BAD_REQUEST: { http: 400, reason: "BadRequest" },
  ERR_TOO_LARGE: { http: 413, reason: "RequestEntityTooLarge" },
  ERR_UNSUPPORTED_MEDIA_TYPE: { http: 415, reason: "UnsupportedMediaType" },
  ERR_METHOD_NOT_ALLOWED: { http: 405, reason: "MethodNotAllowed" },
  ERR_GONE: { http: 410, reason: "Expired" },
  ERR_CSR_INVALID: { http: 400, reason: "BadRequest" },
  ERR_IDENTITY_MISMATCH: { http: 403, reason: "Forbidden" },
  ERR_TTL_TOO_LONG: { http: 400, reason: "BadRequest" },
  ERR_CA_NOT_READY: { http: 503, reason: "ServiceUnavailable" },
  ERR_CREDENTIAL_INVALID: { http: 401, reason: "Unauthorized" },
  ERR_REGISTRATION_INVALID: { http: 400, reason: "BadRequest" },
  ERR_REGISTRATION_IDENTITY_MISMATCH: { http: 403, reason: "Forbidden" },
  ERR_KUBE_OBJECTS_INVALID: { http: 400, reason: "BadRequest" },
  ERR_PROXY_NOT_REGISTERED: { http: 404, reason: "NotFound" },
  ERR_PROXY_IDENTITY_MISMATCH: { http: 403, reason: "Forbidden" },
};

const NAMED_CAUSES = new Set<WeftErrorCode>(["ERR_CSR_INVALID", "ERR_IDENTITY_MISMATCH", "ERR_TTL_TOO_LONG", "ERR_CA_NOT_READY", "ERR_CREDENTIAL_INVALID", "ERR_REGISTRATION_IDENTITY_MISMATCH", "ERR_PROXY_NOT_REGISTERED", "ERR_PROXY_IDENTITY_MISMATCH"]);

export interface KubeStatus {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  reason?: string;
  code: number;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<FieldError & { reason: string }> };
}

/** The HTTP status and `Status` body for a named error. */
export function statusFor(err: WeftError, details: Omit<NonNullable<KubeStatus["details"]>, "causes"> = {}): { http: number; body: KubeStatus } {
  const mapped = STATUS_BY_CODE[err.code];
  const body: KubeStatus = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: mapped.reason, code: mapped.http, message: err.message };
  const causes = err.causes.map((c) => ({ reason: err.code === "ERR_INVALID" ? "FieldValueInvalid" : mapped.reason, ...c }));
  // The CA's refusals name themselves (IdentityMismatch, CsrInvalid, ...), beyond the generic reason.
  if (causes.length === 0 && NAMED_CAUSES.has(err.code)) causes.push({ reason: err.name, field: "", message: err.message });
  if (causes.length > 0 || Object.keys(details).length > 0) body.details = { ...details, ...(causes.length > 0 ? { causes } : {}) };
  return { http: mapped.http, body };
}

/** A 500 that hides the internals from the caller (they are logged by the host). */
export function internalErrorStatus(): { http: number; body: KubeStatus } {
  return {
    http: 500,
    body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "InternalError", code: 500, message: "an internal error occurred; it has been logged" },
  };
}

export { WeftError };
