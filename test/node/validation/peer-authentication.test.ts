/**
 * @module test/node/validation/peer-authentication
 * PeerAuthentication validation: every rule on its own, then Istio's own corpus documents.
 */
import { describe, expect, it } from "vitest";
import { validatePeerAuthentication } from "../../../control/validation/security/peer-authentication.js";
import { describeCorpusMatchingErr, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "default", name: "pa" };
const validate = (spec: unknown) => validatePeerAuthentication(spec, ctx);

/** Random objects built from this kind's own field names, so the fuzzing reaches nested rules. */
const VOCABULARY = ["selector", "matchLabels", "mtls", "mode", "portLevelMtls", "80", "0", "app", "STRICT"];

describe("PeerAuthentication: valid specs", () => {
  it("accepts an empty spec (mesh or namespace default)", () => {
    expect(validate({})).toEqual([]);
  });

  it("accepts every mTLS mode and port-level settings with a selector", () => {
    for (const mode of ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]) {
      expect(validate({ selector: { matchLabels: { app: "web" } }, mtls: { mode }, portLevelMtls: { "8080": { mode } } })).toEqual([]);
    }
  });

  it("accepts the boundary ports 1 and 65535", () => {
    expect(validate({ selector: { matchLabels: { app: "web" } }, portLevelMtls: { "1": { mode: "STRICT" }, "65535": {} } })).toEqual([]);
  });
});

describe("PeerAuthentication: rules", () => {
  it("refuses a spec that is not an object", () => {
    for (const spec of [null, "STRICT", [], 3]) {
      expectError(validate(spec), "spec", "must be of type object");
    }
  });

  it("refuses unknown fields, naming the typo", () => {
    const errors = validate({ mtls: { mdoe: "STRICT" }, tyop: 1 });
    expectError(errors, "spec.mtls.mdoe", 'unknown field "mdoe"');
    expectError(errors, "spec.tyop", 'unknown field "tyop"');
  });

  it("refuses targetRef, which PeerAuthentication does not have", () => {
    expectError(validate({ targetRef: { kind: "Service", name: "web" } }), "spec.targetRef", 'unknown field "targetRef"');
  });

  it("refuses an unknown mTLS mode at the top and per port", () => {
    const errors = validate({ selector: { matchLabels: { a: "b" } }, mtls: { mode: "BLAH" }, portLevelMtls: { "80": { mode: "strict" } } });
    expectError(errors, "spec.mtls.mode", 'Unsupported value: "BLAH"');
    expectError(errors, "spec.portLevelMtls[80].mode", 'Unsupported value: "strict"');
  });

  it("requires a selector with labels for port-level mTLS", () => {
    for (const selector of [undefined, {}, { matchLabels: {} }]) {
      expectError(validate({ selector, portLevelMtls: { "80": { mode: "STRICT" } } }), "spec.portLevelMtls", "portLevelMtls requires selector");
    }
  });

  it("refuses an empty portLevelMtls", () => {
    expectError(validate({ selector: { matchLabels: { a: "b" } }, portLevelMtls: {} }), "spec.portLevelMtls", "should have at least 1 properties");
  });

  it("refuses port keys outside 1-65535", () => {
    const errors = validate({ selector: { matchLabels: { a: "b" } }, portLevelMtls: { "0": {}, "65536": {}, "-1": {} } });
    expectError(errors, "spec.portLevelMtls[0]", "port must be between 1-65535, got 0");
    expectError(errors, "spec.portLevelMtls[65536]", "port must be between 1-65535");
    expectError(errors, "spec.portLevelMtls[-1]", "port must be between 1-65535");
  });

  it("refuses a port key that is not a number", () => {
    const errors = validate({ selector: { matchLabels: { a: "b" } }, portLevelMtls: { http: { mode: "STRICT" } } });
    expectError(errors, "spec.portLevelMtls.http", 'port "http" is not a number (type conversion error from string to int)');
  });

  it("checks selector labels: no wildcards, no empty key", () => {
    const errors = validate({ selector: { matchLabels: { "app*": "web", "": "x", version: "v*" } } });
    expectError(errors, "spec.selector.matchLabels[app*]", "wildcard not allowed in label key match");
    expectError(errors, "spec.selector.matchLabels[]", "key must not be empty");
    expectError(errors, "spec.selector.matchLabels.version", "wildcard not allowed in label value match");
  });

  it("reports every problem at once", () => {
    const errors = validate({ mtls: { mode: "NOPE" }, portLevelMtls: { abc: { mode: "X" } }, extra: true });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ["spec.extra", "spec.mtls.mode", "spec.portLevelMtls", "spec.portLevelMtls.abc", "spec.portLevelMtls.abc.mode"].sort(),
    );
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    expectNeverThrows(validate, shapedSpec(VOCABULARY, { root: "obj", maxKeys: 4 }), { numRuns: 500, notMessage: /^could not be validated/ });
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describeCorpusMatchingErr("PeerAuthentication", validatePeerAuthentication, { documents: 12, invalid: 6 });
