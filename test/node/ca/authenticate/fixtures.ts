// Shared test fixtures: a frozen clock, Kubernetes-style issuer key pairs, and tokens shaped like
// real projected service-account tokens, signed with jose exactly as an API server would.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from "jose";
import { expect } from "vitest";
import { CredentialInvalid } from "../../../../control/errors.js";

/** The frozen "now" of every test. */
export const NOW = new Date("2026-03-01T12:00:00.000Z");
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
export const frozenClock = (): Date => new Date(NOW);

export const ISSUER = "https://kubernetes.default.svc.cluster.local";
export const AUDIENCE = "weft-ca";

export type IssuerAlgorithm = "RS256" | "ES256" | "PS256" | "ES384";

export interface IssuerKey {
  alg: IssuerAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
}

/** A fresh key pair for an issuer and its public JWKS, as served at /openid/v1/jwks. */
export async function issuerKey(alg: IssuerAlgorithm, kid: string): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, jwks: { keys: [jwk] } };
}

/** The claims of a projected service-account token for pod bookinfo-6d4f in default/bookinfo. */
export function projectedClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: "system:serviceaccount:default:bookinfo",
    aud: [AUDIENCE],
    iat: NOW_SECONDS - 60,
    nbf: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 3600,
    "kubernetes.io": {
      namespace: "default",
      pod: { name: "bookinfo-6d4f7c9b8-x2x7q", uid: "0b5a9c6e-3c1f-4f0a-9d7e-2f1a1e7b9c11" },
      serviceaccount: { name: "bookinfo", uid: "7c3e8a1d-5b2f-4c6e-8a9d-1e2f3a4b5c6d" },
    },
    ...overrides,
  };
}

/** Signs `claims` with `key` (header: alg, kid, typ JWT); claims set to undefined are left out. */
export async function signToken(key: IssuerKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const present = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return new SignJWT(present).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

export function base64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** Asserts that `promise` rejects with CredentialInvalid (code ERR_CREDENTIAL_INVALID) whose message matches `message`. */
export async function expectCredentialInvalid(promise: Promise<unknown>, message: RegExp): Promise<CredentialInvalid> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected CredentialInvalid, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialInvalid);
  expect((error as CredentialInvalid).code).toBe("ERR_CREDENTIAL_INVALID");
  expect((error as CredentialInvalid).message).toMatch(message);
  return error as CredentialInvalid;
}
