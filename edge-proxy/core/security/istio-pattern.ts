/**
 * @module security/istio-pattern
 * AuthorizationPolicy's string matching, compiled once: `abc` exact, `abc*` prefix, `*abc` suffix and
 * `*` presence (any value, once the attribute exists). Paths also take Istio's templates: `{*}` is one
 * whole path segment, `{**}` any remainder (zero or more segments). An absent attribute matches nothing.
 */

/** Tests one attribute value; `undefined` (the attribute is absent) never matches. */
export type ValueMatcher = (value: string | undefined) => boolean;

const NEVER: ValueMatcher = () => false;

/** Compiles one Istio pattern; `ignoreCase` compares lower-cased (hosts). */
export function compilePattern(pattern: string, ignoreCase = false): ValueMatcher {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === "*") return (v) => v !== undefined;
  if (p.length > 1 && p.endsWith("*")) {
    const prefix = p.slice(0, -1);
    return (v) => v !== undefined && norm(v).startsWith(prefix);
  }
  if (p.length > 1 && p.startsWith("*")) {
    const suffix = p.slice(1);
    return (v) => v !== undefined && norm(v).endsWith(suffix);
  }
  return (v) => v !== undefined && norm(v) === p;
}

const TEMPLATE = /\{\*\*?\}/;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles an operation path: a path template when it holds `{*}` or `{**}`, else an Istio pattern. */
export function compilePathPattern(pattern: string): ValueMatcher {
  if (!TEMPLATE.test(pattern)) return compilePattern(pattern);
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
  const regex = new RegExp(`^${source}$`);
  return (v) => v !== undefined && regex.test(v);
}

/** One matcher true when any of `patterns` matches; never true for an empty list. */
export function anyOf(matchers: readonly ValueMatcher[]): ValueMatcher {
  if (matchers.length === 0) return NEVER;
  if (matchers.length === 1) return matchers[0]!;
  return (v) => {
    for (const m of matchers) if (m(v)) return true;
    return false;
  };
}
