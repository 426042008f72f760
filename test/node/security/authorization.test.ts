/**
 * @module test/node/security/authorization
 * AuthorizationPolicy semantics, table-driven over evaluateAuthorization: Istio's CUSTOM → DENY →
 * ALLOW order, deny when ALLOW policies exist and none matches, empty rules, every source and
 * operation field with its `not` form, exact/prefix/suffix/presence strings, CIDRs v4 and v6, `when`
 * conditions (claims included), hosts with ports; then the 403s and CUSTOM providers end to end.
 */
import { describe, expect, it } from "vitest";
import type { AuthorizationPolicyConfig, AuthorizationRule } from "../../../edge-proxy/core/config/proxy-config.js";
import { compileAuthorization, evaluateAuthorization } from "../../../edge-proxy/core/security/authorization.js";
import type { AuthorizationAttributes } from "../../../edge-proxy/core/security/types.js";
import { allowedRequest, denied, get, inbound, peer, plaintext, policy, security } from "./support.js";

function attrs(overrides: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  return {
    method: "GET",
    host: "httpbin.default.svc.cluster.local:8000",
    path: "/headers",
    port: 8000,
    headers: new Headers({ "x-team": "blue", "user-agent": "curl/8.0" }),
    sourceIp: "10.1.2.3",
    principal: "cluster.local/ns/default/sa/sleep",
    ...overrides,
  };
}

/** Whether one ALLOW policy with this rule lets the request through. */
function ruleMatches(rule: AuthorizationRule, attributes: AuthorizationAttributes, namespace = "default"): boolean {
  return evaluateAuthorization(compileAuthorization([policy(`${namespace}/p`, "ALLOW", [rule])]), attributes).allowed;
}

describe("policy order: CUSTOM → DENY → ALLOW", () => {
  const allowAll = policy("default/allow-all", "ALLOW", [{}]);
  const denyGet = policy("default/deny-get", "DENY", [{ to: [{ operation: { methods: ["GET"] } }] }]);
  const allowPost = policy("default/allow-post", "ALLOW", [{ to: [{ operation: { methods: ["POST"] } }] }]);
  const auditAll = policy("default/audit", "AUDIT", [{}]);
  const custom = policy("default/ext", "CUSTOM", [{ to: [{ operation: { paths: ["/admin*"] } }] }], "opa");

  it.each([
    ["no policies allow everything", [], attrs(), { allowed: true }],
    ["a matching DENY beats a matching ALLOW", [allowAll, denyGet], attrs(), { allowed: false, policy: "default/deny-get" }],
    ["a DENY that does not match leaves ALLOW to decide", [allowAll, denyGet], attrs({ method: "POST" }), { allowed: true }],
    ["ALLOW policies exist and none matches: denied", [allowPost], attrs(), { allowed: false, policy: undefined }],
    ["a DENY alone allows what it does not match", [denyGet], attrs({ method: "PUT" }), { allowed: true }],
    ["AUDIT never changes the decision (allow)", [auditAll], attrs(), { allowed: true, audit: "default/audit" }],
    ["AUDIT never changes the decision (deny)", [auditAll, allowPost], attrs(), { allowed: false, policy: undefined, audit: "default/audit" }],
    ["an ALLOW with rules: [] matches nothing", [policy("default/none", "ALLOW", [])], attrs(), { allowed: false, policy: undefined }],
    ["a DENY with rules: [] matches nothing", [policy("default/none", "DENY", [])], attrs(), { allowed: true }],
    ["a rule {} matches everything", [policy("default/deny-all", "DENY", [{}])], attrs(), { allowed: false, policy: "default/deny-all" }],
    ["the oldest matching DENY is reported", [policy("a/first", "DENY", [{}]), policy("b/second", "DENY", [{}])], attrs(), { allowed: false, policy: "a/first" }],
  ] as const)("%s", (_name, policies, attributes, expected) => {
    const verdict = evaluateAuthorization(compileAuthorization(policies as readonly AuthorizationPolicyConfig[]), attributes);
    expect(verdict).toMatchObject(expected);
    if (!("audit" in expected)) expect(verdict).not.toHaveProperty("audit");
  });

  it("names the CUSTOM providers to ask before DENY and ALLOW decide", () => {
    const compiled = compileAuthorization([custom, denyGet]);
    expect(evaluateAuthorization(compiled, attrs({ path: "/admin/users" }))).toMatchObject({ allowed: false, policy: "default/deny-get", custom: [{ policy: "default/ext", provider: "opa" }] });
    expect(evaluateAuthorization(compiled, attrs({ path: "/status", method: "PUT" }))).toMatchObject({ allowed: true, custom: [] });
  });

  it("a CUSTOM policy alone does not make ALLOW-by-default deny", () => {
    expect(evaluateAuthorization(compileAuthorization([custom]), attrs()).allowed).toBe(true);
  });
});

