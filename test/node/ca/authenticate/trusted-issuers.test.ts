// Validation of the trusted-issuer configuration the Worker reads from its environment or D1:
// each problem is reported against the field at fault.
import { describe, expect, it } from "vitest";
import { ResourceInvalid, type FieldError } from "../../../../control/errors.js";
import { parseTrustedIssuers, trustedIssuersSchema } from "../../../../control/ca/authenticate/kubernetes-jwt.js";

const JWKS = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", kid: "k" }] };
const GOOD = [
  { issuer: "https://kubernetes.default.svc.cluster.local", audiences: ["weft-ca"], jwks: JWKS },
  { issuer: "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c", audiences: ["weft-ca", "istio-ca"], jwksUri: "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c/jwks" },
  { issuer: "kubernetes/serviceaccount", audiences: ["weft-ca"], jwks: JWKS },
];

function causesOf(input: unknown): FieldError[] {
  try {
    parseTrustedIssuers(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ResourceInvalid);
    return (error as ResourceInvalid).causes;
  }
  throw new Error("expected ResourceInvalid");
}

describe("trusted issuers", () => {
  it("accepts inline and remote key sets, from JSON text or a value", () => {
    expect(parseTrustedIssuers(JSON.stringify(GOOD))).toEqual(GOOD);
    expect(parseTrustedIssuers(GOOD)).toEqual(GOOD);
    expect(trustedIssuersSchema.safeParse(GOOD).success).toBe(true);
  });

  it("names each field at fault", () => {
    const causes = causesOf([
      { issuer: "http://insecure.example.com", audiences: [], jwks: JWKS },
      { issuer: "https://a.example.com", audiences: ["weft-ca"], jwksUri: "http://a.example.com/jwks" },
      { issuer: "https://b.example.com", audiences: ["weft-ca"], jwks: JWKS, jwksUri: "https://b.example.com/jwks" },
      { issuer: "https://c.example.com", audiences: ["weft-ca"] },
      { issuer: "https://a.example.com", audiences: [""], jwks: { keys: [] } },
    ]);
    expect(causes).toEqual(
      expect.arrayContaining([
        { field: "[0].issuer", message: expect.stringContaining("https URL") },
        { field: "[0].audiences", message: "audiences must name at least one audience" },
        { field: "[1].jwksUri", message: "jwksUri must be an https URL" },
        { field: "[2].jwks", message: "exactly one of jwks and jwksUri must be set" },
        { field: "[3].jwks", message: "exactly one of jwks and jwksUri must be set" },
        { field: "[4].audiences[0]", message: "an audience must not be empty" },
        { field: "[4].jwks.keys", message: "jwks.keys must hold at least one key" },
      ]),
    );
  });

  it("refuses duplicate issuers, the reserved join-token issuer, unknown fields and bad JSON", () => {
    expect(causesOf([GOOD[0], GOOD[0]])).toContainEqual({ field: "[1].issuer", message: expect.stringContaining("duplicate issuer") });
    expect(causesOf([{ issuer: "weft", audiences: ["a"], jwks: JWKS }])).toContainEqual({ field: "[0].issuer", message: expect.stringContaining("reserved for join tokens") });
    expect(causesOf([{ ...GOOD[0], audience: "a" }])).toContainEqual({ field: "[0].audience", message: 'unknown field "audience"' });
    expect(causesOf("[{")).toEqual([{ field: "", message: expect.any(String) }]);
    expect(causesOf({ issuer: "x" })).toEqual([{ field: "", message: expect.stringContaining("array") }]);
  });
});
