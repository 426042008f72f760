/**
 * @module string-matcher
 * Istio's StringMatch compiled once: exact, prefix, or a regex anchored to match the whole value (as Envoy's
 * RE2 `safe_regex` does). Regexes are compiled here, at table build, never per request. A MatcherPool
 * hands equal StringMatches of one table the same compiled object: configs repeat them (`prefix: /`,
 * `exact: GET`, one regex in many services), and a shared object is one that stays in cache.
 */
import type { StringMatch } from "../config/proxy-config.js";
import { charCodes, startsWithCodes } from "./char-codes.js";
import { RouteTableError } from "./routing-error.js";

/** A compiled StringMatch; every variant has the same shape so match sites stay monomorphic. */
export type StringMatcher =
  /** `codes`: the value's code units (char-codes.ts), for prefix tests. */
  | { readonly kind: "exact"; readonly value: string; readonly regex: undefined; readonly codes: Uint16Array }
  | { readonly kind: "prefix"; readonly value: string; readonly regex: undefined; readonly codes: Uint16Array }
  | { readonly kind: "regex"; readonly value: string; readonly regex: RegExp; readonly codes: undefined };

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
    return Object.freeze({ kind, value, regex, codes: undefined });
  }
  const text = lowerCase ? value.toLowerCase() : value;
  return Object.freeze({ kind, value: text, regex: undefined, codes: charCodes(text) });
}

/** Compiled matchers of one table by kind and value, so equal StringMatches share one frozen object. */
export class MatcherPool {
  private readonly matchers = new Map<string, StringMatcher>();
  private readonly others = new Map<string, unknown>();

  /** As {@link compileStringMatch}, returning the pool's object for an equal matcher compiled before. */
  compile(match: StringMatch, where: string, lowerCase = false): StringMatcher {
    const compiled = compileStringMatch(match, where, lowerCase);
    const key = `${compiled.kind}:${compiled.value}`;
    const shared = this.matchers.get(key);
    if (shared !== undefined) return shared;
    this.matchers.set(key, compiled);
    return compiled;
  }

  /** The value shared under `key` (built from matchers' {@link MatcherPool.keyOf}), `value` if it is the first. */
  share<T>(key: string, value: T): T {
    const shared = this.others.get(key);
    if (shared !== undefined) return shared as T;
    this.others.set(key, value);
    return value;
  }

  /** A key naming a compiled matcher, for {@link MatcherPool.share}. */
  static keyOf(matcher: StringMatcher | undefined): string {
    return matcher === undefined ? "-" : `${matcher.kind}:${JSON.stringify(matcher.value)}`;
  }
}

/** Whether `value` satisfies the matcher. */
export function stringMatches(matcher: StringMatcher, value: string): boolean {
  switch (matcher.kind) {
    case "exact":
      return value === matcher.value;
    case "prefix":
      return startsWithCodes(value, matcher.codes);
    case "regex":
      return matcher.regex.test(value);
  }
}