describe("source fields and their not-forms", () => {
  const v6 = attrs({ sourceIp: "2001:db8::42", remoteIp: "2001:db8:ffff::1" });
  it.each<[string, AuthorizationRule, AuthorizationAttributes, boolean]>([
    ["principals exact", { from: [{ source: { principals: ["cluster.local/ns/default/sa/sleep"] } }] }, attrs(), true],
    ["principals with spiffe:// written", { from: [{ source: { principals: ["spiffe://cluster.local/ns/default/sa/sleep"] } }] }, attrs(), true],
    ["principals prefix", { from: [{ source: { principals: ["cluster.local/ns/default/*"] } }] }, attrs(), true],
    ["principals suffix", { from: [{ source: { principals: ["*/sa/sleep"] } }] }, attrs(), true],
    ["principals suffix no match", { from: [{ source: { principals: ["*/sa/other"] } }] }, attrs(), false],
    ["principals presence", { from: [{ source: { principals: ["*"] } }] }, attrs(), true],
    ["principals presence, plain text", { from: [{ source: { principals: ["*"] } }] }, attrs({ principal: undefined }), false],
    ["notPrincipals", { from: [{ source: { notPrincipals: ["*/sa/sleep"] } }] }, attrs(), false],
    ["notPrincipals, plain text", { from: [{ source: { notPrincipals: ["*"] } }] }, attrs({ principal: undefined }), true],
    ["requestPrincipals", { from: [{ source: { requestPrincipals: ["https://idp.example.com/*"] } }] }, attrs({ requestPrincipal: "https://idp.example.com/alice" }), true],
    ["requestPrincipals, no JWT", { from: [{ source: { requestPrincipals: ["*"] } }] }, attrs(), false],
    ["notRequestPrincipals", { from: [{ source: { notRequestPrincipals: ["*/alice"] } }] }, attrs({ requestPrincipal: "iss/alice" }), false],
    ["namespaces from the principal", { from: [{ source: { namespaces: ["default"] } }] }, attrs(), true],
    ["namespaces prefix", { from: [{ source: { namespaces: ["def*"] } }] }, attrs(), true],
    ["namespaces other", { from: [{ source: { namespaces: ["prod"] } }] }, attrs(), false],
    ["notNamespaces", { from: [{ source: { notNamespaces: ["default"] } }] }, attrs(), false],
    ["serviceAccounts ns/sa", { from: [{ source: { serviceAccounts: ["default/sleep"] } }] }, attrs(), true],
    ["serviceAccounts sa in the policy's namespace", { from: [{ source: { serviceAccounts: ["sleep"] } }] }, attrs(), true],
    ["serviceAccounts other namespace", { from: [{ source: { serviceAccounts: ["prod/sleep"] } }] }, attrs(), false],
    ["notServiceAccounts", { from: [{ source: { notServiceAccounts: ["sleep"] } }] }, attrs(), false],
    ["ipBlocks CIDR v4", { from: [{ source: { ipBlocks: ["10.1.0.0/16"] } }] }, attrs(), true],
    ["ipBlocks single v4", { from: [{ source: { ipBlocks: ["10.1.2.4"] } }] }, attrs(), false],
    ["ipBlocks v4 covers IPv4-mapped", { from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }] }, attrs({ sourceIp: "::ffff:10.9.9.9" }), true],
    ["ipBlocks CIDR v6", { from: [{ source: { ipBlocks: ["2001:db8::/32"] } }] }, v6, true],
    ["ipBlocks v6 outside", { from: [{ source: { ipBlocks: ["2001:db9::/32"] } }] }, v6, false],
    ["notIpBlocks", { from: [{ source: { notIpBlocks: ["10.1.2.0/24"] } }] }, attrs(), false],
    ["remoteIpBlocks uses remoteIp", { from: [{ source: { remoteIpBlocks: ["2001:db8:ffff::/48"] } }] }, v6, true],
    ["remoteIpBlocks falls back to sourceIp", { from: [{ source: { remoteIpBlocks: ["10.1.2.3"] } }] }, attrs(), true],
    ["notRemoteIpBlocks", { from: [{ source: { notRemoteIpBlocks: ["2001:db8:ffff::/48"] } }] }, v6, false],
    ["fields of one source all hold", { from: [{ source: { namespaces: ["default"], ipBlocks: ["192.168.0.0/16"] } }] }, attrs(), false],
    ["any source holds", { from: [{ source: { namespaces: ["prod"] } }, { source: { ipBlocks: ["10.0.0.0/8"] } }] }, attrs(), true],
  ])("%s", (_name, rule, attributes, expected) => {
    expect(ruleMatches(rule, attributes)).toBe(expected);
  });
});

