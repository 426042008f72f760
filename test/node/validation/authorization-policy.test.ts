/**
 * @module test/node/validation/authorization-policy
 * AuthorizationPolicy validation: every rule on its own, then Istio's own corpus documents.
 */
import { describe, expect, it } from "vitest";
import { validateAuthorizationPolicy } from "../../../control/validation/security/authorization-policy.js";
import { describeCorpusMatchingErr, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "default", name: "ap" };
const validate = (spec: unknown) => validateAuthorizationPolicy(spec, ctx);
const withSource = (source: unknown, extra: Record<string, unknown> = {}) => ({ ...extra, rules: [{ from: [{ source }] }] });
const withOperation = (operation: unknown) => ({ rules: [{ to: [{ operation }] }] });
const withWhen = (...when: unknown[]) => ({ rules: [{ when }] });
const SRC = "spec.rules[0].from[0].source";
const OP = "spec.rules[0].to[0].operation";

/** Random objects built from this kind's own field names, so the fuzzing reaches nested rules. */
const VOCABULARY = ["selector", "matchLabels", "targetRef", "targetRefs", "group", "kind", "name", "namespace", "action", "provider", "rules", "from", "to", "when", "source", "operation", "principals", "serviceAccounts", "namespaces", "ipBlocks", "ports", "paths", "methods", "key", "values", "notValues", "CUSTOM", "source.ip"];

describe("AuthorizationPolicy: valid specs", () => {
  it("accepts an empty spec and an empty rule (which matches everything)", () => {
    expect(validate({})).toEqual([]);
    expect(validate({ rules: [{}] })).toEqual([]);
    expect(validate({ action: "DENY", rules: [] })).toEqual([]);
  });

  it("accepts every action, CUSTOM with a provider", () => {
    for (const action of ["ALLOW", "DENY", "AUDIT"]) expect(validate({ action, rules: [{}] })).toEqual([]);
    expect(validate({ action: "CUSTOM", provider: { name: "ext-authz" }, rules: [{ to: [{ operation: { paths: ["/admin"] } }] }] })).toEqual([]);
  });

  it("accepts a targetRef to a Gateway or targetRefs to Services in the same namespace", () => {
    expect(validate({ targetRef: { group: "gateway.networking.k8s.io", kind: "Gateway", name: "gw" } })).toEqual([]);
    expect(validate({ targetRefs: [{ group: "", kind: "Service", name: "a", namespace: "default" }, { kind: "Service", name: "b" }] })).toEqual([]);
    expect(validate({ targetRefs: [{ group: "networking.istio.io", kind: "ServiceEntry", name: "se" }] })).toEqual([]);
  });
});

