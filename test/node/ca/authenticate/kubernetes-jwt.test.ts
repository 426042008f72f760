// Kubernetes service-account tokens verified against inline issuer keys: accepted identities, and
// every way a token is refused, each with the reason named. The clock is frozen at NOW.
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { Unauthorized } from "../../../../control/errors.js";
import type { Authenticator } from "../../../../control/ca/authenticate/identity.js";
import { CLOCK_TOLERANCE_SECONDS, createKubernetesJwtAuthenticator, KUBERNETES_JWT_ALGORITHMS } from "../../../../control/ca/authenticate/kubernetes-jwt.js";
import {
  AUDIENCE,
  base64url,
  expectCredentialInvalid,
  frozenClock,
  ISSUER,
  issuerKey,
  NOW,
  NOW_SECONDS,
  projectedClaims,
  signToken,
  type IssuerKey,
} from "./fixtures.js";

const EC_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

let rsa: IssuerKey;
let ec: IssuerKey;
let authenticator: Authenticator;

beforeAll(async () => {
  rsa = await issuerKey("RS256", "rsa-1");
  ec = await issuerKey("ES256", "ec-1");
  authenticator = createKubernetesJwtAuthenticator({
    issuers: [
      { issuer: ISSUER, audiences: [AUDIENCE, "istio-ca"], jwks: rsa.jwks },
      { issuer: EC_ISSUER, audiences: ["istio-ca"], jwks: ec.jwks },
    ],
    now: frozenClock,
  });
});

const BOOKINFO = { namespace: "default", serviceAccount: "bookinfo" };

describe("Kubernetes JWT: accepted tokens", () => {
  it("accepts an RS256 projected token and returns the workload identity", async () => {
    const caller = await authenticator.authenticate(await signToken(rsa, projectedClaims()));
    expect(caller).toEqual({ kind: "workload", identity: BOOKINFO, via: "kubernetes-jwt", subject: "system:serviceaccount:default:bookinfo" });
  });

  it("accepts an ES256 token from a second issuer with one of its audiences", async () => {
    const token = await signToken(ec, projectedClaims({ iss: EC_ISSUER, aud: ["sts.amazonaws.com", "istio-ca"] }));
    const caller = await authenticator.authenticate(token);
    expect(caller).toEqual({ kind: "workload", identity: BOOKINFO, via: "kubernetes-jwt", subject: "system:serviceaccount:default:bookinfo" });
  });

  it("accepts a string aud", async () => {
    const caller = await authenticator.authenticate(await signToken(rsa, projectedClaims({ aud: AUDIENCE })));
    expect(caller.kind).toBe("workload");
  });

  it("takes the identity from sub alone", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "system:serviceaccount:reviews:reviews-v2", "kubernetes.io": undefined }));
    const caller = await authenticator.authenticate(token);
    expect(caller).toMatchObject({ identity: { namespace: "reviews", serviceAccount: "reviews-v2" }, subject: "system:serviceaccount:reviews:reviews-v2" });
  });

  it("takes the identity from the kubernetes.io claim alone", async () => {
    const token = await signToken(
      rsa,
      projectedClaims({ sub: undefined, "kubernetes.io": { namespace: "ratings", serviceaccount: { name: "ratings.v1", uid: "u" } } }),
    );
    const caller = await authenticator.authenticate(token);
    expect(caller).toMatchObject({ identity: { namespace: "ratings", serviceAccount: "ratings.v1" }, subject: "system:serviceaccount:ratings:ratings.v1" });
  });

  it(`accepts a token expired less than the ${CLOCK_TOLERANCE_SECONDS}s clock tolerance ago`, async () => {
    const token = await signToken(rsa, projectedClaims({ exp: NOW_SECONDS - (CLOCK_TOLERANCE_SECONDS - 5) }));
    expect((await authenticator.authenticate(token)).kind).toBe("workload");
  });

  it("accepts PS256 and ES384 too", async () => {
    expect(KUBERNETES_JWT_ALGORITHMS).toEqual(expect.arrayContaining(["RS256", "ES256", "PS256", "ES384"]));
    const ps = await issuerKey("PS256", "ps-1");
    const es = await issuerKey("ES384", "es384-1");
    const auth = createKubernetesJwtAuthenticator({
      issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [...ps.jwks.keys, ...es.jwks.keys] } }],
      now: frozenClock,
    });
    for (const key of [ps, es]) {
      expect(await auth.authenticate(await signToken(key, projectedClaims()))).toMatchObject({ identity: BOOKINFO });
    }
  });
});

