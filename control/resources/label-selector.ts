/**
 * @module label-selector
 * Parses and matches Kubernetes label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * `a in (x,y)`, `a notin (x,y)`, comma-separated (all must hold).
 */
import { BadRequest } from "../errors.js";

type Requirement =
  | { op: "in"; key: string; values: string[] }
  | { op: "notin"; key: string; values: string[] }
  | { op: "exists"; key: string }
  | { op: "!exists"; key: string };

export type LabelSelector = (labels: Record<string, string>) => boolean;

const KEY = "[A-Za-z0-9][-A-Za-z0-9_./]*";

/** Parses `text`; throws BadRequest naming the part that does not parse. */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    if (p === "") continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*([-A-Za-z0-9_.]*)$`)))) {
      const [, key, op, value] = m;
      reqs.push({ op: op === "!=" ? "notin" : "in", key: key!, values: [value!] });
    } else if ((m = p.match(new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`)))) {
      const values = m[3]!.split(",").map((v) => v.trim()).filter((v) => v !== "");
      reqs.push({ op: m[2] as "in" | "notin", key: m[1]!, values });
    } else if ((m = p.match(new RegExp(`^!\\s*(${KEY})$`)))) {
      reqs.push({ op: "!exists", key: m[1]! });
    } else if ((m = p.match(new RegExp(`^(${KEY})$`)))) {
      reqs.push({ op: "exists", key: m[1]! });
    } else {
      throw new BadRequest(`unable to parse requirement "${p}" of labelSelector "${text}": use key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
    }
  }
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case "exists": return has;
        case "!exists": return !has;
        case "in": return has && r.values.includes(labels[r.key]!);
        case "notin": return !has || !r.values.includes(labels[r.key]!);
      }
    });
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
