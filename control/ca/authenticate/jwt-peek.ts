/**
 * @module ca/authenticate/jwt-peek
 * Unverified looks at a bearer credential, only to decide which authenticator should verify it.
 * Nothing read here is trusted: every authenticator verifies the token in full afterwards.
 */
import { decodeJwt, type JWTPayload } from "jose";

/** Longest credential any authenticator accepts; a projected service-account token is about 1 KiB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

// Compact JWS: header.payload.signature, each base64url without padding (an `alg: none` token has an empty signature).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether `token` has the shape of a compact JWT: three base64url parts separated by dots. */
export function isJwtShaped(token: string): boolean {
  return COMPACT_JWS.test(token);
}

/** The claims of a JWT-shaped token of at most MAX_TOKEN_LENGTH characters, unverified; undefined when they do not decode. */
export function peekJwtClaims(token: string): JWTPayload | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !isJwtShaped(token)) return undefined;
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
