/**
 * @module ca/authenticate/join-token
 * Join tokens: short-lived credentials the control plane signs itself (HS256) so that workloads
 * outside Kubernetes — VMs and the edge — can ask the CA for a certificate. Each token is scoped to
 * one namespace and service account, carried as a SPIFFE ID in `sub` and again as `ns`/`sa` claims.
 */
import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import { BadRequest, CredentialInvalid, Unauthorized, type FieldError } from "../../errors.js";
import { isDns1123Label, type Authenticator, type Caller } from "./identity.js";
import { CLOCK_TOLERANCE_SECONDS, rethrowAsCredentialInvalid } from "./jose-failure.js";
import { MAX_TOKEN_LENGTH, peekJwtClaims } from "./jwt-peek.js";
import { parseSpiffeId, spiffeId } from "../signing/spiffe-id.js";

/** The `iss` of every join token; no trusted Kubernetes issuer may use it. */
export const JOIN_TOKEN_ISSUER = "weft";
/** The `aud` of every join token. */
export const JOIN_TOKEN_AUDIENCE = "weft-join";
/** The longest lifetime a join token may have: 30 days. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
/** The shortest HS256 signing secret accepted, in bytes. */
export const MIN_JOIN_TOKEN_SECRET_BYTES = 32;

const ALGORITHM = "HS256";
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const JTI = /^[A-Za-z0-9._~-]{1,128}$/;

export interface CreateJoinTokenOptions {
  /** HS256 secret shared with the authenticator, at least 32 bytes. */
  secret: Uint8Array;
  /** The mesh's SPIFFE trust domain, e.g. `cluster.local`. */
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  /** Lifetime in whole seconds, at most MAX_JOIN_TOKEN_TTL_SECONDS. */
  ttlSeconds: number;
  now: () => Date;
  /** Token id for the audit log and revocation; random when omitted. */
  jti?: string;
}

export interface JoinTokenAuthenticatorOptions {
  secret: Uint8Array;
  trustDomain: string;
  now: () => Date;
}

/**
 * Signs a join token for one namespace and service account.
 * Throws BadRequest naming each bad field (namespace, serviceAccount, ttlSeconds, jti), TypeError for a bad secret or trust domain.
 */
export async function createJoinToken(options: CreateJoinTokenOptions): Promise<string> {
  const { secret, trustDomain, namespace, serviceAccount, ttlSeconds, now } = options;
  checkKeyMaterial("createJoinToken", secret, trustDomain, now);
  const causes: FieldError[] = [];
  if (!isDns1123Label(namespace)) causes.push({ field: "namespace", message: `${JSON.stringify(namespace)} is not an RFC 1123 label (lowercase alphanumerics and '-', at most 63)` });
  if (!isDns1123Label(serviceAccount)) causes.push({ field: "serviceAccount", message: `${JSON.stringify(serviceAccount)} is not an RFC 1123 label (lowercase alphanumerics and '-', at most 63)` });
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) causes.push({ field: "ttlSeconds", message: `must be a positive whole number of seconds, got ${JSON.stringify(ttlSeconds)}` });
  else if (ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) causes.push({ field: "ttlSeconds", message: `${ttlSeconds}s is longer than the maximum of ${MAX_JOIN_TOKEN_TTL_SECONDS}s (30 days)` });
  if (options.jti !== undefined && (typeof options.jti !== "string" || !JTI.test(options.jti))) causes.push({ field: "jti", message: "must be 1-128 characters of A-Z a-z 0-9 . _ ~ -" });
  if (causes.length > 0) throw new BadRequest(`cannot create join token: ${causes.map((c) => `${c.field}: ${c.message}`).join("; ")}`, causes);

  const issuedAt = Math.floor(now().getTime() / 1000);
  return new SignJWT({ ns: namespace, sa: serviceAccount })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setIssuer(JOIN_TOKEN_ISSUER)
    .setAudience(JOIN_TOKEN_AUDIENCE)
    .setSubject(spiffeId(trustDomain, namespace, serviceAccount))
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .setJti(options.jti ?? randomJti())
    .sign(secret);
}