describe("operation fields and their not-forms", () => {
  it.each<[string, AuthorizationRule, AuthorizationAttributes, boolean]>([
    ["hosts ignore the request's port", { to: [{ operation: { hosts: ["httpbin.default.svc.cluster.local"] } }] }, attrs(), true],
    ["hosts are case-insensitive", { to: [{ operation: { hosts: ["HTTPBIN.default.svc.cluster.local"] } }] }, attrs({ host: "httpbin.Default.svc.cluster.local" }), true],
    ["hosts with a port compare it", { to: [{ operation: { hosts: ["httpbin.default.svc.cluster.local:9000"] } }] }, attrs(), false],
    ["hosts with the same port", { to: [{ operation: { hosts: ["httpbin.default.svc.cluster.local:8000"] } }] }, attrs(), true],
    ["hosts suffix", { to: [{ operation: { hosts: ["*.svc.cluster.local"] } }] }, attrs(), true],
    ["hosts prefix", { to: [{ operation: { hosts: ["httpbin.*"] } }] }, attrs(), true],
    ["notHosts", { to: [{ operation: { notHosts: ["*.cluster.local"] } }] }, attrs(), false],
    ["ports", { to: [{ operation: { ports: ["8000"] } }] }, attrs(), true],
    ["ports other", { to: [{ operation: { ports: ["9000"] } }] }, attrs(), false],
    ["notPorts", { to: [{ operation: { notPorts: ["8000"] } }] }, attrs(), false],
    ["methods", { to: [{ operation: { methods: ["GET", "HEAD"] } }] }, attrs(), true],
    ["methods are case-sensitive", { to: [{ operation: { methods: ["get"] } }] }, attrs(), false],
    ["methods presence", { to: [{ operation: { methods: ["*"] } }] }, attrs(), true],
    ["notMethods", { to: [{ operation: { notMethods: ["GET"] } }] }, attrs(), false],
    ["paths exact", { to: [{ operation: { paths: ["/headers"] } }] }, attrs(), true],
    ["paths prefix", { to: [{ operation: { paths: ["/head*"] } }] }, attrs(), true],
    ["paths suffix", { to: [{ operation: { paths: ["*.json"] } }] }, attrs({ path: "/a/b.json" }), true],
    ["paths template {*}", { to: [{ operation: { paths: ["/users/{*}/profile"] } }] }, attrs({ path: "/users/42/profile" }), true],
    ["paths template {*} is one segment", { to: [{ operation: { paths: ["/users/{*}/profile"] } }] }, attrs({ path: "/users/4/2/profile" }), false],
    ["paths template {**}", { to: [{ operation: { paths: ["/files/{**}"] } }] }, attrs({ path: "/files/a/b/c" }), true],
    ["notPaths", { to: [{ operation: { notPaths: ["/admin*"] } }] }, attrs({ path: "/admin/x" }), false],
    ["fields of one operation all hold", { to: [{ operation: { methods: ["GET"], paths: ["/admin"] } }] }, attrs(), false],
    ["any operation holds", { to: [{ operation: { methods: ["POST"] } }, { operation: { paths: ["/headers"] } }] }, attrs(), true],
  ])("%s", (_name, rule, attributes, expected) => {
    expect(ruleMatches(rule, attributes)).toBe(expected);
  });
});

