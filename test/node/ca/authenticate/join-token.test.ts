// Join tokens the control plane signs for VMs and the edge: round trip, and each way one is refused.
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BadRequest, Unauthorized } from "../../../../control/errors.js";
import {
  createJoinToken,
  createJoinTokenAuthenticator,
  isJoinToken,
  JOIN_TOKEN_AUDIENCE,
  JOIN_TOKEN_ISSUER,
  MAX_JOIN_TOKEN_TTL_SECONDS,
} from "../../../../control/ca/authenticate/join-token.js";
import { base64url, expectCredentialInvalid, frozenClock, NOW, NOW_SECONDS } from "./fixtures.js";

const SECRET = new Uint8Array(32).map((_, i) => i + 1);
const TRUST_DOMAIN = "cluster.local";
const authenticator = createJoinTokenAuthenticator({ secret: SECRET, trustDomain: TRUST_DOMAIN, now: frozenClock });

const create = (overrides: Partial<Parameters<typeof createJoinToken>[0]> = {}) =>
  createJoinToken({ secret: SECRET, trustDomain: TRUST_DOMAIN, namespace: "vms", serviceAccount: "billing", ttlSeconds: 3600, now: frozenClock, ...overrides });

async function badRequestOf(promise: Promise<unknown>): Promise<BadRequest> {
  const error = await promise.then(
    () => {
      throw new Error("expected BadRequest");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BadRequest);
  return error as BadRequest;
}

describe("join tokens: creation", () => {
  it("signs an HS256 JWT with the documented claims", async () => {
    const token = await create({ jti: "vm-42" });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodeJwt(token)).toEqual({
      iss: JOIN_TOKEN_ISSUER,
      aud: JOIN_TOKEN_AUDIENCE,
      sub: "spiffe://cluster.local/ns/vms/sa/billing",
      iat: NOW_SECONDS,
      nbf: NOW_SECONDS,
      exp: NOW_SECONDS + 3600,
      jti: "vm-42",
      ns: "vms",
      sa: "billing",
    });
    expect(JOIN_TOKEN_ISSUER).toBe("weft");
  });

  it("gives each token a random jti", async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(decodeJwt(a).jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(decodeJwt(a).jti).not.toBe(decodeJwt(b).jti);
  });

  it("refuses a TTL over 30 days, naming ttlSeconds", async () => {
    expect(MAX_JOIN_TOKEN_TTL_SECONDS).toBe(30 * 24 * 3600);
    expect(decodeJwt(await create({ ttlSeconds: MAX_JOIN_TOKEN_TTL_SECONDS })).exp).toBe(NOW_SECONDS + MAX_JOIN_TOKEN_TTL_SECONDS);
    const error = await badRequestOf(create({ ttlSeconds: MAX_JOIN_TOKEN_TTL_SECONDS + 1 }));
    expect(error.causes).toEqual([{ field: "ttlSeconds", message: expect.stringContaining("longer than the maximum of 2592000s (30 days)") }]);
  });

  it("refuses names that are not RFC 1123 labels, and a zero or fractional TTL, naming every field", async () => {
    const error = await badRequestOf(create({ namespace: "Prod", serviceAccount: "web.frontend", ttlSeconds: 0 }));
    expect(error.causes.map((c) => c.field)).toEqual(["namespace", "serviceAccount", "ttlSeconds"]);
    expect((await badRequestOf(create({ ttlSeconds: 1.5 }))).causes).toEqual([{ field: "ttlSeconds", message: expect.stringContaining("positive whole number") }]);
    expect((await badRequestOf(create({ jti: "has space" }))).causes).toEqual([{ field: "jti", message: expect.any(String) }]);
  });

  it("refuses a short secret or a bad trust domain as programmer mistakes", async () => {
    await expect(create({ secret: new Uint8Array(16) })).rejects.toThrow(TypeError);
    await expect(create({ trustDomain: "Cluster Local" })).rejects.toThrow(TypeError);
    expect(() => createJoinTokenAuthenticator({ secret: new Uint8Array(31), trustDomain: TRUST_DOMAIN, now: frozenClock })).toThrow(/at least 32 bytes/);
  });
});

