/**
 * @module ca/authenticate/dispatch
 * Picks the authenticator for a bearer credential by its shape, without verifying it: the route
 * then hands the credential to that authenticator, which verifies everything.
 */
import { isJoinToken } from "./join-token.js";
import { isJwtShaped } from "./jwt-peek.js";

/** Which authenticator verifies a bearer credential. */
export type AuthenticatorKind = "join-token" | "kubernetes-jwt" | "api-token";

/**
 * A JWT whose `iss` is "weft" → "join-token"; any other JWT-shaped token (three base64url parts) →
 * "kubernetes-jwt"; anything else → "api-token" (the admin/viewer tokens checked by control/http/auth.ts).
 */
export function chooseAuthenticator(token: string): AuthenticatorKind {
  if (isJoinToken(token)) return "join-token";
  if (isJwtShaped(token)) return "kubernetes-jwt";
  return "api-token";
}
