/**
 * @module validation/security/request-authentication
 * Istio's admission rules for RequestAuthentication (security.istio.io): the strict shape of each
 * JWT rule, a required issuer, an http(s) `jwksUri` (or the legacy `jwks_uri`) that excludes an
 * inline `jwks` key set, non-empty audiences and token locations, valid header names, a timeout of
 * at least 1ms, the `presence` enum, and attachment through selector or targetRef(s).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { checkSchema } from "../primitives.js";
import type { SpecContext, SpecValidator } from "../types.js";
import {
  checkMaxItems,
  durationAtLeast1ms,
  emptyMessage,
  fieldError,
  has,
  headerName,
  headerNameProblem,
  isRecord,
  items,
  neverThrows,
  nonEmpty,
  nonEmptyStrings,
  type Path,
} from "./fields.js";
import { checkPolicyAttachment, selectorSchema, targetRefFields } from "./target-ref.js";

const MAX_JWT_RULES = 4096;
const MAX_SPACE_DELIMITED_CLAIMS = 64;

/** The problem with a JWKS URL: it must be an absolute http:// or https:// URL with a host. */
export function jwksUriProblem(uri: string): string | undefined {
  if (uri === "") return emptyMessage("jwksUri");
  if (uri.length > 2048) return "jwksUri must be at most 2048 characters long";
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    return `url must have scheme http:// or https://, got "${uri}"`;
  }
  try {
    if (new URL(uri).host === "") return `url "${uri}" must name a host`;
  } catch {
    return `invalid url "${uri}": not an absolute http:// or https:// URL`;
  }
  return undefined;
}

/** The problem with an inline JWKS: it must be a JSON object with a `keys` array (RFC 7517). */
export function jwksProblem(jwks: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jwks);
  } catch (err) {
    return `jwks is not valid JSON: ${(err as Error).message}`;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.keys)) {
    return 'jwks must be a JSON Web Key Set: a JSON object with a "keys" array';
  }
  return undefined;
}

const jwksUri = z.string().superRefine((uri, ctx) => {
  const problem = jwksUriProblem(uri);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const jwtRule = z.strictObject({
  // Required, but checked after the schema pass so the message can say why.
  issuer: z.string().optional(),
  audiences: nonEmptyStrings("audience").optional(),
  jwksUri: jwksUri.optional(),
  jwks_uri: jwksUri.optional(),
  jwks: z
    .string()
    .superRefine((jwks, ctx) => {
      const problem = jwksProblem(jwks);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().optional() })).optional(),
  fromParams: nonEmptyStrings("query parameter name").optional(),
  fromCookies: nonEmptyStrings("cookie name").optional(),
  outputPayloadToHeader: z
    .string()
    .superRefine((name, ctx) => {
      const problem = name === "" ? undefined : headerNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(z.strictObject({ header: headerName, claim: nonEmpty("claim") })).optional(),
  timeout: durationAtLeast1ms.optional(),
  spaceDelimitedClaims: nonEmptyStrings("claim name").optional(),
  presence: z.enum(["OPTIONAL", "REQUIRED"]).optional(),
});

const requestAuthenticationSpec = z.strictObject({
  selector: selectorSchema.optional(),
  ...targetRefFields,
  jwtRules: z.array(jwtRule).optional(),
});

function checkJwtRule(rule: unknown, path: Path): FieldError[] {
  if (!isRecord(rule)) return [];
  const out: FieldError[] = [];
  if (rule.issuer === undefined) {
    out.push(fieldError([...path, "issuer"], "Required value: issuer must be set to the JWT issuer (its iss claim)"));
  } else if (rule.issuer === "") {
    out.push(fieldError([...path, "issuer"], `${emptyMessage("issuer")}: name the JWT issuer (its iss claim)`));
  }
  const keySources = (["jwksUri", "jwks_uri", "jwks"] as const).filter((k) => has(rule, k));
  if (keySources.length > 1) {
    out.push(fieldError(path, `only one of jwks or jwksUri can be set: found ${keySources.join(", ")}`));
  }
  out.push(...checkMaxItems(rule.spaceDelimitedClaims, MAX_SPACE_DELIMITED_CLAIMS, [...path, "spaceDelimitedClaims"]));
  return out;
}

export const validateRequestAuthentication: SpecValidator = neverThrows((spec: unknown, ctx: SpecContext) => {
  const errors = checkSchema(requestAuthenticationSpec, spec, ["spec"]);
  if (!isRecord(spec)) return errors;
  errors.push(...checkPolicyAttachment(spec, ctx));
  errors.push(...checkMaxItems(spec.jwtRules, MAX_JWT_RULES, ["spec", "jwtRules"]));
  items(spec.jwtRules).forEach((rule, i) => errors.push(...checkJwtRule(rule, ["spec", "jwtRules", i])));
  return errors;
});