describe("when conditions", () => {
  const claims = { iss: "https://idp.example.com", sub: "alice", aud: ["web", "api"], azp: "spa", groups: ["dev", "ops"], org: { team: { name: "core" } }, level: 3 };
  const withJwt = attrs({ requestPrincipal: "https://idp.example.com/alice", claims, destinationIp: "10.9.0.1", sni: "httpbin.example.com" });
  const when = (key: string, values?: string[], notValues?: string[]): AuthorizationRule => ({
    when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }],
  });
  it.each<[AuthorizationRule, boolean]>([
    [when("request.headers[x-team]", ["blue"]), true],
    [when("request.headers[X-Team]", ["bl*"]), true],
    [when("request.headers[x-team]", undefined, ["blue"]), false],
    [when("request.headers[x-missing]", ["*"]), false],
    [when("request.headers[x-missing]", undefined, ["*"]), true],
    [when("source.ip", ["10.1.0.0/16"]), true],
    [when("source.ip", undefined, ["10.1.2.3"]), false],
    [when("remote.ip", ["10.1.2.3"]), true],
    [when("destination.ip", ["10.9.0.0/24"]), true],
    [when("destination.port", ["8000"]), true],
    [when("destination.port", undefined, ["8000"]), false],
    [when("source.namespace", ["default"]), true],
    [when("source.principal", ["*/sa/sleep"]), true],
    [when("source.serviceAccount", ["default/sleep"]), true],
    [when("source.serviceAccount", ["sleep"]), true],
    [when("source.trustDomain", ["cluster.local"]), true],
    [when("request.auth.principal", ["https://idp.example.com/*"]), true],
    [when("request.auth.audiences", ["api"]), true],
    [when("request.auth.audiences", undefined, ["api"]), false],
    [when("request.auth.presenter", ["spa"]), true],
    [when("request.auth.claims[iss]", ["https://idp.example.com"]), true],
    [when("request.auth.claims[groups]", ["ops"]), true],
    [when("request.auth.claims[groups]", undefined, ["dev"]), false],
    [when("request.auth.claims[org][team][name]", ["core"]), true],
    [when("request.auth.claims[org][team][name]", ["other"]), false],
    [when("request.auth.claims[level]", ["3"]), true],
    [when("request.auth.claims[missing]", ["*"]), false],
    [when("connection.sni", ["*.example.com"]), true],
    [{ when: [{ key: "source.namespace", values: ["default"] }, { key: "request.headers[x-team]", values: ["red"] }] }, false],
  ])("%j → %s", (rule, expected) => {
    expect(ruleMatches(rule, withJwt)).toBe(expected);
  });

  it("an unsupported key fails closed: never in ALLOW, always in DENY", () => {
    const rule = when("experimental.envoy.filters.network.mysql_proxy[db.table]", ["[update]"]);
    expect(ruleMatches(rule, withJwt)).toBe(false);
    const deny = compileAuthorization([policy("default/d", "DENY", [rule])]);
    expect(evaluateAuthorization(deny, withJwt)).toMatchObject({ allowed: false, policy: "default/d" });
  });

  it("claims conditions need a JWT", () => {
    expect(ruleMatches(when("request.auth.claims[iss]", ["*"]), attrs())).toBe(false);
  });
});

