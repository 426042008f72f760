/**
 * @module security/request-authentication
 * RequestAuthentication: JWT verification as Istio configures Envoy's jwt_authn filter.
 *
 * - The token is the first one found, trying each rule's locations in rule order (see
 *   jwt-token-location). No token: the request passes without a request principal (an
 *   AuthorizationPolicy may then require one). No rules: tokens are not looked at at all.
 * - The token's `iss` picks the rule among those reading that location; none: `Jwt issuer is not configured`.
 * - The signature is checked against the rule's inline `jwks`, else its `jwksUri` (cached, see
 *   jwks-cache), else the issuer's OpenID discovery document; then `aud` against `audiences` (any
 *   audience when none are given), `exp`/`nbf` against `now()` with Envoy's 60 s clock skew.
 * - A bad token is answered 401 with Envoy's message as the body, `WWW-Authenticate: Bearer
 *   realm="<url without query>", error="invalid_token"`, details `jwt_authn_access_denied{<message>}`.
 * - A good one gives the principal `iss/sub` and its claims; the token is removed from the request
 *   unless `forwardOriginalToken`; `outputPayloadToHeader` receives the token's payload segment
 *   (base64url JSON, as Envoy forwards it) and `outputClaimToHeaders` string, number and boolean
 *   claims. Those output headers are always cleared from the incoming request first, so a client
 *   cannot supply them itself.
 */
import { decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import type { JwtRule } from "../config/proxy-config.js";
import { JwksCache, JwksFetchError, type KeyLookup, keySetOf } from "./jwks-cache.js";
import { type TokenLocation, locationKey, locationsOf, removeToken, tokenAt } from "./jwt-token-location.js";

/** Envoy's jwt_authn status messages. */
export const JWT_MESSAGES = {
  badFormat: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
  unknownIssuer: "Jwt issuer is not configured",
  expired: "Jwt is expired",
  notYetValid: "Jwt not yet valid",
  audience: "Audiences in Jwt are not allowed",
  verification: "Jwt verification fails",
  noKey: "Jwks doesn't have key to match kid or alg from Jwt",
  fetch: "Jwks remote fetch is failed",
  badJwks: "Jwks is an invalid JSON",
} as const;

/** Envoy's default clock skew for exp/nbf. */
const CLOCK_SKEW_SECONDS = 60;

export interface JwtAuthenticationOptions {
  fetchJwks(uri: string): Promise<unknown>;
  now(): number;
  jwksCacheMs: number;
}

export type JwtOutcome =
  | { ok: true; request: Request; principal?: string; claims?: Readonly<Record<string, unknown>> }
  | { ok: false; response: Response; details: string };

export interface JwtAuthentication {
  /** False when there are no rules: {@link JwtAuthentication.authenticate} passes every request unchanged. */
  readonly active: boolean;
  authenticate(request: Request): Promise<JwtOutcome>;
}

type KeySource = { kind: "inline"; keys: KeyLookup } | { kind: "bad-inline" } | { kind: "remote"; uri: string } | { kind: "discovery" };

interface CompiledRule {
  rule: JwtRule;
  keys: KeySource;
  verify: JWTVerifyOptions;
}

interface LocationEntry {
  location: TokenLocation;
  rules: CompiledRule[];
}

function keySourceOf(rule: JwtRule): KeySource {
  if (rule.jwks !== undefined) {
    try {
      return { kind: "inline", keys: keySetOf(rule.jwks) };
    } catch {
      return { kind: "bad-inline" };
    }
  }
  return rule.jwksUri ? { kind: "remote", uri: rule.jwksUri } : { kind: "discovery" };
}

/** A failure to report to the client. */
class JwtRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function messageOf(error: unknown): string {
  if (error instanceof JwtRejection) return error.reason;
  if (error instanceof JwksFetchError) return JWT_MESSAGES.fetch;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return JWT_MESSAGES.expired;
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (error as { claim?: unknown }).claim;
      if (claim === "nbf") return JWT_MESSAGES.notYetValid;
      if (claim === "aud") return JWT_MESSAGES.audience;
      if (claim === "iss") return JWT_MESSAGES.unknownIssuer;
      return JWT_MESSAGES.verification;
    }
    case "ERR_JWKS_NO_MATCHING_KEY":
      return JWT_MESSAGES.noKey;
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return JWT_MESSAGES.badFormat;
    default:
      return JWT_MESSAGES.verification;
  }
}

/** Verifies with a key set, trying each candidate key when several match (no `kid`). */
async function verifyWith(token: string, keys: KeyLookup, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw error;
    let last: unknown = error;
    for await (const key of error as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        last = inner;
        // A key that fails the signature may be the wrong one; a claim failure is final.
        if ((inner as { code?: unknown }).code !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") throw inner;
      }
    }
    throw last;
  }
}

