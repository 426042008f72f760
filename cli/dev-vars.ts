/**
 * @module cli/dev-vars
 * Writes one variable of a local control plane's `.dev.vars` (the file `npm start` keeps its secrets
 * in): the line is replaced where it is, or added at the end; every other line stays as it was. Values
 * are written as `scripts/dev.mjs` writes them: one line, a JSON string when they hold newlines.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_VARS_FILE = ".dev.vars";

export type DevVarChange = "added" | "replaced" | "unchanged";

/**
 * Sets `name` to `value` in the file at `path` (which must exist). `same` decides whether the value
 * already there (unquoted) means the same, so an equivalent spelling is left alone. A replaced value
 * is kept above the new line as a one-line comment (`# previous NAME, <why>: "..."`), so
 * nothing is lost.
 */
export function setDevVar(path: string, name: string, value: string, same: (existing: string) => boolean, why: string): DevVarChange {
  const text = readFileSync(path, "utf8");
  const encoded = /[\n"\\#\s]/.test(value) ? JSON.stringify(value) : value;
  // A value is one line, or a double-quoted string that may span lines (dotenv's multi-line form).
  const line = new RegExp(`^(?:export\\s+)?${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|[^\\n]*)[ \\t]*$`, "m");
  const found = line.exec(text);
  let next: string;
  if (found) {
    const existing = unquote(found[1]!);
    if (same(existing)) return "unchanged";
    const backup = `# previous ${name}, ${why}: ${JSON.stringify(existing)}`;
    next = text.slice(0, found.index) + `${backup}\n${name}=${encoded}` + text.slice(found.index + found[0].length);
  } else {
    next = `${text}${text !== "" && !text.endsWith("\n") ? "\n" : ""}${name}=${encoded}\n`;
  }
  writeFileSync(path, next, { mode: 0o600 });
  chmodSync(path, 0o600);
  return found ? "replaced" : "added";
}

/** A value as written: a JSON string (`\n` escapes), single quotes, or bare. */
function unquote(raw: string): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value.slice(1, -1).replace(/\\n/g, "\n");
    }
  }
  const single = /^'(.*)'$/s.exec(value);
  return single ? single[1]! : value;
}