describe("AuthorizationPolicy: rules", () => {
  it("refuses a spec that is not an object, and unknown fields", () => {
    expectError(validate("allow"), "spec", "must be of type object");
    const errors = validate({ rules: [{ form: [] }], actoin: "DENY" });
    expectError(errors, "spec.rules[0].form", 'unknown field "form"');
    expectError(errors, "spec.actoin", 'unknown field "actoin"');
    expectError(validate(withSource({ principal: ["a"] })), `${SRC}.principal`, 'unknown field "principal"');
  });

  it("refuses an unknown action", () => {
    expectError(validate({ action: "REJECT" }), "spec.action", 'Unsupported value: "REJECT"');
  });

  it("requires a provider with a name for CUSTOM", () => {
    expectError(validate({ action: "CUSTOM" }), "spec.provider", "action CUSTOM requires provider");
    expectError(validate({ action: "CUSTOM", provider: {} }), "spec.provider.name", "provider name must not be empty");
    expectError(validate({ action: "CUSTOM", provider: { name: "" } }), "spec.provider.name", "provider name must not be empty");
  });

  it("refuses a provider without the CUSTOM action", () => {
    expectError(validate({ provider: { name: "ext" } }), "spec.provider", "provider can only be set with action CUSTOM, got action ALLOW");
    expectError(validate({ action: "DENY", provider: { name: "ext" } }), "spec.provider", "got action DENY");
  });

  it("refuses identity fields and keys the CUSTOM action cannot use", () => {
    const spec = {
      action: "CUSTOM",
      provider: { name: "ext" },
      rules: [{ from: [{ source: { namespaces: ["a"], requestPrincipals: ["*"] } }], when: [{ key: "request.auth.claims[iss]", values: ["x"] }] }],
    };
    const errors = validate(spec);
    expectError(errors, `${SRC}.namespaces`, "namespaces is currently not supported with action CUSTOM");
    expectError(errors, `${SRC}.requestPrincipals`, "requestPrincipals is currently not supported with action CUSTOM");
    expectError(errors, "spec.rules[0].when[0].key", "request.auth.claims[iss] is currently not supported with action CUSTOM");
  });

  it("refuses serviceAccounts together with namespaces or principals", () => {
    expectError(validate(withSource({ serviceAccounts: ["ns/sa"], namespaces: ["ns"] })), SRC, "Cannot set serviceAccounts with namespaces or principals");
    expectError(validate(withSource({ notServiceAccounts: ["sa"], notPrincipals: ["p"] })), SRC, "Cannot set serviceAccounts with namespaces or principals");
  });

  it("checks service accounts: format, no wildcard, at most 16", () => {
    const errors = validate(withSource({ serviceAccounts: ["a/b/c", "ns/*", "/sa", ""] }));
    expectError(errors, `${SRC}.serviceAccounts[0]`, "expected format 'serviceAccount' or 'namespace/serviceAccount'");
    expectError(errors, `${SRC}.serviceAccounts[1]`, "wildcard not allowed");
    expectError(errors, `${SRC}.serviceAccounts[2]`, "expected format");
    expectError(errors, `${SRC}.serviceAccounts[3]`, "service account must not be empty");
    const many = Array.from({ length: 17 }, (_, i) => `sa${i}`);
    expectError(validate(withSource({ serviceAccounts: many })), `${SRC}.serviceAccounts`, "must have at most 16 items, got 17");
  });

  it("checks IP blocks as addresses or CIDRs", () => {
    const errors = validate(withSource({ ipBlocks: ["10.0.0.0/8", "1.2.3.4", "300.1.1.1"], notRemoteIpBlocks: ["10.0.0.0/33", "2001:db8::/32"] }));
    expect(errors).toHaveLength(2);
    expectError(errors, `${SRC}.ipBlocks[2]`, 'invalid IP address or CIDR "300.1.1.1"');
    expectError(errors, `${SRC}.notRemoteIpBlocks[0]`, "prefix length must be 0..32");
  });

  it("refuses empty strings in match lists", () => {
    expectError(validate(withSource({ principals: [""] })), `${SRC}.principals[0]`, "principal must not be empty");
    expectError(validate(withOperation({ methods: ["GET", ""] })), `${OP}.methods[1]`, "method must not be empty");
    expectError(validate(withOperation({ notHosts: [""] })), `${OP}.notHosts[0]`, "host must not be empty");
  });

  it("refuses an empty source or operation and empty from/to lists", () => {
    expectError(validate(withSource({})), SRC, "from.source must not be empty");
    expectError(validate(withOperation({ paths: [] })), OP, "to.operation must not be empty");
    expectError(validate({ rules: [{ from: [] }] }), "spec.rules[0].from", "`from` must not be empty");
    expectError(validate({ rules: [{ to: [] }] }), "spec.rules[0].to", "`to` must not be empty");
    expectError(validate({ rules: [{ from: [{}] }] }), SRC, "Required value");
  });

  it("checks operation ports are numbers 1-65535 written as strings", () => {
    const errors = validate(withOperation({ ports: ["80", "0", "70000", "http"], notPorts: [8080] }));
    expectError(errors, `${OP}.ports[1]`, "port must be between 1-65535");
    expectError(errors, `${OP}.ports[2]`, "port must be between 1-65535");
    expectError(errors, `${OP}.ports[3]`, 'invalid port "http"');
    expectError(errors, `${OP}.notPorts[0]`, "must be of type string, got number");
  });

  it("checks path templates", () => {
    expect(validate(withOperation({ paths: ["/a/{*}/b", "/{**}/b", "/x/*"] }))).toEqual([]);
    const errors = validate(withOperation({ paths: ["/{**}/{*}"], notPaths: ["/a/{id}", "/{*}/b*"] }));
    expectError(errors, `${OP}.paths[0]`, "{**} must be the last template operator");
    expectError(errors, `${OP}.notPaths[0]`, "'{' and '}' may only appear as a whole path segment");
    expectError(errors, `${OP}.notPaths[1]`, 'segment "b*" is not a valid literal');
  });

  it("accepts every supported condition key", () => {
    const keys = [
      ["request.headers[User-Agent]", "Mozilla/*"],
      ["source.ip", "10.0.0.0/8"],
      ["remote.ip", "1.2.3.4"],
      ["source.namespace", "default"],
      ["source.serviceAccount", "default/web"],
      ["source.principal", "cluster.local/ns/default/sa/web"],
      ["source.trustDomain", "cluster.local"],
      ["request.auth.principal", "iss/sub"],
      ["request.auth.audiences", "aud"],
      ["request.auth.presenter", "presenter"],
      ["request.auth.claims[groups]", "admin"],
      ["destination.ip", "10.1.2.3"],
      ["destination.port", "443"],
      ["connection.sni", "*.example.com"],
      ["experimental.envoy.filters.network.mysql_proxy[db.table]", "[update]"],
    ];
    expect(validate(withWhen(...keys.map(([key, v]) => ({ key, values: [v] }))))).toEqual([]);
  });

  it("refuses unknown, deprecated and malformed condition keys", () => {
    const errors = validate(
      withWhen(
        { key: "source.user", values: ["a"] },
        { key: "destination.namespace", values: ["a"] },
        { key: "request.headers", values: ["a"] },
        { key: "request.auth.claims[]", values: ["a"] },
        { key: "", values: ["a"] },
      ),
    );
    expectError(errors, "spec.rules[0].when[0].key", 'unknown attribute "source.user"');
    expectError(errors, "spec.rules[0].when[1].key", "replaced by the policy's metadata.namespace");
    expectError(errors, "spec.rules[0].when[2].key", "should have format request.headers[<name>]");
    expectError(errors, "spec.rules[0].when[3].key", "should have format request.auth.claims[<name>]");
    expectError(errors, "spec.rules[0].when[4].key", "key must not be empty");
  });

  it("requires values or notValues on a condition, and checks them by key", () => {
    expectError(validate(withWhen({ key: "source.ip" })), "spec.rules[0].when[0]", "at least one of values or notValues must be set for key source.ip");
    expectError(validate(withWhen({ key: "source.ip", values: [] })), "spec.rules[0].when[0]", "at least one of values or notValues");
    const errors = validate(withWhen({ key: "destination.ip", values: ["nope"], notValues: [""] }, { key: "destination.port", values: ["65536"] }));
    expectError(errors, "spec.rules[0].when[0].values[0]", 'invalid IP address or CIDR "nope"');
    expectError(errors, "spec.rules[0].when[0].notValues[0]", "empty value not allowed in notValues of key destination.ip");
    expectError(errors, "spec.rules[0].when[1].values[0]", "port must be between 0-65535");
    expectError(validate(withWhen({ values: ["a"] })), "spec.rules[0].when[0].key", "Required value");
  });

  it("reports a wrongly typed list once, as a type error, not also as missing", () => {
    expect(validate(withWhen({ key: "source.ip", values: "10.0.0.1" }))).toEqual([
      { field: "spec.rules[0].when[0].values", message: "must be of type array, got string" },
    ]);
    expect(validate(withSource({ principals: "cluster.local/ns/a/sa/b" }))).toEqual([
      { field: `${SRC}.principals`, message: "must be of type array, got string" },
    ]);
  });

  it("checks targetRef: name, kind and group patterns, supported kinds, namespace", () => {
    expectError(validate({ targetRef: { kind: "Service" } }), "spec.targetRef.name", "Required value");
    expectError(validate({ targetRef: { kind: "Service", name: "" } }), "spec.targetRef.name", "name must not be empty");
    expectError(validate({ targetRef: { group: "Bad_Group", kind: "Service", name: "a" } }), "spec.targetRef.group", "should match");
    expectError(validate({ targetRef: { kind: "my kind", name: "a" } }), "spec.targetRef.kind", "should match");
    expectError(validate({ targetRef: { kind: "Deployment", group: "apps", name: "a" } }), "spec.targetRef.kind", "targetRef must be to one of Gateway");
    expectError(validate({ targetRefs: [{ kind: "Service", name: "a", namespace: "other" }] }), "spec.targetRefs[0].namespace", "cross namespace referencing is not currently supported");
  });

  it("allows only one of selector, targetRef and targetRefs", () => {
    const ref = { kind: "Service", name: "a" };
    expectError(validate({ selector: { matchLabels: { a: "b" } }, targetRefs: [ref] }), "spec", "only one of targetRefs or selector can be set");
    expectError(validate({ targetRef: ref, targetRefs: [ref] }), "spec", "only one of targetRefs or selector can be set");
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    expectNeverThrows(validate, shapedSpec(VOCABULARY, { root: "obj", maxKeys: 4 }), { numRuns: 500, notMessage: /^could not be validated/ });
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describeCorpusMatchingErr("AuthorizationPolicy", validateAuthorizationPolicy, { documents: 8, invalid: 2 });