describe("denials through createInboundSecurity", () => {
  const config = inbound({
    authorizationPolicies: [
      policy("default/deny-admin", "DENY", [{ to: [{ operation: { paths: ["/admin*"] } }] }]),
      policy("default/allow-sleep", "ALLOW", [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/sleep"] } }] }]),
    ],
  });

  it("a matching DENY is 403 RBAC: access denied naming the policy", async () => {
    const decision = await security(config).check.check(get("http://httpbin/admin/x"), peer());
    expect(denied(decision)).toEqual({ status: 403, details: "rbac_access_denied_matched_policy[default/deny-admin]" });
    if (!decision.allowed) expect(await decision.response.text()).toBe("RBAC: access denied");
  });

  it("no matching ALLOW is 403 with matched_policy[none]", async () => {
    expect(denied(await security(config).check.check(get(), plaintext()))).toEqual({ status: 403, details: "rbac_access_denied_matched_policy[none]" });
  });

  it("an allowed request keeps the peer principal", async () => {
    const decision = await security(config).check.check(get(), peer());
    expect(decision).toMatchObject({ allowed: true, principal: "cluster.local/ns/default/sa/sleep" });
  });

  it("compares paths without the query", async () => {
    const onlyHeaders = inbound({ authorizationPolicies: [policy("default/a", "ALLOW", [{ to: [{ operation: { paths: ["/headers"] } }] }])] });
    expect((await security(onlyHeaders).check.check(get("http://httpbin/headers?x=1"), peer())).allowed).toBe(true);
  });

  it("hosts are read from the Host header", async () => {
    const cfg = inbound({ authorizationPolicies: [policy("default/a", "ALLOW", [{ to: [{ operation: { hosts: ["api.example.com"] } }] }])] });
    const { check } = security(cfg);
    expect((await check.check(get("http://api.example.com:8443/x"), peer())).allowed).toBe(true);
    expect((await check.check(get("http://other.example.com/x"), peer())).allowed).toBe(false);
  });
});

describe("CUSTOM providers", () => {
  const config = inbound({
    authorizationPolicies: [
      policy("default/ext", "CUSTOM", [{ to: [{ operation: { paths: ["/secure*"] } }] }], "opa"),
      policy("default/deny-all", "DENY", [{ to: [{ operation: { paths: ["/secure/blocked"] } }] }]),
    ],
  });

  it("asks the provider only when a CUSTOM rule matches, before DENY", async () => {
    const calls: string[] = [];
    const { check } = security(config, { customAuthorizers: { opa: async (r) => (calls.push(new URL(r.url).pathname), true) } });
    expect((await check.check(get("http://h/public"), peer())).allowed).toBe(true);
    expect((await check.check(get("http://h/secure/ok"), peer())).allowed).toBe(true);
    expect(denied(await check.check(get("http://h/secure/blocked"), peer())).details).toBe("rbac_access_denied_matched_policy[default/deny-all]");
    expect(calls).toEqual(["/secure/ok", "/secure/blocked"]);
  });

  it("a refusal denies with flag UAEX; an authorizer's Response is sent as the denial", async () => {
    const refuse = security(config, { customAuthorizers: { opa: async () => false } }).check;
    expect(denied(await refuse.check(get("http://h/secure/x"), peer()))).toEqual({ status: 403, details: "ext_authz_denied", flag: "UAEX" });
    const answer = security(config, { customAuthorizers: { opa: async () => new Response("go away", { status: 401 }) } }).check;
    const decision = await answer.check(get("http://h/secure/x"), peer());
    expect(denied(decision)).toEqual({ status: 401, details: "ext_authz_denied", flag: "UAEX" });
    if (!decision.allowed) expect(await decision.response.text()).toBe("go away");
  });

  it("an unknown provider or a failing authorizer fails closed", async () => {
    expect(denied(await security(config).check.check(get("http://h/secure/x"), peer()))).toEqual({ status: 403, details: "ext_authz_error", flag: "UAEX" });
    const throwing = security(config, { customAuthorizers: { opa: async () => Promise.reject(new Error("down")) } }).check;
    expect(denied(await throwing.check(get("http://h/secure/x"), peer()))).toMatchObject({ details: "ext_authz_error", flag: "UAEX" });
  });

  it("passes the request on unchanged when everything allows", async () => {
    const { check } = security(config, { customAuthorizers: { opa: async () => true } });
    const request = get("http://h/secure/x", { "x-a": "1" });
    expect(allowedRequest(await check.check(request, peer())).headers.get("x-a")).toBe("1");
  });
});
