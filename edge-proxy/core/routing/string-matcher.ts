/**
 * @module string-matcher
 * Istio's StringMatch compiled once: exact, prefix, or a regex anchored to match the whole value (as Envoy's
 * RE2 `safe_regex` does). Regexes are compiled here, at table build, never per request.
 */
import type { StringMatch } from "../config/proxy-config.js";
import { RouteTableError } from "./routing-error.js";

/** A compiled StringMatch; every variant has the same shape so match sites stay monomorphic. */
export type StringMatcher =
  | { readonly kind: "exact"; readonly value: string; readonly regex: undefined }
  | { readonly kind: "prefix"; readonly value: string; readonly regex: undefined }
  | { readonly kind: "regex"; readonly value: string; readonly regex: RegExp };

/**
 * Compiles a StringMatch. `lowerCase` lower-cases exact and prefix values (for `ignoreUriCase`; Istio
 * ignores case for exact and prefix only, never for regex). Throws RouteTableError naming `where`.
 */
export function compileStringMatch(match: StringMatch, where: string, lowerCase = false): StringMatcher {
  const keys = typeof match === "object" && match !== null ? Object.keys(match) : [];
  const kind = keys[0];
  const value: unknown = kind === undefined ? undefined : (match as Record<string, unknown>)[kind];
  if (keys.length !== 1 || typeof value !== "string" || (kind !== "exact" && kind !== "prefix" && kind !== "regex")) {
    throw new RouteTableError("ERR_ROUTE_MATCH_INVALID", where, "expected exactly one of exact, prefix or regex with a string value");
  }
  if (kind === "regex") {
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${value})$`);
    } catch (error) {
      throw new RouteTableError("ERR_ROUTE_REGEX_INVALID", where, `regex ${JSON.stringify(value)} does not compile: ${(error as Error).message}`);
    }
    return { kind, value, regex };
  }
  return { kind, value: lowerCase ? value.toLowerCase() : value, regex: undefined };
}

/** Whether `value` satisfies the matcher. */
export function stringMatches(matcher: StringMatcher, value: string): boolean {
  switch (matcher.kind) {
    case "exact":
      return value === matcher.value;
    case "prefix":
      return value.startsWith(matcher.value);
    case "regex":
      return matcher.regex.test(value);
  }
}
