/**
 * @module security/inbound-security
 * The inbound security chain of one workload, in Envoy's filter order: peer authentication (mTLS
 * mode, revoked certificates), request authentication (JWT), then authorization (CUSTOM → DENY →
 * ALLOW). Everything is compiled once per config; with no JWT rules and no policies a request costs
 * one peer check and no parsing. `checkAllowed` is the same chain for a host's own request head: it
 * answers only what needs no JWT, no CUSTOM provider and no denial response.
 *
 * CUSTOM providers get the request as the application would (JWT handling applied) and the peer; they
 * must not read the body (clone the request if they need it). An unknown provider, an authorizer
 * that throws, or one that refuses denies with flag `UAEX`: details `ext_authz_error` for the first
 * two, `ext_authz_denied` for a refusal (403 with an empty body, or the authorizer's own Response).
 */
import type { InboundConfig, TrustConfig } from "../config/proxy-config.js";
import { type CompiledAuthorization, compileAuthorization, evaluateAuthorization, rbacDeniedResponse, rbacDetails } from "./authorization.js";
import { createPeerAuthentication } from "./peer-authentication.js";
import { createJwtAuthentication } from "./request-authentication.js";
import type { AuthorizationAttributes, CustomAuthorizer, InboundSecurity, InboundSecurityOptions, PeerInfo, SecurityDecision } from "./types.js";

/** Istio's jwksResolver refresh interval. */
export const DEFAULT_JWKS_CACHE_MS = 20 * 60 * 1000;

const UAEX = "UAEX";

function customDenial(details: string, response?: Response): SecurityDecision {
  return { allowed: false, response: response ?? new Response(null, { status: 403 }), details, flag: UAEX };
}

async function askAuthorizer(authorizer: CustomAuthorizer | undefined, request: Request, peer: PeerInfo): Promise<SecurityDecision | undefined> {
  if (!authorizer) return customDenial("ext_authz_error");
  let result: boolean | Response;
  try {
    result = await authorizer(request, peer);
  } catch {
    return customDenial("ext_authz_error");
  }
  if (result === true) return undefined;
  return customDenial("ext_authz_denied", result instanceof Response ? result : undefined);
}

function attributesOf(request: Request, peer: PeerInfo, principal: string | undefined, requestPrincipal: string | undefined, claims: Readonly<Record<string, unknown>> | undefined): AuthorizationAttributes {
  const url = new URL(request.url);
  const attributes: AuthorizationAttributes = {
    method: request.method,
    host: request.headers.get("host") ?? url.host,
    path: url.pathname,
    port: peer.port,
    headers: request.headers,
    sourceIp: peer.sourceIp,
  };
  if (peer.remoteIp !== undefined) attributes.remoteIp = peer.remoteIp;
  if (peer.destinationIp !== undefined) attributes.destinationIp = peer.destinationIp;
  if (peer.sni !== undefined) attributes.sni = peer.sni;
  if (principal !== undefined) attributes.principal = principal;
  if (requestPrincipal !== undefined) attributes.requestPrincipal = requestPrincipal;
  if (claims !== undefined) attributes.claims = claims;
  return attributes;
}

function allowed(request: Request, principal: string | undefined, requestPrincipal: string | undefined): SecurityDecision {
  const decision: SecurityDecision = { allowed: true, request };
  if (principal !== undefined) decision.principal = principal;
  if (requestPrincipal !== undefined) decision.requestPrincipal = requestPrincipal;
  return decision;
}

/**
 * Compiles a workload's inbound config (absent: PERMISSIVE, no JWT rules, no policies) and the mesh
 * trust (absent: certificates are not checked against revocations) into its security check.
 */
export function createInboundSecurity(inbound: InboundConfig | undefined, trust: TrustConfig | undefined, options: InboundSecurityOptions): InboundSecurity {
  const peerAuthn = createPeerAuthentication(inbound?.peerAuthentication, trust);
  const jwt = createJwtAuthentication(inbound?.jwtRules ?? [], {
    fetchJwks: (uri) => options.fetchJwks(uri),
    now: () => options.now(),
    jwksCacheMs: options.jwksCacheMs ?? DEFAULT_JWKS_CACHE_MS,
  });
  const authz: CompiledAuthorization = compileAuthorization(inbound?.authorizationPolicies ?? []);
  const authorizers = options.customAuthorizers ?? {};

  async function check(request: Request, peer: PeerInfo): Promise<SecurityDecision> {
    const peerOutcome = peerAuthn.check(peer);
    if (!peerOutcome.ok) return { allowed: false, response: peerOutcome.response, details: peerOutcome.details };
    const principal = peerOutcome.principal;
    if (!jwt.active && authz.allowsAll) return allowed(request, principal, undefined);

    let current = request;
    let requestPrincipal: string | undefined;
    let claims: Readonly<Record<string, unknown>> | undefined;
    if (jwt.active) {
      const outcome = await jwt.authenticate(request);
      if (!outcome.ok) return { allowed: false, response: outcome.response, details: outcome.details };
      current = outcome.request;
      requestPrincipal = outcome.principal;
      claims = outcome.claims;
    }
    if (authz.allowsAll) return allowed(current, principal, requestPrincipal);

    const verdict = evaluateAuthorization(authz, attributesOf(current, peer, principal, requestPrincipal, claims));
    const asked = new Set<string>();
    for (const { provider } of verdict.custom) {
      if (asked.has(provider)) continue;
      asked.add(provider);
      const denial = await askAuthorizer(Object.hasOwn(authorizers, provider) ? authorizers[provider] : undefined, current, peer);
      if (denial) return denial;
    }
    if (!verdict.allowed) return { allowed: false, response: rbacDeniedResponse(), details: rbacDetails(verdict.policy) };
    return allowed(current, principal, requestPrincipal);
  }

  function checkAllowed(peer: PeerInfo, attributes: (principal: string | undefined) => AuthorizationAttributes): { principal: string | undefined } | undefined {
    const peerOutcome = peerAuthn.check(peer);
    if (!peerOutcome.ok || jwt.active) return undefined;
    const principal = peerOutcome.principal;
    if (authz.allowsAll) return { principal };
    const verdict = evaluateAuthorization(authz, attributes(principal));
    return verdict.allowed && verdict.custom.length === 0 ? { principal } : undefined;
  }

  return { check, checkAllowed };
}
