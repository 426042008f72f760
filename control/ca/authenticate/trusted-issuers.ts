/**
 * @module ca/authenticate/trusted-issuers
 * Configuration of the Kubernetes clusters whose service-account tokens the CA accepts: one entry per
 * token issuer, with the audiences it must be minted for and where its public keys are (inline or a
 * JWKS URL). The Worker reads a JSON array of these from its environment or D1 and validates it here.
 */
import type { JSONWebKeySet } from "jose";
import { z } from "zod";
import { ResourceInvalid } from "../../errors.js";
import { zodIssuesToFieldErrors } from "../../validation/primitives.js";
import { JOIN_TOKEN_ISSUER } from "./join-token.js";

/** One Kubernetes service-account token issuer the CA trusts. Exactly one of `jwks` and `jwksUri` is set. */
export type TrustedIssuer = {
  /** The token's `iss`, compared exactly (the API server's `--service-account-issuer`). */
  issuer: string;
  /** The token's `aud` must contain at least one of these. */
  audiences: string[];
  /** The issuer's public keys, inline. */
  jwks?: JSONWebKeySet;
  /** Where to fetch the issuer's public keys (https), e.g. `https://<cluster>/openid/v1/jwks`. */
  jwksUri?: string;
};

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function isHttpsUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return url.protocol === "https:" && url.hostname !== "";
}

// Kubernetes allows the issuer to be "a string or URI"; it is only compared, never fetched.
// A value written as a URL must be a well-formed https URL, which catches typos such as `http://` or `https//`.
const issuer = z
  .string()
  .min(1, "issuer must not be empty")
  .max(2048, "issuer must be at most 2048 characters")
  .refine((text) => !/\s/.test(text), "issuer must not contain whitespace")
  .refine((text) => !URL_SCHEME.test(text) || isHttpsUrl(text), "issuer must be an https URL (or a non-URL issuer string)")
  .refine((text) => text !== JOIN_TOKEN_ISSUER, `issuer ${JSON.stringify(JOIN_TOKEN_ISSUER)} is reserved for join tokens`);

const jwk = z.looseObject({ kty: z.string().min(1, "kty must not be empty") });

const jwks = z.looseObject({ keys: z.array(jwk).min(1, "jwks.keys must hold at least one key") });

const jwksUri = z.string().refine(isHttpsUrl, "jwksUri must be an https URL");

const trustedIssuer = z
  .strictObject({
    issuer,
    audiences: z.array(z.string().min(1, "an audience must not be empty")).min(1, "audiences must name at least one audience"),
    jwks: jwks.optional(),
    jwksUri: jwksUri.optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.jwks === undefined) === (entry.jwksUri === undefined)) {
      ctx.addIssue({ code: "custom", path: ["jwks"], message: "exactly one of jwks and jwksUri must be set" });
    }
  });

/** Schema of the JSON array of trusted issuers; each issuer may appear once. */
export const trustedIssuersSchema: z.ZodType<TrustedIssuer[]> = z.array(trustedIssuer).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.issuer)) ctx.addIssue({ code: "custom", path: [index, "issuer"], message: `duplicate issuer ${JSON.stringify(entry.issuer)}` });
    seen.add(entry.issuer);
  });
});

/**
 * Parses trusted issuers from JSON text or an already-parsed value.
 * Throws ResourceInvalid naming every field at fault (e.g. `[1].jwksUri`).
 */
export function parseTrustedIssuers(input: unknown): TrustedIssuer[] {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ResourceInvalid("trusted issuers are not valid JSON", [{ field: "", message: (error as Error).message }]);
    }
  }
  const result = trustedIssuersSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const causes = zodIssuesToFieldErrors(result.error.issues, []);
  throw new ResourceInvalid(`trusted issuers are invalid: ${causes.map((c) => `${c.field || "(root)"}: ${c.message}`).join("; ")}`, causes);
}
