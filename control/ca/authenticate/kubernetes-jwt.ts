/**
 * @module ca/authenticate/kubernetes-jwt
 * Authenticates a workload by its Kubernetes service-account token (a projected, audience-bound JWT),
 * verified locally against the public keys of a trusted cluster issuer, without a TokenReview call.
 * The unverified `iss` only selects which issuer's keys and audiences to verify against.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { CredentialInvalid, Unauthorized } from "../../errors.js";
import type { Authenticator, Caller } from "./identity.js";
import { CLOCK_TOLERANCE_SECONDS, rethrowAsCredentialInvalid } from "./jose-failure.js";
import { JOIN_TOKEN_ISSUER } from "./join-token.js";
import { isJwtShaped, MAX_TOKEN_LENGTH, peekJwtClaims } from "./jwt-peek.js";
import { SERVICE_ACCOUNT_SUBJECT_PREFIX, serviceAccountIdentityFromClaims } from "./service-account-identity.js";
import type { TrustedIssuer } from "./trusted-issuers.js";

export { CLOCK_TOLERANCE_SECONDS } from "./jose-failure.js";
export { parseTrustedIssuers, trustedIssuersSchema, type TrustedIssuer } from "./trusted-issuers.js";

/** Signature algorithms accepted on service-account tokens (the API server signs with RS256 or ES256). */
export const KUBERNETES_JWT_ALGORITHMS: readonly string[] = ["RS256", "ES256", "PS256", "ES384"];

export interface KubernetesJwtAuthenticatorOptions {
  /** Trusted issuers; validate untrusted configuration with `parseTrustedIssuers` first. */
  issuers: TrustedIssuer[];
  /** The clock that `exp`, `nbf` and `iat` are checked against. */
  now: () => Date;
  /** Used to fetch `jwksUri` key sets; defaults to the global fetch. */
  fetch?: typeof fetch;
}

interface IssuerVerifier {
  config: TrustedIssuer;
  keys: JWTVerifyGetKey;
}

/**
 * Creates the service-account token authenticator. Each `jwksUri` key set is fetched on first use and
 * cached inside this authenticator (jose: refreshed after 10 minutes, or on an unknown `kid` at most
 * every 30 seconds; those two timers follow the system clock, not `now`).
 * Throws TypeError for a configuration mistake.
 */
export function createKubernetesJwtAuthenticator(options: KubernetesJwtAuthenticatorOptions): Authenticator {
  const { now } = options;
  if (typeof now !== "function") throw new TypeError("createKubernetesJwtAuthenticator: now must be a function returning a Date");
  const verifiers = new Map<string, IssuerVerifier>();
  for (const config of options.issuers) {
    if (config.issuer === JOIN_TOKEN_ISSUER) throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${JSON.stringify(JOIN_TOKEN_ISSUER)} is reserved for join tokens`);
    if (verifiers.has(config.issuer)) throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${JSON.stringify(config.issuer)} is listed twice`);
    verifiers.set(config.issuer, { config, keys: issuerKeys(config, options.fetch) });
  }

  return {
    async authenticate(token: string): Promise<Caller> {
      if (typeof token !== "string") throw new TypeError("authenticate: token must be a string");
      if (token === "") throw new Unauthorized("missing service-account token");
      const claims = peekJwtClaims(token);
      if (!claims) {
        const why =
          token.length > MAX_TOKEN_LENGTH
            ? `it is longer than ${MAX_TOKEN_LENGTH} characters`
            : isJwtShaped(token)
              ? "its payload is not base64url-encoded JSON"
              : "it is not a compact JWT (header.payload.signature)";
        throw new CredentialInvalid(`malformed service-account token: ${why}`);
      }
      if (typeof claims.iss !== "string") throw new CredentialInvalid('malformed service-account token: it has no "iss" claim');
      const verifier = verifiers.get(claims.iss);
      if (!verifier) throw new CredentialInvalid(`unknown issuer ${JSON.stringify(claims.iss)}: it is not one of the trusted Kubernetes token issuers`);

      const currentDate = now();
      const { issuer, audiences } = verifier.config;
      let payload;
      try {
        ({ payload } = await jwtVerify(token, verifier.keys, {
          issuer,
          audience: audiences,
          algorithms: [...KUBERNETES_JWT_ALGORITHMS],
          currentDate,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ["exp"],
        }));
      } catch (error) {
        rethrowAsCredentialInvalid(error, token, {
          credential: "service-account token",
          keyOwner: `issuer ${JSON.stringify(issuer)}`,
          audiences,
          algorithms: KUBERNETES_JWT_ALGORITHMS,
          now: currentDate,
        });
      }
      const identity = serviceAccountIdentityFromClaims(payload);
      return {
        kind: "workload",
        identity,
        via: "kubernetes-jwt",
        subject: `${SERVICE_ACCOUNT_SUBJECT_PREFIX}${identity.namespace}:${identity.serviceAccount}`,
      };
    },
  };
}

function issuerKeys(config: TrustedIssuer, fetchImpl: typeof fetch | undefined): JWTVerifyGetKey {
  const name = JSON.stringify(config.issuer);
  if (!Array.isArray(config.audiences) || config.audiences.length === 0) {
    throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${name} must list at least one audience`);
  }
  if ((config.jwks === undefined) === (config.jwksUri === undefined)) {
    throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${name} must set exactly one of jwks and jwksUri`);
  }
  if (config.jwks !== undefined) {
    try {
      return createLocalJWKSet(config.jwks);
    } catch (error) {
      throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${name} has an invalid jwks: ${(error as Error).message}`);
    }
  }
  const uri = jwksUrl(config.jwksUri!, name);
  const remote = createRemoteJWKSet(uri, fetchImpl ? { [customFetch]: (url, init) => fetchImpl(url, init) } : {});
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      // jose reports HTTP and JSON problems itself; a network failure arrives as a plain error from fetch.
      if (error instanceof errors.JOSEError) throw error;
      throw new CredentialInvalid(`cannot verify the service-account token: fetching the keys of issuer ${name} from ${uri.href} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  };
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

// https, or plain http to a loopback address for local development.
function jwksUrl(text: string, name: string): URL {
  if (!URL.canParse(text)) throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${name} has an invalid jwksUri ${JSON.stringify(text)}`);
  const url = new URL(text);
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return url;
  throw new TypeError(`createKubernetesJwtAuthenticator: issuer ${name} jwksUri must be https (http only to a loopback address)`);
}
