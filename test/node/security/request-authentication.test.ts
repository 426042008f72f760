/**
 * @module test/node/security/request-authentication
 * RequestAuthentication with real tokens signed by jose (ES256 and RS256) under a frozen clock:
 * principals and token removal, forwardOriginalToken, output headers, every 401, a missing token
 * meeting a policy that needs one, jwksUri fetching and caching, and each token location.
 */
import { describe, expect, it } from "vitest";
import { JWT_MESSAGES } from "../../../edge-proxy/core/security/request-authentication.js";
import { type Signer, allowedRequest, denied, get, inbound, jwksOf, jwtRule, peer, policy, security, signer } from "./support.js";

const ISS = "https://idp.example.com";
const NOW_S = Date.UTC(2026, 0, 1) / 1000;
const URI = "https://idp.example.com/jwks.json";

const es: Signer = await signer("ES256", "es-1");
const rs: Signer = await signer("RS256", "rs-1");
/** Another key under the same kid: its signatures do not verify. */
const stranger: Signer = await signer("ES256", "es-1");

const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISS, sub: "alice", aud: "httpbin", iat: NOW_S - 10, exp: NOW_S + 3600, ...extra });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const inline = (extra: Parameters<typeof jwtRule>[1] = {}) => inbound({ jwtRules: [jwtRule(ISS, { jwks: JSON.stringify(jwksOf(es, rs)), ...extra })] });

describe("a valid token", () => {
  it.each(["ES256", "RS256"] as const)("%s: principal iss/sub, token removed, claims usable", async (alg) => {
    const s = alg === "ES256" ? es : rs;
    const { check } = security(inline());
    const decision = await check.check(get("http://httpbin/ip", { ...bearer(await s.sign(claims())), "x-keep": "1" }), peer());
    expect(decision).toMatchObject({ allowed: true, requestPrincipal: `${ISS}/alice`, principal: "cluster.local/ns/default/sa/sleep" });
    const forwarded = allowedRequest(decision);
    expect(forwarded.headers.get("authorization")).toBeNull();
    expect(forwarded.headers.get("x-keep")).toBe("1");
  });

  it("forwardOriginalToken keeps it", async () => {
    const token = await es.sign(claims());
    const { check } = security(inline({ forwardOriginalToken: true }));
    expect(allowedRequest(await check.check(get(undefined, bearer(token)), peer())).headers.get("authorization")).toBe(`Bearer ${token}`);
  });

  it("outputPayloadToHeader carries the base64url payload; outputClaimToHeaders the claims; client copies are dropped", async () => {
    const token = await es.sign(claims({ groups: ["a"], tier: "gold", level: 2 }));
    const { check } = security(inline({ outputPayloadToHeader: "x-jwt-payload", outputClaimToHeaders: [{ header: "x-tier", claim: "tier" }, { header: "x-level", claim: "level" }, { header: "x-groups", claim: "groups" }] }));
    const forwarded = allowedRequest(await check.check(get(undefined, { ...bearer(token), "x-groups": "admin" }), peer()));
    const payload = forwarded.headers.get("x-jwt-payload")!;
    expect(payload).not.toMatch(/[+/=]/);
    expect(JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))))).toMatchObject({ sub: "alice", tier: "gold" });
    expect(forwarded.headers.get("x-tier")).toBe("gold");
    expect(forwarded.headers.get("x-level")).toBe("2");
    expect(forwarded.headers.get("x-groups")).toBeNull();
  });

  it("drops spoofed output headers also when no token is sent", async () => {
    const { check } = security(inline({ outputPayloadToHeader: "x-jwt-payload" }));
    expect(allowedRequest(await check.check(get(undefined, { "x-jwt-payload": "e30" }), peer())).headers.get("x-jwt-payload")).toBeNull();
  });

  it("accepts any audience when the rule lists none, and a listed one", async () => {
    expect((await security(inline()).check.check(get(undefined, bearer(await es.sign(claims({ aud: "other" })))), peer())).allowed).toBe(true);
    const { check } = security(inline({ audiences: ["other", "httpbin"] }));
    expect((await check.check(get(undefined, bearer(await es.sign(claims()))), peer())).allowed).toBe(true);
  });

  it("tries every key when the token has no kid", async () => {
    const token = await rs.sign(claims(), { kid: undefined });
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks: JSON.stringify({ keys: [{ ...(await signer("RS256", "x")).publicJwk, kid: undefined }, { ...rs.publicJwk, kid: undefined }] }) })] }));
    expect((await check.check(get(undefined, bearer(token)), peer())).allowed).toBe(true);
  });
});

