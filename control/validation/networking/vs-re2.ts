/**
 * @module vs-re2
 * Checks that a regular expression is one Istio (Envoy's RE2 engine) accepts. JavaScript's RegExp
 * is used to find syntax errors after translating the RE2-only constructs (`(?i)` flags, `(?P<n>)`
 * groups, `\A`, `\z`, `\Q…\E`, POSIX classes); constructs RE2 refuses (look-around,
 * back-references) are reported even though JavaScript would take them.
 */

/** Envoy is configured to refuse programs larger than this; Istio approximates size by length. */
const MAX_REGEX_LENGTH = 1024;

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Returns a description of what is wrong with `pattern`, or undefined when RE2 would accept it. */
export function re2Problem(pattern: string): string | undefined {
  if (pattern === "") return "regex must not be empty";
  if (pattern.length > MAX_REGEX_LENGTH) return `regex is too large: ${pattern.length} characters, the maximum is ${MAX_REGEX_LENGTH}`;
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported) return `invalid regex ${JSON.stringify(pattern)}: ${unsupported} is not supported by RE2, the engine Istio uses`;
  try {
    new RegExp(translate(pattern));
    return undefined;
  } catch (err) {
    const detail = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
    return `invalid regex ${JSON.stringify(pattern)}: ${detail} (Istio uses RE2 syntax)`;
  }
}

/** Finds look-around and back-references outside character classes and escapes. */
function unsupportedConstruct(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) return `back-reference "\\${next}"`;
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        i = end < 0 ? pattern.length : end + 1;
        continue;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++;
      continue;
    }
    if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith("=") || rest.startsWith("!")) return `look-ahead "(?${rest[0]}"`;
      if (rest.startsWith("<=") || rest.startsWith("<!")) return `look-behind "(?${rest.slice(0, 2)}"`;
    }
  }
  return undefined;
}

/** Rewrites RE2-only syntax into an equivalent JavaScript pattern (only for a syntax check). */
function translate(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? pattern.length : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
        i = end < 0 ? pattern.length : end + 1;
        continue;
      }
      if (!inClass && next === "A") out += "^";
      else if (!inClass && next === "z") out += "$";
      else if (next === "C") out += inClass ? "\\s\\S" : "[\\s\\S]";
      else if ((next === "p" || next === "P") && pattern[i + 2] !== "{") {
        // RE2 allows one-letter Unicode classes without braces: \pL
        out += "\\w";
        i += 2;
        continue;
      } else if (next === "p" || next === "P") {
        const close = pattern.indexOf("}", i + 2);
        out += "\\w";
        i = close < 0 ? pattern.length : close;
        continue;
      } else out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "[" && pattern[i + 1] === ":") {
        const close = pattern.indexOf(":]", i + 2);
        const name = close < 0 ? "" : pattern.slice(i + 2, close).replace(/^\^/, "");
        const chars = POSIX_CLASSES[name];
        if (chars !== undefined) {
          out += chars;
          i = close + 1;
          continue;
        }
      }
      if (ch === "]") inClass = false;
      out += ch;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += ch;
      if (pattern[i + 1] === "^") out += pattern[++i];
      if (pattern[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (ch === "(" && pattern[i + 1] === "?") {
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(i));
      if (named) {
        out += "(";
        i += named[0].length - 1;
        continue;
      }
      const flags = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(pattern.slice(i));
      if (flags && (flags[1] !== "" || (flags[2] ?? "") !== "" || flags[3] === ":")) {
        // (?i) sets flags for the rest of the group; (?i:...) is a flagged non-capturing group.
        out += flags[3] === ":" ? "(?:" : "";
        i += flags[0].length - 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}
