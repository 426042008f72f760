/**
 * @module security/istio-pattern
 * AuthorizationPolicy's string matching, compiled once: `abc` exact, `abc*` prefix, `*abc` suffix and
 * `*` presence (any value, once the attribute exists). Paths also take Istio's templates: `{*}` is one
 * whole path segment, `{**}` any remainder (zero or more segments). An absent attribute matches nothing.
 * A field's list of patterns becomes one matcher that tests each kind in a loop, rather than one
 * function per pattern: policies are evaluated on every request.
 */
import { charCodes, endsWithCodes, startsWithCodes } from "../routing/char-codes.js";

/** Tests one attribute value; `undefined` (the attribute is absent) never matches. */
export type ValueMatcher = (value: string | undefined) => boolean;

const NEVER: ValueMatcher = () => false;
const PRESENT: ValueMatcher = (v) => v !== undefined;

/** One matcher true when any of `patterns` matches (never for an empty list); `ignoreCase` compares lower-cased (hosts). */
export function compilePatterns(patterns: readonly string[], ignoreCase = false): ValueMatcher {
  const set = new PatternSet();
  for (const pattern of patterns) set.add(ignoreCase ? pattern.toLowerCase() : pattern);
  return set.matcher(ignoreCase);
}

/** As {@link compilePatterns} for operation paths: a pattern holding `{*}` or `{**}` is a path template. */
export function compilePathPatterns(patterns: readonly string[]): ValueMatcher {
  const set = new PatternSet();
  for (const pattern of patterns) {
    if (TEMPLATE.test(pattern)) set.regexes.push(templateRegex(pattern));
    else set.add(pattern);
  }
  return set.matcher(false);
}

const TEMPLATE = /\{\*\*?\}/;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function templateRegex(pattern: string): RegExp {
  let source = "";
  const segments = pattern.split("/");
  segments.forEach((segment, i) => {
    if (segment === "{**}") {
      // Zero or more segments: swallow the separator before it too, so `/a/{**}` matches `/a`.
      source = source.endsWith("/") ? `${source.slice(0, -1)}(?:/.*)?` : `${source}.*`;
    } else {
      source += segment === "{*}" ? "[^/]+" : escapeRegex(segment);
    }
    if (i < segments.length - 1) source += "/";
  });
  return new RegExp(`^${source}$`);
}

/** Patterns sorted by kind while compiling. */
class PatternSet {
  any = false;
  readonly exact: string[] = [];
  readonly prefixes: Uint16Array[] = [];
  readonly suffixes: Uint16Array[] = [];
  readonly regexes: RegExp[] = [];

  add(pattern: string): void {
    if (pattern === "*") this.any = true;
    else if (pattern.length > 1 && pattern.endsWith("*")) this.prefixes.push(charCodes(pattern.slice(0, -1)));
    else if (pattern.length > 1 && pattern.startsWith("*")) this.suffixes.push(charCodes(pattern.slice(1)));
    else this.exact.push(pattern);
  }

  matcher(ignoreCase: boolean): ValueMatcher {
    if (this.any) return PRESENT;
    const { exact, prefixes, suffixes, regexes } = this;
    const count = exact.length + prefixes.length + suffixes.length + regexes.length;
    if (count === 0) return NEVER;
    if (count === 1 && !ignoreCase) {
      const [text] = exact;
      const [prefix] = prefixes;
      const [suffix] = suffixes;
      if (text !== undefined) return (v) => v === text;
      if (prefix !== undefined) return (v) => v !== undefined && startsWithCodes(v, prefix);
      if (suffix !== undefined) return (v) => v !== undefined && endsWithCodes(v, suffix);
    }
    return (v) => {
      if (v === undefined) return false;
      const value = ignoreCase ? v.toLowerCase() : v;
      for (let i = 0; i < exact.length; i++) if (value === exact[i]) return true;
      for (let i = 0; i < prefixes.length; i++) if (startsWithCodes(value, prefixes[i]!)) return true;
      for (let i = 0; i < suffixes.length; i++) if (endsWithCodes(value, suffixes[i]!)) return true;
      for (let i = 0; i < regexes.length; i++) if (regexes[i]!.test(value)) return true;
      return false;
    };
  }
}