describe("a bad token is 401", () => {
  it.each<[string, () => Promise<string>, Parameters<typeof jwtRule>[1], string]>([
    ["wrong signature", () => stranger.sign(claims()), {}, JWT_MESSAGES.verification],
    ["expired (past the 60 s skew)", () => es.sign(claims({ exp: NOW_S - 120 })), {}, JWT_MESSAGES.expired],
    ["not yet valid", () => es.sign(claims({ nbf: NOW_S + 3600 })), {}, JWT_MESSAGES.notYetValid],
    ["wrong audience", () => es.sign(claims({ aud: "someone-else" })), { audiences: ["httpbin"] }, JWT_MESSAGES.audience],
    ["unknown issuer", () => es.sign(claims({ iss: "https://evil.example.com" })), {}, JWT_MESSAGES.unknownIssuer],
    ["unknown kid", () => es.sign(claims(), { kid: "nope" }), {}, JWT_MESSAGES.noKey],
    ["not a JWT", async () => "not-a-jwt", {}, JWT_MESSAGES.badFormat],
  ])("%s", async (_name, token, extra, message) => {
    const { check } = security(inline(extra));
    const decision = await check.check(get("http://httpbin/ip?q=secret", bearer(await token())), peer());
    expect(denied(decision)).toEqual({ status: 401, details: `jwt_authn_access_denied{${message.replace(/ /g, "_")}}` });
    if (decision.allowed) return;
    expect(await decision.response.text()).toBe(message);
    expect(decision.response.headers.get("www-authenticate")).toBe('Bearer realm="http://httpbin/ip", error="invalid_token"');
  });

  it("a token 30 s past exp is still inside Envoy's clock skew", async () => {
    expect((await security(inline()).check.check(get(undefined, bearer(await es.sign(claims({ exp: NOW_S - 30 })))), peer())).allowed).toBe(true);
  });

  it("the frozen clock decides: the same token is valid earlier", async () => {
    const token = await es.sign(claims({ exp: NOW_S - 3600 }));
    expect((await security(inline(), { now: () => (NOW_S - 7200) * 1000 }).check.check(get(undefined, bearer(token)), peer())).allowed).toBe(true);
    expect((await security(inline()).check.check(get(undefined, bearer(token)), peer())).allowed).toBe(false);
  });
});

describe("a missing token", () => {
  const config = inline();
  it("passes without a request principal", async () => {
    const decision = await security(config).check.check(get(), peer());
    expect(decision.allowed).toBe(true);
    expect(decision).not.toHaveProperty("requestPrincipal");
  });

  it("is then denied 403 by a policy requiring requestPrincipals [*]", async () => {
    const cfg = { ...config, authorizationPolicies: [policy("default/require-jwt", "ALLOW", [{ from: [{ source: { requestPrincipals: ["*"] } }] }])] };
    const { check } = security(cfg);
    expect(denied(await check.check(get(), peer()))).toEqual({ status: 403, details: "rbac_access_denied_matched_policy[none]" });
    expect((await check.check(get(undefined, bearer(await es.sign(claims()))), peer())).allowed).toBe(true);
  });

  it("another scheme in Authorization is no token", async () => {
    expect((await security(config).check.check(get(undefined, { authorization: "Basic dXNlcjpwYXNz" }), peer())).allowed).toBe(true);
  });

  it("without jwtRules a token is not even looked at", async () => {
    const decision = await security(inbound()).check.check(get(undefined, bearer("garbage")), peer());
    expect(allowedRequest(decision).headers.get("authorization")).toBe("Bearer garbage");
  });
});

