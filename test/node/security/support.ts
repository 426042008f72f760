/**
 * @module test/node/security/support
 * Builders for the inbound-security tests: Istio objects from YAML, proxy identities, peers,
 * requests, inbound configs, and real JWTs signed with jose (ES256 and RS256 key pairs).
 */
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from "jose";
import { parseAllDocuments } from "yaml";
import type { IstioObject } from "../../../edge-proxy/core/config/build/istio-objects.js";
import type { AuthorizationPolicyConfig, InboundConfig, JwtRule, ProxyIdentity } from "../../../edge-proxy/core/config/proxy-config.js";
import { createInboundSecurity } from "../../../edge-proxy/core/security/inbound-security.js";
import type { InboundSecurity, InboundSecurityOptions, PeerInfo, SecurityDecision } from "../../../edge-proxy/core/security/types.js";

/** Every document of a YAML stream as an IstioObject (namespace defaults to `default`). */
export function istio(yaml: string): IstioObject[] {
  return parseAllDocuments(yaml).flatMap((doc) => {
    const v = doc.toJS() as { kind: string; apiVersion?: string; metadata: { name: string; namespace?: string; creationTimestamp?: string }; spec?: unknown } | null;
    if (!v) return [];
    const metadata: IstioObject["metadata"] = { name: v.metadata.name, namespace: v.metadata.namespace ?? "default" };
    if (v.metadata.creationTimestamp !== undefined) metadata.creationTimestamp = String(v.metadata.creationTimestamp);
    const o: IstioObject = { kind: v.kind, metadata, spec: v.spec ?? {} };
    if (v.apiVersion !== undefined) o.apiVersion = v.apiVersion;
    return [o];
  });
}

export function sidecar(namespace = "default", labels: Record<string, string> = {}): ProxyIdentity {
  return { kind: "sidecar", namespace, labels, gateways: ["mesh"] };
}

export const BUILD_OPTIONS = { rootNamespace: "istio-system", clusterDomain: "cluster.local", trustDomain: "cluster.local" };

export const SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

export function peer(overrides: Partial<PeerInfo> = {}): PeerInfo {
  return { port: 8080, mtls: true, spiffeId: SLEEP, certificateSerial: "0a1b", sourceIp: "10.1.2.3", ...overrides };
}

export const plaintext = (overrides: Partial<PeerInfo> = {}): PeerInfo => peer({ mtls: false, spiffeId: undefined, certificateSerial: undefined, ...overrides });

export function get(url = "http://httpbin.default:8000/ip", headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request(url, { method, headers });
}

export function inbound(parts: Partial<InboundConfig> = {}): InboundConfig {
  return { ports: [], peerAuthentication: { mode: "PERMISSIVE" }, jwtRules: [], authorizationPolicies: [], ...parts };
}

export const policy = (name: string, action: AuthorizationPolicyConfig["action"], rules: AuthorizationPolicyConfig["rules"], provider?: string): AuthorizationPolicyConfig =>
  provider === undefined ? { name, action, rules } : { name, action, rules, provider };

/** A security check with a frozen clock (2026-01-01T00:00:00Z unless given) and counted JWKS fetches. */
export function security(config: InboundConfig | undefined, options: Partial<InboundSecurityOptions> & { jwks?: Record<string, unknown> } = {}) {
  const fetches: string[] = [];
  const clock = { now: options.now ? options.now() : Date.UTC(2026, 0, 1) };
  const jwks = options.jwks ?? {};
  const check: InboundSecurity = createInboundSecurity(config, undefined, {
    fetchJwks:
      options.fetchJwks ??
      (async (uri) => {
        fetches.push(uri);
        if (!(uri in jwks)) throw new Error(`no JWKS at ${uri}`);
        return jwks[uri];
      }),
    now: () => clock.now,
    ...(options.customAuthorizers ? { customAuthorizers: options.customAuthorizers } : {}),
    ...(options.jwksCacheMs !== undefined ? { jwksCacheMs: options.jwksCacheMs } : {}),
  });
  return { check, fetches, clock };
}

export function denied(decision: SecurityDecision): { status: number; details: string; flag?: string } {
  if (decision.allowed) throw new Error("expected a denial");
  const out: { status: number; details: string; flag?: string } = { status: decision.response.status, details: decision.details };
  if (decision.flag !== undefined) out.flag = decision.flag;
  return out;
}

export function allowedRequest(decision: SecurityDecision): Request {
  if (!decision.allowed) throw new Error(`expected the request to be allowed, got ${decision.details}`);
  return decision.request;
}

export interface Signer {
  kid: string;
  alg: "ES256" | "RS256";
  publicJwk: JWK;
  sign(payload: JWTPayload, header?: { kid?: string }): Promise<string>;
}

/** A key pair that signs JWTs; its public JWK carries `kid` and `alg`. */
export async function signer(alg: "ES256" | "RS256", kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    kid,
    alg,
    publicJwk,
    sign: (payload, header = {}) =>
      new SignJWT(payload).setProtectedHeader({ alg, kid: "kid" in header ? header.kid : kid, typ: "JWT" }).sign(privateKey),
  };
}

export const jwksOf = (...signers: Signer[]) => ({ keys: signers.map((s) => s.publicJwk) });

export function jwtRule(issuer: string, parts: Partial<JwtRule> = {}): JwtRule {
  return { policy: "default/jwt", issuer, ...parts };
}
