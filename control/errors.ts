/**
 * @module errors
 * Named errors of the control plane. Each carries a stable `code`; the HTTP boundary
 * (control/http/status.ts) is the one place that maps a code to a status and a Kubernetes reason.
 */

/** One problem with one field of a submitted object, e.g. `spec.http[0].route[1].weight`. */
export interface FieldError {
  field: string;
  message: string;
}

export type WeftErrorCode =
  | "ERR_INVALID"
  | "ERR_NOT_FOUND"
  | "ERR_CONFLICT"
  | "ERR_ALREADY_EXISTS"
  | "ERR_UNAUTHORIZED"
  | "ERR_FORBIDDEN"
  | "ERR_BAD_REQUEST"
  | "ERR_TOO_LARGE"
  | "ERR_UNSUPPORTED_MEDIA_TYPE"
  | "ERR_METHOD_NOT_ALLOWED"
  | "ERR_GONE"
  | "ERR_CSR_INVALID"
  | "ERR_IDENTITY_MISMATCH"
  | "ERR_TTL_TOO_LONG"
  | "ERR_CA_NOT_READY"
  | "ERR_CREDENTIAL_INVALID"
  | "ERR_REGISTRATION_INVALID"
  | "ERR_REGISTRATION_IDENTITY_MISMATCH"
  | "ERR_KUBE_OBJECTS_INVALID"
  | "ERR_PROXY_NOT_REGISTERED"
  | "ERR_PROXY_IDENTITY_MISMATCH";

/** Base class: a failure caused by the caller's input or credentials, never a bug. */
export class WeftError extends Error {
  readonly code: WeftErrorCode;
  readonly causes: FieldError[];
  constructor(code: WeftErrorCode, message: string, causes: FieldError[] = []) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.causes = causes;
  }
}

/** The object breaks a validation rule; `causes` names every field at fault. */
export class ResourceInvalid extends WeftError {
  constructor(message: string, causes: FieldError[]) {
    super("ERR_INVALID", message, causes);
  }
}

export class ResourceNotFound extends WeftError {
  constructor(message: string) {
    super("ERR_NOT_FOUND", message);
  }
}

/** A write carried a stale `metadata.resourceVersion`, or lost a race with another write. */
export class ResourceConflict extends WeftError {
  constructor(message: string) {
    super("ERR_CONFLICT", message);
  }
}

export class ResourceAlreadyExists extends WeftError {
  constructor(message: string) {
    super("ERR_ALREADY_EXISTS", message);
  }
}

export class Unauthorized extends WeftError {
  constructor(message = "a valid bearer token is required") {
    super("ERR_UNAUTHORIZED", message);
  }
}

export class Forbidden extends WeftError {
  constructor(message: string) {
    super("ERR_FORBIDDEN", message);
  }
}

export class BadRequest extends WeftError {
  constructor(message: string, causes: FieldError[] = []) {
    super("ERR_BAD_REQUEST", message, causes);
  }
}

export class BodyTooLarge extends WeftError {
  constructor(limit: number) {
    super("ERR_TOO_LARGE", `request body is larger than the limit of ${limit} bytes`);
  }
}

export class UnsupportedMediaType extends WeftError {
  constructor(message: string) {
    super("ERR_UNSUPPORTED_MEDIA_TYPE", message);
  }
}

export class MethodNotAllowed extends WeftError {
  constructor(message: string) {
    super("ERR_METHOD_NOT_ALLOWED", message);
  }
}

/** A watch asked to resume from a revision the change log no longer holds. */
export class RevisionGone extends WeftError {
  constructor(message: string) {
    super("ERR_GONE", message);
  }
}

/** A CSR that does not parse, has a bad signature, or uses an unsupported key (400). */
export class CsrInvalid extends WeftError {
  constructor(message: string) {
    super("ERR_CSR_INVALID", message);
  }
}

/** A CSR asking for an identity other than the caller's own (403). */
export class IdentityMismatch extends WeftError {
  constructor(message: string) {
    super("ERR_IDENTITY_MISMATCH", message);
  }
}

/** A requested certificate lifetime above the configured maximum (400). */
export class TtlTooLong extends WeftError {
  constructor(message: string) {
    super("ERR_TTL_TOO_LONG", message);
  }
}

/** The CA has no usable signing key or certificate yet (503). */
export class CaNotReady extends WeftError {
  constructor(message: string) {
    super("ERR_CA_NOT_READY", message);
  }
}

/** A credential (service-account JWT, join token) that is forged, expired, for another audience or from an unknown issuer (401). */
export class CredentialInvalid extends WeftError {
  constructor(message: string) {
    super("ERR_CREDENTIAL_INVALID", message);
  }
}

/** A workload registration (or heartbeat) request with bad fields; `causes` names each (400). */
export class RegistrationInvalid extends WeftError {
  constructor(message: string, causes: FieldError[]) {
    super("ERR_REGISTRATION_INVALID", message, causes);
  }
}

/** A workload credential registering, renewing or removing a workload of another namespace or service account (403). */
export class RegistrationIdentityMismatch extends WeftError {
  constructor(message: string) {
    super("ERR_REGISTRATION_IDENTITY_MISMATCH", message);
  }
}

/** Kubernetes Services or EndpointSlices posted by a cluster sync agent that lack required fields; `causes` names each (400). */
export class KubeObjectsInvalid extends WeftError {
  constructor(message: string, causes: FieldError[]) {
    super("ERR_KUBE_OBJECTS_INVALID", message, causes);
  }
}

/** A proxy id with no live registration: never registered, deregistered or expired (404). */
export class ProxyNotRegistered extends WeftError {
  constructor(message: string) {
    super("ERR_PROXY_NOT_REGISTERED", message);
  }
}

/** A workload credential reading another proxy's config or answering for it (403). */
export class ProxyIdentityMismatch extends WeftError {
  constructor(message: string) {
    super("ERR_PROXY_IDENTITY_MISMATCH", message);
  }
}