describe("Kubernetes JWT: refused tokens name the reason", () => {
  it("refuses claims that name two different identities", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "system:serviceaccount:kube-system:admin" }));
    await expectCredentialInvalid(authenticator.authenticate(token), /two identities.*system:serviceaccount:kube-system:admin.*default\/bookinfo/);
  });

  it("refuses a non-service-account sub next to a kubernetes.io claim", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "alice@example.com" }));
    await expectCredentialInvalid(authenticator.authenticate(token), /two identities/);
  });

  it("refuses a token with no service-account identity", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "alice@example.com", "kubernetes.io": undefined }));
    await expectCredentialInvalid(authenticator.authenticate(token), /no service-account identity/);
  });

  it("refuses a malformed service-account sub", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "system:serviceaccount:default", "kubernetes.io": undefined }));
    await expectCredentialInvalid(authenticator.authenticate(token), /malformed service-account subject/);
  });

  it("refuses a namespace that is not an RFC 1123 label", async () => {
    const token = await signToken(rsa, projectedClaims({ sub: "system:serviceaccount:Default:bookinfo", "kubernetes.io": undefined }));
    await expectCredentialInvalid(authenticator.authenticate(token), /invalid namespace "Default"/);
  });

  it("refuses a kubernetes.io claim without serviceaccount.name", async () => {
    const token = await signToken(rsa, projectedClaims({ "kubernetes.io": { namespace: "default" } }));
    await expectCredentialInvalid(authenticator.authenticate(token), /malformed kubernetes.io claim/);
  });

  it("refuses a token signed by another key with the same kid (forged)", async () => {
    const forger = await issuerKey("RS256", rsa.kid);
    const token = await signToken(forger, projectedClaims());
    await expectCredentialInvalid(authenticator.authenticate(token), /bad signature: .*not signed by a key of issuer "https:\/\/kubernetes\.default\.svc\.cluster\.local"/);
  });

  it("refuses a token signed by an unknown kid", async () => {
    const forger = await issuerKey("RS256", "rsa-forged");
    const token = await signToken(forger, projectedClaims());
    await expectCredentialInvalid(authenticator.authenticate(token), /bad signature: no key of issuer .* matches .*kid "rsa-forged"/);
  });

  it("refuses a token whose payload was altered after signing", async () => {
    const [header, , signature] = (await signToken(rsa, projectedClaims())).split(".");
    const altered = base64url(projectedClaims({ sub: "system:serviceaccount:kube-system:admin", "kubernetes.io": undefined }));
    await expectCredentialInvalid(authenticator.authenticate(`${header}.${altered}.${signature}`), /bad signature/);
  });

  it("refuses an expired token, checked against the injected clock", async () => {
    const token = await signToken(rsa, projectedClaims({ iat: NOW_SECONDS - 7200, nbf: NOW_SECONDS - 7200, exp: NOW_SECONDS - 3600 }));
    const error = await expectCredentialInvalid(authenticator.authenticate(token), /expired at 2026-03-01T11:00:00\.000Z/);
    expect(error.message).toContain(NOW.toISOString());
    // The same token is valid for a clock set two hours earlier: expiry follows `now`, not the system clock.
    const earlier = createKubernetesJwtAuthenticator({
      issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: rsa.jwks }],
      now: () => new Date(NOW.getTime() - 2 * 3600_000 + 1000),
    });
    expect((await earlier.authenticate(token)).kind).toBe("workload");
  });

  it(`refuses a token expired just beyond the ${CLOCK_TOLERANCE_SECONDS}s tolerance`, async () => {
    const token = await signToken(rsa, projectedClaims({ exp: NOW_SECONDS - CLOCK_TOLERANCE_SECONDS - 1 }));
    await expectCredentialInvalid(authenticator.authenticate(token), /expired/);
  });

  it("refuses a token that is not yet valid", async () => {
    const token = await signToken(rsa, projectedClaims({ iat: NOW_SECONDS + 600, nbf: NOW_SECONDS + 600, exp: NOW_SECONDS + 4200 }));
    await expectCredentialInvalid(authenticator.authenticate(token), /not yet valid: it is valid from 2026-03-01T12:10:00\.000Z/);
  });

  it("refuses a token without exp", async () => {
    const token = await signToken(rsa, projectedClaims({ exp: undefined }));
    await expectCredentialInvalid(authenticator.authenticate(token), /has no "exp" claim/);
  });

  it("refuses a non-numeric exp as malformed", async () => {
    const token = await signToken(rsa, projectedClaims({ exp: "tomorrow" }));
    await expectCredentialInvalid(authenticator.authenticate(token), /malformed service-account token: "exp" claim must be a number/);
  });

  it("refuses a token for another audience, naming the expected ones", async () => {
    const token = await signToken(rsa, projectedClaims({ aud: ["https://kubernetes.default.svc.cluster.local"] }));
    await expectCredentialInvalid(
      authenticator.authenticate(token),
      /wrong audience: .*\["https:\/\/kubernetes\.default\.svc\.cluster\.local"\], expected one of "weft-ca", "istio-ca"/,
    );
  });

  it("refuses an audience trusted for another issuer only", async () => {
    const token = await signToken(ec, projectedClaims({ iss: EC_ISSUER, aud: [AUDIENCE] }));
    await expectCredentialInvalid(authenticator.authenticate(token), /wrong audience: .*expected one of "istio-ca"$/);
  });

  it("refuses a token from an unknown issuer", async () => {
    const token = await signToken(rsa, projectedClaims({ iss: "https://evil.example.com" }));
    await expectCredentialInvalid(authenticator.authenticate(token), /unknown issuer "https:\/\/evil\.example\.com"/);
  });

  it("refuses a token signed by one trusted issuer's key but claiming the other issuer", async () => {
    const token = await signToken(rsa, projectedClaims({ iss: EC_ISSUER, aud: ["istio-ca"] }));
    await expectCredentialInvalid(authenticator.authenticate(token), /bad signature: no key of issuer "https:\/\/oidc\.eks.* matches .*kid "rsa-1", alg "RS256"/);
  });

  it("refuses a token without iss", async () => {
    const token = await signToken(rsa, projectedClaims({ iss: undefined }));
    await expectCredentialInvalid(authenticator.authenticate(token), /no "iss" claim/);
  });

  it.each([
    ["garbage", "not a jwt at all", /malformed service-account token: it is not a compact JWT/],
    ["two parts", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0", /not a compact JWT/],
    ["non-JSON payload", `${base64url({ alg: "RS256" })}.${base64url("not json")}.c2ln`, /payload is not base64url-encoded JSON/],
    ["oversized", `${base64url({ alg: "RS256" })}.${"A".repeat(20_000)}.c2ln`, /longer than 16384 characters/],
  ])("refuses a malformed token (%s)", async (_name, token, message) => {
    await expectCredentialInvalid(authenticator.authenticate(token), message);
  });

  it("refuses a malformed header on a token from a trusted issuer", async () => {
    const token = `${base64url("{not json")}.${base64url(projectedClaims())}.c2ln`;
    await expectCredentialInvalid(authenticator.authenticate(token), /malformed service-account token/);
  });

  it('refuses alg "none"', async () => {
    const token = `${base64url({ alg: "none", typ: "JWT" })}.${base64url(projectedClaims())}.`;
    await expectCredentialInvalid(authenticator.authenticate(token), /algorithm "none" is not allowed: expected one of RS256, ES256/);
  });

  it("refuses HS256 signed with the issuer's public key (algorithm confusion)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(rsa.jwks.keys[0]));
    const token = await new SignJWT(projectedClaims()).setProtectedHeader({ alg: "HS256", kid: rsa.kid }).sign(secret);
    await expectCredentialInvalid(authenticator.authenticate(token), /algorithm "HS256" is not allowed/);
  });

  it("reports a missing token as Unauthorized", async () => {
    await expect(authenticator.authenticate("")).rejects.toBeInstanceOf(Unauthorized);
  });
});