describe("join tokens: authentication", () => {
  it("round-trips to the workload identity, with the jti as audit subject", async () => {
    const caller = await authenticator.authenticate(await create({ jti: "vm-42" }));
    expect(caller).toEqual({ kind: "workload", identity: { namespace: "vms", serviceAccount: "billing" }, via: "join-token", subject: "vm-42" });
  });

  it("refuses an expired token, checked against the injected clock", async () => {
    const token = await create({ ttlSeconds: 600, now: () => new Date(NOW.getTime() - 3600_000) });
    await expectCredentialInvalid(authenticator.authenticate(token), /join token expired at 2026-03-01T11:10:00\.000Z/);
  });

  it("refuses a token that is not yet valid", async () => {
    const token = await create({ now: () => new Date(NOW.getTime() + 600_000) });
    await expectCredentialInvalid(authenticator.authenticate(token), /join token is not yet valid/);
  });

  it("refuses a token signed with another secret", async () => {
    const token = await create({ secret: new Uint8Array(32).fill(7) });
    await expectCredentialInvalid(authenticator.authenticate(token), /bad signature: the join token was not signed by a key of this control plane/);
  });

  it("refuses a token for another trust domain", async () => {
    const token = await create({ trustDomain: "other.mesh" });
    await expectCredentialInvalid(authenticator.authenticate(token), /wrong trust domain: the join token is for "other\.mesh", this control plane serves "cluster\.local"/);
  });

  it("refuses a tampered payload", async () => {
    const [header, payload, signature] = (await create()).split(".");
    const claims = { ...decodeJwt(`${header}.${payload}.${signature}`), ns: "kube-system", sa: "admin", sub: "spiffe://cluster.local/ns/kube-system/sa/admin" };
    await expectCredentialInvalid(authenticator.authenticate(`${header}.${base64url(claims)}.${signature}`), /bad signature/);
  });

  it("refuses a correctly signed token whose sub and ns/sa disagree", async () => {
    const token = await new SignJWT({ ns: "vms", sa: "billing" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(JOIN_TOKEN_ISSUER)
      .setAudience(JOIN_TOKEN_AUDIENCE)
      .setSubject("spiffe://cluster.local/ns/kube-system/sa/admin")
      .setIssuedAt(NOW_SECONDS)
      .setNotBefore(NOW_SECONDS)
      .setExpirationTime(NOW_SECONDS + 60)
      .setJti("j")
      .sign(SECRET);
    await expectCredentialInvalid(authenticator.authenticate(token), /two identities/);
  });

  it("refuses a correctly signed token for another audience or without jti", async () => {
    const base = () =>
      new SignJWT({ ns: "vms", sa: "billing" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(JOIN_TOKEN_ISSUER)
        .setSubject("spiffe://cluster.local/ns/vms/sa/billing")
        .setIssuedAt(NOW_SECONDS)
        .setNotBefore(NOW_SECONDS)
        .setExpirationTime(NOW_SECONDS + 60);
    await expectCredentialInvalid(authenticator.authenticate(await base().setAudience("weft-ca").setJti("j").sign(SECRET)), /wrong audience: .*expected one of "weft-join"/);
    await expectCredentialInvalid(authenticator.authenticate(await base().setAudience(JOIN_TOKEN_AUDIENCE).sign(SECRET)), /join token has no "jti" claim/);
  });

  it('refuses alg "none" and algorithms other than HS256', async () => {
    const claims = decodeJwt(await create());
    await expectCredentialInvalid(authenticator.authenticate(`${base64url({ alg: "none" })}.${base64url(claims)}.`), /algorithm "none" is not allowed: expected one of HS256/);
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: "HS512" }).sign(new Uint8Array(64).fill(1));
    await expectCredentialInvalid(authenticator.authenticate(hs512), /algorithm "HS512" is not allowed/);
  });

  it("refuses garbage, and reports a missing token as Unauthorized", async () => {
    await expectCredentialInvalid(authenticator.authenticate("garbage"), /malformed join token/);
    await expect(authenticator.authenticate("")).rejects.toBeInstanceOf(Unauthorized);
  });

  it("isJoinToken peeks at iss without verifying", async () => {
    expect(isJoinToken(await create())).toBe(true);
    expect(isJoinToken(await create({ secret: new Uint8Array(32) }))).toBe(true); // unverified: the authenticator decides
    expect(isJoinToken(`${base64url({ alg: "RS256" })}.${base64url({ iss: "https://kubernetes.default.svc" })}.c2ln`)).toBe(false);
    expect(isJoinToken("weft_abc")).toBe(false);
    expect(isJoinToken("a.b.c")).toBe(false);
  });
});
