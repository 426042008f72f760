/**
 * @module test/node/validation/request-authentication
 * RequestAuthentication validation: every rule on its own, then Istio's own corpus documents.
 */
import { describe, expect, it } from "vitest";
import { validateRequestAuthentication } from "../../../control/validation/security/request-authentication.js";
import { describeCorpusMatchingErr, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "default", name: "ra" };
const validate = (spec: unknown) => validateRequestAuthentication(spec, ctx);
const rule = (fields: Record<string, unknown>) => ({ jwtRules: [{ issuer: "https://issuer.example.com", ...fields }] });
const R = "spec.jwtRules[0]";

/** Random objects built from this kind's own field names, so the fuzzing reaches nested rules. */
const VOCABULARY = [
  "selector", "matchLabels", "targetRef", "targetRefs", "group", "kind", "name", "namespace", "jwtRules", "issuer",
  "audiences", "jwksUri", "jwks_uri", "jwks", "fromHeaders", "prefix", "fromParams", "fromCookies", "outputPayloadToHeader",
  "outputClaimToHeaders", "header", "claim", "timeout", "spaceDelimitedClaims", "presence", "forwardOriginalToken",
];

describe("RequestAuthentication: valid specs", () => {
  it("accepts an empty spec and a rule with only an issuer", () => {
    expect(validate({})).toEqual([]);
    expect(validate(rule({}))).toEqual([]);
  });

  it("accepts a rule using every field", () => {
    const full = rule({
      audiences: ["api"],
      jwksUri: "https://issuer.example.com/.well-known/jwks.json",
      fromHeaders: [{ name: "x-jwt-assertion", prefix: "Bearer " }],
      fromParams: ["token"],
      fromCookies: ["session"],
      outputPayloadToHeader: "x-jwt-payload",
      forwardOriginalToken: true,
      outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }],
      timeout: "5s",
      spaceDelimitedClaims: ["scope"],
      presence: "REQUIRED",
    });
    expect(validate({ selector: { matchLabels: { app: "web" } }, ...full })).toEqual([]);
  });

  it("accepts an inline JWKS and the legacy jwks_uri spelling", () => {
    expect(validate(rule({ jwks: '{"keys":[{"kty":"RSA","e":"AQAB","n":"abc"}]}' }))).toEqual([]);
    expect(validate(rule({ jwks_uri: "http://keys.example.com:8080/jwks" }))).toEqual([]);
  });
});

