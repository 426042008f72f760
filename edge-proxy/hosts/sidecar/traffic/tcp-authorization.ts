/**
 * @module hosts/sidecar/traffic/tcp-authorization
 * Inbound security for a connection that is not HTTP, as Istio's inbound TCP filter chain applies it
 * (the core checks HTTP requests; a TCP connection has no request to show it):
 *
 * - `inboundMtlsMode`: the PeerAuthentication mode of a port (its `portLevel` entry, else the
 *   workload's mode, else PERMISSIVE) — what decides whether plain text is accepted at all.
 * - `authorizeTcp`: the core's PeerAuthentication check (STRICT, revoked serials, the principal), then
 *   the AuthorizationPolicies evaluated on the connection's facts (source, principal, namespace,
 *   ports, IPs, SNI). HTTP-only fields (request principals, hosts, methods, paths, `request.*`
 *   conditions) cannot hold for TCP: in an ALLOW policy a rule using one matches nothing, in DENY,
 *   AUDIT and CUSTOM policies they are dropped so the rest of the rule still applies, as Istio builds
 *   its RBAC network filter. A CUSTOM policy that matches refuses the connection (the host's external
 *   authorizers judge HTTP requests). Compiled once per config.
 */
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationPolicyConfig, AuthorizationRule, AuthorizationSource, MtlsMode, ProxyConfig } from "../../../core/config/proxy-config.js";
import { type CompiledAuthorization, compileAuthorization, evaluateAuthorization, rbacDetails } from "../../../core/security/authorization.js";
import { createPeerAuthentication, type PeerAuthentication } from "../../../core/security/peer-authentication.js";
import type { AuthorizationAttributes, PeerInfo } from "../../../core/security/types.js";

export type TcpDecision = { allowed: true } | { allowed: false; details: string };

/** The effective PeerAuthentication mode of `port` (PERMISSIVE without config). */
export function inboundMtlsMode(config: ProxyConfig | undefined, port: number): MtlsMode {
  const peerAuthentication = config?.inbound?.peerAuthentication;
  return peerAuthentication?.portLevel?.[String(port)] ?? peerAuthentication?.mode ?? "PERMISSIVE";
}

interface CompiledTcpSecurity {
  peer: PeerAuthentication;
  authorization: CompiledAuthorization;
}

const COMPILED = new WeakMap<ProxyConfig, CompiledTcpSecurity>();
const ALLOWED: TcpDecision = Object.freeze({ allowed: true });
const NO_HEADERS = new Headers();

function withoutHttpSource(source: AuthorizationSource): AuthorizationSource {
  const { requestPrincipals: _r, notRequestPrincipals: _n, ...rest } = source;
  return rest;
}

function withoutHttpOperation(operation: AuthorizationOperation): AuthorizationOperation {
  return { ...(operation.ports ? { ports: operation.ports } : {}), ...(operation.notPorts ? { notPorts: operation.notPorts } : {}) };
}

const httpOnlyCondition = (condition: AuthorizationCondition) => condition.key.startsWith("request.");

function usesHttpFields(rule: AuthorizationRule): boolean {
  const source = rule.from?.some(({ source: s }) => (s.requestPrincipals?.length ?? 0) > 0 || (s.notRequestPrincipals?.length ?? 0) > 0) ?? false;
  const operation = rule.to?.some(({ operation: o }) => [o.hosts, o.notHosts, o.methods, o.notMethods, o.paths, o.notPaths].some((list) => (list?.length ?? 0) > 0)) ?? false;
  return source || operation || (rule.when?.some(httpOnlyCondition) ?? false);
}

/** A policy as it applies to TCP connections. */
export function tcpPolicy(policy: AuthorizationPolicyConfig): AuthorizationPolicyConfig {
  if (policy.action === "ALLOW") return { ...policy, rules: policy.rules.filter((rule) => !usesHttpFields(rule)) };
  const rules = policy.rules.map((rule): AuthorizationRule => {
    const out: AuthorizationRule = {};
    if (rule.from !== undefined) out.from = rule.from.map(({ source }) => ({ source: withoutHttpSource(source) }));
    if (rule.to !== undefined) out.to = rule.to.map(({ operation }) => ({ operation: withoutHttpOperation(operation) }));
    if (rule.when !== undefined) {
      const when = rule.when.filter((c) => !httpOnlyCondition(c));
      if (when.length > 0) out.when = when;
    }
    return out;
  });
  return { ...policy, rules };
}

function compiled(config: ProxyConfig): CompiledTcpSecurity {
  let found = COMPILED.get(config);
  if (found === undefined) {
    found = {
      peer: createPeerAuthentication(config.inbound?.peerAuthentication, config.trust),
      authorization: compileAuthorization((config.inbound?.authorizationPolicies ?? []).map(tcpPolicy)),
    };
    COMPILED.set(config, found);
  }
  return found;
}

/** Whether an inbound TCP connection from `peer` may reach the application. No config: allowed. */
export function authorizeTcp(config: ProxyConfig | undefined, peer: PeerInfo): TcpDecision {
  if (config === undefined) return ALLOWED;
  const security = compiled(config);
  const outcome = security.peer.check(peer);
  if (!outcome.ok) return { allowed: false, details: outcome.details };
  if (security.authorization.allowsAll && security.authorization.audit.length === 0) return ALLOWED;
  const attributes: AuthorizationAttributes = { method: "", host: "", path: "", port: peer.port, headers: NO_HEADERS, sourceIp: peer.sourceIp };
  if (peer.destinationIp !== undefined) attributes.destinationIp = peer.destinationIp;
  if (peer.sni !== undefined) attributes.sni = peer.sni;
  if (outcome.principal !== undefined) attributes.principal = outcome.principal;
  const verdict = evaluateAuthorization(security.authorization, attributes);
  if (verdict.custom.length > 0) return { allowed: false, details: `ext_authz_denied{tcp:${verdict.custom.map((c) => c.policy).join(",")}}` };
  if (!verdict.allowed) return { allowed: false, details: rbacDetails(verdict.policy) };
  return ALLOWED;
}
