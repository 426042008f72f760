/**
 * @module ca/authenticate/jose-failure
 * Translates jose's verification errors into CredentialInvalid errors that say why a credential
 * was refused (expired, not yet valid, wrong audience, bad signature, ...), so that an operator
 * reading a 401 knows what to fix. Anything that is not a jose error is a bug and is rethrown.
 */
import { decodeProtectedHeader, errors } from "jose";
import { CredentialInvalid, WeftError } from "../../errors.js";

/** Clock skew accepted on `exp`, `nbf` and `iat` between the credential's issuer and the control plane. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** What the verifier expected, to name it in the error. */
export interface VerificationContext {
  /** The credential as the message names it, e.g. "service-account token" or "join token". */
  credential: string;
  /** Whose keys verify it, e.g. `issuer "https://kubernetes.default.svc"`. */
  keyOwner: string;
  audiences: readonly string[];
  algorithms: readonly string[];
  now: Date;
}

/** Rethrows `error` as a CredentialInvalid naming the reason; WeftErrors and non-jose errors pass through. */
export function rethrowAsCredentialInvalid(error: unknown, token: string, ctx: VerificationContext): never {
  if (error instanceof WeftError || !(error instanceof errors.JOSEError)) throw error;
  throw new CredentialInvalid(describe(error, token, ctx));
}

function describe(error: errors.JOSEError, token: string, ctx: VerificationContext): string {
  const what = ctx.credential;
  if (error instanceof errors.JWTExpired) {
    return `${what} expired at ${isoDate(error.payload.exp)} (now ${ctx.now.toISOString()}, tolerance ${CLOCK_TOLERANCE_SECONDS}s)`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) return describeClaim(error, ctx);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return `bad signature: the ${what} was not signed by a key of ${ctx.keyOwner}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return `bad signature: no key of ${ctx.keyOwner} matches the ${what} (${keyHint(token)})`;
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return `ambiguous signing key: several keys of ${ctx.keyOwner} match the ${what} (${keyHint(token)}); it must name one with "kid"`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `${what} algorithm ${JSON.stringify(headerOf(token)?.alg ?? null)} is not allowed: expected one of ${ctx.algorithms.join(", ")}`;
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return `malformed ${what}: ${error.message}`;
  }
  // JWKS fetch failures (timeout, non-200, not JSON) and invalid keys published by the issuer.
  return `cannot verify the ${what}: the keys of ${ctx.keyOwner} are unavailable or invalid: ${error.message}`;
}

function describeClaim(error: errors.JWTClaimValidationFailed, ctx: VerificationContext): string {
  const what = ctx.credential;
  const { claim, reason, payload } = error;
  if (reason === "missing") return `${what} has no "${claim}" claim`;
  if (reason === "invalid") return `malformed ${what}: ${error.message}`;
  switch (claim) {
    case "nbf":
      return `${what} is not yet valid: it is valid from ${isoDate(payload.nbf)} (now ${ctx.now.toISOString()}, tolerance ${CLOCK_TOLERANCE_SECONDS}s)`;
    case "aud":
      return `wrong audience: the ${what} is for ${JSON.stringify(payload.aud)}, expected one of ${ctx.audiences.map((a) => JSON.stringify(a)).join(", ")}`;
    case "iss":
      return `wrong issuer: the ${what} was issued by ${JSON.stringify(payload.iss)}, expected ${ctx.keyOwner}`;
    case "iat":
      return `${what} was issued in the future: iat is ${isoDate(payload.iat)} (now ${ctx.now.toISOString()})`;
    default:
      return `${what} claim "${claim}" is invalid: ${error.message}`;
  }
}

function isoDate(seconds: unknown): string {
  return typeof seconds === "number" && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : String(seconds);
}

function headerOf(token: string): Record<string, unknown> | undefined {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

function keyHint(token: string): string {
  const header = headerOf(token);
  return `kid ${JSON.stringify(header?.kid ?? null)}, alg ${JSON.stringify(header?.alg ?? null)}`;
}