describe("Kubernetes JWT: configuration mistakes are TypeErrors", () => {
  it("refuses an issuer with both or neither of jwks and jwksUri", () => {
    expect(() => createKubernetesJwtAuthenticator({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE] }], now: frozenClock })).toThrow(TypeError);
    expect(() =>
      createKubernetesJwtAuthenticator({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: rsa.jwks, jwksUri: "https://x/jwks" }], now: frozenClock }),
    ).toThrow(/exactly one of jwks and jwksUri/);
  });

  it("refuses no audiences, duplicate issuers, the reserved join-token issuer, and plain-http JWKS off loopback", () => {
    const make = (issuers: Parameters<typeof createKubernetesJwtAuthenticator>[0]["issuers"]) => () => createKubernetesJwtAuthenticator({ issuers, now: frozenClock });
    expect(make([{ issuer: ISSUER, audiences: [], jwks: rsa.jwks }])).toThrow(/at least one audience/);
    expect(make([{ issuer: ISSUER, audiences: [AUDIENCE], jwks: rsa.jwks }, { issuer: ISSUER, audiences: [AUDIENCE], jwks: ec.jwks }])).toThrow(/listed twice/);
    expect(make([{ issuer: "weft", audiences: [AUDIENCE], jwks: rsa.jwks }])).toThrow(/reserved for join tokens/);
    expect(make([{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: "http://example.com/jwks" }])).toThrow(/must be https/);
    expect(make([{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: "nope" } as never }])).toThrow(/invalid jwks/);
  });
});