/** Creates the join-token authenticator. Throws TypeError for a bad secret or trust domain. */
export function createJoinTokenAuthenticator(options: JoinTokenAuthenticatorOptions): Authenticator {
  const { secret, trustDomain, now } = options;
  checkKeyMaterial("createJoinTokenAuthenticator", secret, trustDomain, now);
  return {
    async authenticate(token: string): Promise<Caller> {
      if (typeof token !== "string") throw new TypeError("authenticate: token must be a string");
      if (token === "") throw new Unauthorized("missing join token");
      if (token.length > MAX_TOKEN_LENGTH) throw new CredentialInvalid(`malformed join token: it is longer than ${MAX_TOKEN_LENGTH} characters`);
      const currentDate = now();
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, secret, {
          issuer: JOIN_TOKEN_ISSUER,
          audience: JOIN_TOKEN_AUDIENCE,
          algorithms: [ALGORITHM],
          currentDate,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ["sub", "iat", "nbf", "exp", "jti"],
        }));
      } catch (error) {
        rethrowAsCredentialInvalid(error, token, {
          credential: "join token",
          keyOwner: "this control plane",
          audiences: [JOIN_TOKEN_AUDIENCE],
          algorithms: [ALGORITHM],
          now: currentDate,
        });
      }
      return joinTokenCaller(claims, trustDomain);
    },
  };
}

/** A cheap, unverified look: whether `token` is a JWT whose `iss` is JOIN_TOKEN_ISSUER. Never throws. */
export function isJoinToken(token: string): boolean {
  return typeof token === "string" && peekJwtClaims(token)?.iss === JOIN_TOKEN_ISSUER;
}

function joinTokenCaller(claims: JWTPayload, trustDomain: string): Caller {
  const { ns, sa, sub, jti, nbf, exp } = claims;
  const id = typeof sub === "string" ? parseSpiffeId(sub) : undefined;
  if (!id) throw new CredentialInvalid(`malformed join token: sub ${JSON.stringify(sub)} is not spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/NAME`);
  if (id.trustDomain !== trustDomain) {
    throw new CredentialInvalid(`wrong trust domain: the join token is for ${JSON.stringify(id.trustDomain)}, this control plane serves ${JSON.stringify(trustDomain)}`);
  }
  if (!isDns1123Label(ns) || !isDns1123Label(sa)) throw new CredentialInvalid('malformed join token: "ns" and "sa" must be RFC 1123 labels');
  if (id.namespace !== ns || id.serviceAccount !== sa) throw new CredentialInvalid(`join token names two identities: sub is ${JSON.stringify(sub)} but ns/sa are ${ns}/${sa}`);
  if (typeof jti !== "string" || jti === "") throw new CredentialInvalid('malformed join token: "jti" must be a non-empty string');
  if (typeof nbf === "number" && typeof exp === "number" && exp - nbf > MAX_JOIN_TOKEN_TTL_SECONDS) {
    throw new CredentialInvalid(`join token lifetime of ${exp - nbf}s is longer than the maximum of ${MAX_JOIN_TOKEN_TTL_SECONDS}s`);
  }
  return { kind: "workload", identity: { namespace: ns, serviceAccount: sa }, via: "join-token", subject: jti };
}

function checkKeyMaterial(caller: string, secret: Uint8Array, trustDomain: string, now: () => Date): void {
  if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_JOIN_TOKEN_SECRET_BYTES) {
    throw new TypeError(`${caller}: secret must be a Uint8Array of at least ${MIN_JOIN_TOKEN_SECRET_BYTES} bytes`);
  }
  if (typeof trustDomain !== "string" || !TRUST_DOMAIN.test(trustDomain)) {
    throw new TypeError(`${caller}: trustDomain ${JSON.stringify(trustDomain)} must be lowercase letters, digits, '.', '-' or '_'`);
  }
  if (typeof now !== "function") throw new TypeError(`${caller}: now must be a function returning a Date`);
}

function randomJti(): string {
  let bin = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