describe("jwksUri", () => {
  const remote = inbound({ jwtRules: [jwtRule(ISS, { jwksUri: URI })] });

  it("is fetched once and cached for jwksCacheMs", async () => {
    const { check, fetches, clock } = security(remote, { jwks: { [URI]: jwksOf(es) }, jwksCacheMs: 60_000 });
    const token = await es.sign(claims());
    const results = await Promise.all([1, 2, 3].map(() => check.check(get(undefined, bearer(token)), peer())));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect((await check.check(get(undefined, bearer(token)), peer())).allowed).toBe(true);
    expect(fetches).toEqual([URI]);
    clock.now += 61_000;
    expect((await check.check(get(undefined, bearer(token)), peer())).allowed).toBe(true);
    expect(fetches).toEqual([URI, URI]);
  });

  it("refetches once on an unknown kid (key rotation), at most once per 60 s", async () => {
    const jwks: Record<string, unknown> = { [URI]: jwksOf(es) };
    const { check, fetches, clock } = security(remote, { jwks });
    expect((await check.check(get(undefined, bearer(await es.sign(claims()))), peer())).allowed).toBe(true);
    jwks[URI] = jwksOf(es, rs);
    expect((await check.check(get(undefined, bearer(await rs.sign(claims()))), peer())).allowed).toBe(true);
    expect(fetches).toHaveLength(2);
    const bogus = await es.sign(claims(), { kid: "made-up" });
    expect(denied(await check.check(get(undefined, bearer(bogus)), peer())).status).toBe(401);
    expect(denied(await check.check(get(undefined, bearer(bogus)), peer())).status).toBe(401);
    expect(fetches).toHaveLength(2);
    clock.now += 60_000;
    expect(denied(await check.check(get(undefined, bearer(bogus)), peer())).status).toBe(401);
    expect(fetches).toHaveLength(3);
  });

  it("a fetch failure is 401 Jwks remote fetch is failed", async () => {
    const { check } = security(remote);
    expect(denied(await check.check(get(undefined, bearer(await es.sign(claims()))), peer())).details).toBe("jwt_authn_access_denied{Jwks_remote_fetch_is_failed}");
  });

  it("without jwks or jwksUri uses the issuer's OpenID discovery", async () => {
    const discovery = `${ISS}/.well-known/openid-configuration`;
    const { check, fetches } = security(inbound({ jwtRules: [jwtRule(ISS)] }), { jwks: { [discovery]: { jwks_uri: URI }, [URI]: JSON.stringify(jwksOf(es)) } });
    expect((await check.check(get(undefined, bearer(await es.sign(claims()))), peer())).allowed).toBe(true);
    expect(fetches).toEqual([discovery, URI]);
  });
});

describe("token locations", () => {
  const jwks = JSON.stringify(jwksOf(es));

  it("fromHeaders with a prefix", async () => {
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks, fromHeaders: [{ name: "x-jwt", prefix: "Token " }] })] }));
    const token = await es.sign(claims());
    const decision = await check.check(get(undefined, { "x-jwt": `Token ${token}` }), peer());
    expect(decision).toMatchObject({ allowed: true, requestPrincipal: `${ISS}/alice` });
    expect(allowedRequest(decision).headers.get("x-jwt")).toBeNull();
    // The default location is not read when the rule names its own.
    expect((await check.check(get(undefined, bearer("garbage")), peer())).allowed).toBe(true);
  });

  it("fromParams, removed from the query with the rest kept as sent", async () => {
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks, fromParams: ["token"] })] }));
    const decision = await check.check(get(`http://httpbin/ip?a=1%202&token=${await es.sign(claims())}&b=x`), peer());
    expect(decision).toMatchObject({ allowed: true, requestPrincipal: `${ISS}/alice` });
    expect(allowedRequest(decision).url).toBe("http://httpbin/ip?a=1%202&b=x");
  });

  it("the default access_token parameter", async () => {
    const { check } = security(inline());
    expect(await check.check(get(`http://httpbin/ip?access_token=${await es.sign(claims())}`), peer())).toMatchObject({ allowed: true, requestPrincipal: `${ISS}/alice` });
  });

  it("fromCookies, removed from the Cookie header", async () => {
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks, fromCookies: ["session"] })] }));
    const decision = await check.check(get(undefined, { cookie: `theme=dark; session=${await es.sign(claims())}` }), peer());
    expect(decision).toMatchObject({ allowed: true, requestPrincipal: `${ISS}/alice` });
    expect(allowedRequest(decision).headers.get("cookie")).toBe("theme=dark");
  });

  it("several sources present: the first location found is verified", async () => {
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks, fromHeaders: [{ name: "x-jwt" }], fromCookies: ["session"] })] }));
    const good = await es.sign(claims());
    expect(denied(await check.check(get(undefined, { "x-jwt": "bad.token.here", cookie: `session=${good}` }), peer())).status).toBe(401);
    expect((await check.check(get(undefined, { "x-jwt": good, cookie: "session=bad.token.here" }), peer())).allowed).toBe(true);
  });

  it("a token's issuer picks the rule", async () => {
    const other = await signer("ES256", "o-1");
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks }), jwtRule("https://other.example.com", { jwks: JSON.stringify(jwksOf(other)) })] }));
    const token = await other.sign(claims({ iss: "https://other.example.com", sub: "bob" }));
    expect(await check.check(get(undefined, bearer(token)), peer())).toMatchObject({ allowed: true, requestPrincipal: "https://other.example.com/bob" });
  });

  it("keeps a POST body when the token is taken from the query", async () => {
    const { check } = security(inbound({ jwtRules: [jwtRule(ISS, { jwks, fromParams: ["token"] })] }));
    const request = new Request(`http://httpbin/post?token=${await es.sign(claims())}`, { method: "POST", body: "hello" });
    const forwarded = allowedRequest(await check.check(request, peer()));
    expect(forwarded.method).toBe("POST");
    expect(await forwarded.text()).toBe("hello");
  });
});