describe("RequestAuthentication: rules", () => {
  it("refuses a spec that is not an object, and unknown fields", () => {
    expectError(validate([]), "spec", "must be of type object");
    const errors = validate(rule({ issur: "x", fromHeaders: [{ name: "a", prefx: "b" }] }));
    expectError(errors, `${R}.issur`, 'unknown field "issur"');
    expectError(errors, `${R}.fromHeaders[0].prefx`, 'unknown field "prefx"');
  });

  it("requires a non-empty issuer", () => {
    expectError(validate({ jwtRules: [{ jwksUri: "https://a.example.com/k" }] }), `${R}.issuer`, "issuer must be set");
    expectError(validate({ jwtRules: [{ issuer: "" }] }), `${R}.issuer`, "issuer must not be empty");
  });

  it("requires jwksUri to be an http or https URL", () => {
    expectError(validate(rule({ jwksUri: "ftp://a.example.com/keys" })), `${R}.jwksUri`, "url must have scheme http:// or https://");
    expectError(validate(rule({ jwksUri: "example.com/keys" })), `${R}.jwksUri`, "url must have scheme");
    expectError(validate(rule({ jwksUri: "" })), `${R}.jwksUri`, "jwksUri must not be empty");
    expectError(validate(rule({ jwks_uri: "https://" })), `${R}.jwks_uri`, "not an absolute http:// or https:// URL");
  });

  it("allows only one of jwks and jwksUri", () => {
    const errors = validate(rule({ jwksUri: "https://a.example.com/k", jwks: '{"keys":[]}' }));
    expectError(errors, R, "only one of jwks or jwksUri can be set: found jwksUri, jwks");
  });

  it("requires jwks to be a JSON Web Key Set", () => {
    expectError(validate(rule({ jwks: "not json" })), `${R}.jwks`, "jwks is not valid JSON");
    expectError(validate(rule({ jwks: '{"kty":"RSA"}' })), `${R}.jwks`, 'a JSON object with a "keys" array');
  });

  it("refuses empty audiences, params, cookies and claims", () => {
    const errors = validate(rule({ audiences: [""], fromParams: [""], fromCookies: [""], spaceDelimitedClaims: [""] }));
    expectError(errors, `${R}.audiences[0]`, "audience must not be empty: should be at least 1 chars long");
    expectError(errors, `${R}.fromParams[0]`, "should be at least 1 chars long");
    expectError(errors, `${R}.fromCookies[0]`, "should be at least 1 chars long");
    expectError(errors, `${R}.spaceDelimitedClaims[0]`, "should be at least 1 chars long");
  });

  it("limits spaceDelimitedClaims to 64 entries", () => {
    const claims = Array.from({ length: 65 }, (_, i) => `c${i}`);
    expectError(validate(rule({ spaceDelimitedClaims: claims })), `${R}.spaceDelimitedClaims`, "must have at most 64 items, got 65");
  });

  it("checks header names: required, non-empty, matching the header pattern", () => {
    expectError(validate(rule({ fromHeaders: [{ prefix: "Bearer " }] })), `${R}.fromHeaders[0].name`, "Required value");
    expectError(validate(rule({ fromHeaders: [{ name: "" }] })), `${R}.fromHeaders[0].name`, "header name must not be empty");
    expectError(validate(rule({ fromHeaders: [{ name: "x jwt" }] })), `${R}.fromHeaders[0].name`, 'header name "x jwt" should match');
    expectError(validate(rule({ outputPayloadToHeader: "x:payload" })), `${R}.outputPayloadToHeader`, "should match");
  });

  it("checks outputClaimToHeaders: both fields required and valid", () => {
    const errors = validate(rule({ outputClaimToHeaders: [{ header: ":authority", claim: "" }, { claim: "sub" }, null] }));
    expectError(errors, `${R}.outputClaimToHeaders[0].header`, 'header name ":authority" should match');
    expectError(errors, `${R}.outputClaimToHeaders[0].claim`, "claim must not be empty");
    expectError(errors, `${R}.outputClaimToHeaders[1].header`, "Required value");
    expectError(errors, `${R}.outputClaimToHeaders[2]`, "must be of type object, got null");
  });

  it("requires the timeout to be a duration of at least 1ms", () => {
    expectError(validate(rule({ timeout: "soon" })), `${R}.timeout`, "must be a valid duration greater than 1ms");
    expectError(validate(rule({ timeout: "0s" })), `${R}.timeout`, "must be a valid duration greater than 1ms");
    expectError(validate(rule({ timeout: 5 })), `${R}.timeout`, "must be of type string");
  });

  it("refuses an unknown presence", () => {
    expectError(validate(rule({ presence: "MANDATORY" })), `${R}.presence`, 'Unsupported value: "MANDATORY"');
  });

  it("checks targetRef and that only one of selector, targetRef and targetRefs is set", () => {
    expectError(validate({ targetRef: { kind: "Service", name: "a", namespace: "other" } }), "spec.targetRef.namespace", "cross namespace referencing is not currently supported");
    expectError(validate({ targetRefs: [{ group: "", kind: "Pod", name: "a" }] }), "spec.targetRefs[0].kind", "targetRef must be to one of");
    expectError(validate({ selector: {}, targetRef: { kind: "Service", name: "a" } }), "spec", "only one of targetRefs or selector can be set");
    const refs = Array.from({ length: 17 }, (_, i) => ({ kind: "Service", name: `s${i}` }));
    expectError(validate({ targetRefs: refs }), "spec.targetRefs", "must have at most 16 items");
  });

  it("reports every problem at once", () => {
    const errors = validate({ jwtRules: [{ audiences: [""] }, { issuer: "a", timeout: "x" }], extra: 1 });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ["spec.extra", "spec.jwtRules[0].audiences[0]", "spec.jwtRules[0].issuer", "spec.jwtRules[1].timeout"].sort(),
    );
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    expectNeverThrows(validate, shapedSpec(VOCABULARY, { root: "obj", maxKeys: 4 }), { numRuns: 500, notMessage: /^could not be validated/ });
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describeCorpusMatchingErr("RequestAuthentication", validateRequestAuthentication, { documents: 23, invalid: 20 });
