/**
 * @module security/types
 * The contract between the proxy engine and inbound security: PeerAuthentication (mTLS mode per port,
 * trust bundle and revoked serials), RequestAuthentication (JWTs verified with jose) and
 * AuthorizationPolicy (CUSTOM → DENY → ALLOW). The engine calls `check` once per inbound request.
 */
import type { HeaderMap } from "../http/header-list.js";

/** What the host knows of the downstream connection. */
export interface PeerInfo {
  /** The port the request arrived on. */
  port: number;
  /** Whether the connection was mutual TLS with a verified client certificate. */
  mtls: boolean;
  /** The client certificate's SPIFFE ID (`spiffe://cluster.local/ns/default/sa/sleep`), when mtls. */
  spiffeId?: string;
  /** The client certificate's serial (lowercase hex), when mtls; checked against revoked serials. */
  certificateSerial?: string;
  /** The direct peer's IP (source.ip, ipBlocks). */
  sourceIp: string;
  /** The original client's IP (remoteIpBlocks): from X-Forwarded-For when the host trusts it, else sourceIp. */
  remoteIp?: string;
  /** The local address the connection arrived on (the `destination.ip` condition), when the host knows it. */
  destinationIp?: string;
  /** The TLS server name the peer asked for (the `connection.sni` condition), when TLS. */
  sni?: string;
}

/** An external authorizer for CUSTOM policies, by provider name; resolves true to allow. */
export type CustomAuthorizer = (request: Request, peer: PeerInfo) => Promise<boolean | Response>;

export interface InboundSecurityOptions {
  /** Fetches a JWKS document (JSON) for a jwksUri; the core caches the result. */
  fetchJwks(uri: string): Promise<unknown>;
  /** Epoch milliseconds (JWT exp/nbf checks; tests freeze it). */
  now(): number;
  /** CUSTOM providers. A CUSTOM policy naming an unknown provider denies (fails closed). */
  customAuthorizers?: Record<string, CustomAuthorizer>;
  /** How long a fetched JWKS is kept, ms. Default 20 minutes (Istio's jwksResolver refresh). */
  jwksCacheMs?: number;
}

export type SecurityDecision =
  | {
      allowed: true;
      /** The request to pass on: JWT removed unless forwardOriginalToken, payload/claim headers added. */
      request: Request;
      /** `iss/sub` of the verified JWT, if any. */
      requestPrincipal?: string;
      /** `cluster.local/ns/default/sa/sleep` (the SPIFFE ID without `spiffe://`), if mtls. */
      principal?: string;
    }
  | {
      allowed: false;
      /** 401 for a bad JWT (with WWW-Authenticate), 403 `RBAC: access denied` for a policy denial. */
      response: Response;
      /** Why, for the access log's response_code_details: `jwt_authn_access_denied`, `rbac_access_denied_matched_policy[ns/name]`, `peer_authentication_strict`, ... */
      details: string;
      /** Envoy response flag, when one applies (`UAEX` for a CUSTOM denial). */
      flag?: string;
    };

export interface InboundSecurity {
  check(request: Request, peer: PeerInfo): Promise<SecurityDecision>;
  /**
   * The same check without a web Request, for requests `check` would allow without JWT or CUSTOM work:
   * the peer's principal when allowed; undefined when the request needs `check` (JWT rules apply, a
   * CUSTOM provider must be asked, or it is denied: `check` builds the denial). `attributes` is called
   * at most once, with the peer's principal, when an AuthorizationPolicy must be evaluated.
   */
  checkAllowed(peer: PeerInfo, attributes: (principal: string | undefined) => AuthorizationAttributes): { principal: string | undefined } | undefined;
}

/**
 * What authorization reads of one request, gathered once per request by inbound security (or by a
 * benchmark) and passed to `evaluateAuthorization`.
 */
export interface AuthorizationAttributes {
  method: string;
  /** The `:authority` / `Host` value as received, port and all. */
  host: string;
  /** The path without the query. */
  path: string;
  /** The port the request arrived on (`ports`, `destination.port`). */
  port: number;
  headers: HeaderMap;
  /** The direct peer's IP (`ipBlocks`, `source.ip`). */
  sourceIp?: string;
  /** The original client's IP (`remoteIpBlocks`, `remote.ip`); sourceIp when absent. */
  remoteIp?: string;
  destinationIp?: string;
  sni?: string;
  /** The peer's identity without `spiffe://` (`cluster.local/ns/default/sa/sleep`), when mTLS. */
  principal?: string;
  /** `iss/sub` of the verified JWT. */
  requestPrincipal?: string;
  /** The verified JWT's payload (`request.auth.*` conditions). */
  claims?: Readonly<Record<string, unknown>>;
}
