/**
 * @module test/node/validation/peer-authentication
 * PeerAuthentication validation: every rule on its own, then Istio's own corpus documents.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FieldError } from "../../../control/errors.js";
import { validatePeerAuthentication } from "../../../control/validation/security/peer-authentication.js";
import { corpusObjects } from "../../corpus.js";

const ctx = { namespace: "default", name: "pa" };
const validate = (spec: unknown) => validatePeerAuthentication(spec, ctx);

/** Random objects built from this kind's own field names, so the fuzzing reaches nested rules. */
const VOCABULARY = ["selector", "matchLabels", "mtls", "mode", "portLevelMtls", "80", "0", "app", "STRICT"];
function shapedSpec(keys: string[]) {
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...keys), tie("obj"), tie("arr")),
    obj: fc.dictionary(fc.constantFrom(...keys), tie("value"), { maxKeys: 4 }),
    arr: fc.array(tie("value"), { maxLength: 3 }),
  })).obj;
}

function expectError(errors: FieldError[], field: string, message: string): void {
  expect(errors, JSON.stringify(errors)).toContainEqual({ field, message: expect.stringContaining(message) });
}

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
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), shapedSpec(VOCABULARY)), (spec) => {
        for (const e of validate(spec)) {
          expect(e.field.startsWith("spec")).toBe(true);
          expect(e.message).not.toMatch(/^could not be validated/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** `_err` is a message fragment; Kubernetes OpenAPI wording is `<path> in body <rule>` or `<path>: <rule>`. */
function expectMatchesErr(errors: FieldError[], err: string): void {
  const inBody = /^(\S+) in body (.+)$/.exec(err);
  const colon = /^(spec\.\S+): (.+)$/.exec(err);
  if (inBody) {
    const [, path, rule] = inBody as unknown as [string, string, string];
    expect(errors.some((e) => e.field.endsWith(path) && e.message.includes(rule)), JSON.stringify(errors)).toBe(true);
  } else if (colon) {
    const [, path, rule] = colon as unknown as [string, string, string];
    expect(errors.some((e) => e.field === path && e.message.includes(rule)), JSON.stringify(errors)).toBe(true);
  } else {
    expect(errors.some((e) => e.message.includes(err)), JSON.stringify(errors)).toBe(true);
  }
}

describe("PeerAuthentication: Istio corpus", () => {
  const docs = corpusObjects("PeerAuthentication");

  it("finds the corpus documents", () => {
    expect(docs.length).toBe(12);
    expect(docs.filter((d) => d.err).length).toBe(6);
  });

  it.each(docs.filter((d) => !d.err).map((d) => [d.label, d] as const))("valid: %s", (_label, doc) => {
    expect(validatePeerAuthentication(doc.spec, { namespace: doc.namespace, name: "x" })).toEqual([]);
  });

  it.each(docs.filter((d) => d.err).map((d) => [d.label, d] as const))("invalid: %s", (_label, doc) => {
    const errors = validatePeerAuthentication(doc.spec, { namespace: doc.namespace, name: "x" });
    expect(errors.some((e) => e.field.startsWith("spec"))).toBe(true);
    expectMatchesErr(errors, doc.err!);
  });
});