/** The claim a header receives: `a.b` reads nested claims when there is no claim named `a.b`. */
function claimValue(payload: JWTPayload, claim: string): string | undefined {
  let value: unknown = payload[claim];
  if (value === undefined && claim.includes(".")) {
    value = payload;
    for (const part of claim.split(".")) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
}

function rebuild(request: Request, url: URL | undefined, headers: Headers): Request {
  if (url === undefined) return new Request(request, { headers });
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, redirect: request.redirect, signal: request.signal };
  if (request.body !== null) {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(url, init);
}

function unauthorized(request: Request, message: string): JwtOutcome {
  let realm = request.url;
  try {
    const u = new URL(request.url);
    realm = `${u.origin}${u.pathname}`;
  } catch {
    // keep the URL as given
  }
  const response = new Response(message, {
    status: 401,
    headers: { "content-type": "text/plain", "www-authenticate": `Bearer realm="${realm}", error="invalid_token"` },
  });
  return { ok: false, response, details: `jwt_authn_access_denied{${message.replace(/ /g, "_")}}` };
}

const INACTIVE: JwtAuthentication = { active: false, authenticate: (request) => Promise.resolve({ ok: true, request }) };

/** Compiles the JWT rules of a workload once. */
export function createJwtAuthentication(rules: readonly JwtRule[], options: JwtAuthenticationOptions): JwtAuthentication {
  if (rules.length === 0) return INACTIVE;
  const cache = new JwksCache(options.fetchJwks, options.now, options.jwksCacheMs);
  const locations = new Map<string, LocationEntry>();
  const outputHeaders = new Set<string>();
  for (const rule of rules) {
    const compiled: CompiledRule = {
      rule,
      keys: keySourceOf(rule),
      verify: { issuer: rule.issuer, clockTolerance: CLOCK_SKEW_SECONDS, ...(rule.audiences && rule.audiences.length > 0 ? { audience: rule.audiences } : {}) },
    };
    for (const location of locationsOf(rule)) {
      const key = locationKey(location);
      const entry = locations.get(key) ?? { location, rules: [] };
      entry.rules.push(compiled);
      locations.set(key, entry);
    }
    if (rule.outputPayloadToHeader) outputHeaders.add(rule.outputPayloadToHeader.toLowerCase());
    for (const c of rule.outputClaimToHeaders ?? []) outputHeaders.add(c.header.toLowerCase());
  }
  const entries = [...locations.values()];

  async function verify(token: string, rule: CompiledRule): Promise<JWTPayload> {
    const verifyOptions = { ...rule.verify, currentDate: new Date(options.now()) };
    const source = rule.keys;
    if (source.kind === "inline") return verifyWith(token, source.keys, verifyOptions);
    if (source.kind === "bad-inline") throw new JwtRejection(JWT_MESSAGES.badJwks);
    const uri = source.kind === "remote" ? source.uri : await cache.discover(rule.rule.issuer);
    try {
      return await verifyWith(token, await cache.keys(uri), verifyOptions);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ERR_JWKS_NO_MATCHING_KEY") throw error;
      const fresh = await cache.refetchForUnknownKey(uri);
      if (!fresh) throw error;
      return verifyWith(token, fresh, verifyOptions);
    }
  }

  function withoutOutputHeaders(request: Request): Request {
    let headers: Headers | undefined;
    for (const name of outputHeaders) {
      if (!request.headers.has(name)) continue;
      headers ??= new Headers(request.headers);
      headers.delete(name);
    }
    return headers ? new Request(request, { headers }) : request;
  }

  async function authenticate(request: Request): Promise<JwtOutcome> {
    let url: URL | undefined;
    const urlOf = () => (url ??= new URL(request.url));
    let found: { token: string; entry: LocationEntry } | undefined;
    for (const entry of entries) {
      const token = tokenAt(request, urlOf, entry.location);
      if (token !== undefined) {
        found = { token, entry };
        break;
      }
    }
    if (!found) return { ok: true, request: withoutOutputHeaders(request) };

    let payload: JWTPayload;
    let rule: CompiledRule | undefined;
    try {
      const issuer = decodeJwt(found.token).iss;
      rule = found.entry.rules.find((r) => r.rule.issuer === issuer);
      if (!rule) throw new JwtRejection(JWT_MESSAGES.unknownIssuer);
      payload = await verify(found.token, rule);
    } catch (error) {
      return unauthorized(request, messageOf(error));
    }

    const headers = new Headers(request.headers);
    for (const name of outputHeaders) headers.delete(name);
    const newUrl = rule.rule.forwardOriginalToken ? undefined : removeToken(headers, urlOf(), found.entry.location);
    if (rule.rule.outputPayloadToHeader) headers.set(rule.rule.outputPayloadToHeader, found.token.split(".")[1] ?? "");
    for (const { header, claim } of rule.rule.outputClaimToHeaders ?? []) {
      const value = claimValue(payload, claim);
      if (value !== undefined) headers.set(header, value);
    }
    return { ok: true, request: rebuild(request, newUrl, headers), principal: `${payload.iss ?? ""}/${payload.sub ?? ""}`, claims: payload };
  }

  return { active: true, authenticate };
}
