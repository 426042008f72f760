/**
 * @module security
 * Inbound security of the proxy core: PeerAuthentication, RequestAuthentication and
 * AuthorizationPolicy, compiled once per config and checked once per request. Web APIs and jose only.
 */
export type {
  AuthorizationAttributes,
  CustomAuthorizer,
  InboundSecurity,
  InboundSecurityOptions,
  PeerInfo,
  SecurityDecision,
} from "./types.js";
export { createInboundSecurity, DEFAULT_JWKS_CACHE_MS } from "./inbound-security.js";
export {
  compileAuthorization,
  evaluateAuthorization,
  rbacDetails,
  type AuthorizationVerdict,
  type CompiledAuthorization,
  type CustomCheck,
} from "./authorization.js";
export { createJwtAuthentication, JWT_MESSAGES, type JwtAuthentication, type JwtAuthenticationOptions, type JwtOutcome } from "./request-authentication.js";
export { createPeerAuthentication, normalizeSerial, type PeerAuthentication, type PeerOutcome } from "./peer-authentication.js";
export { parseIp, parseIpBlock, ipInBlock, type IpBlock } from "./ip-block.js";
export { parsePrincipal, type PrincipalParts } from "./request-view.js";
