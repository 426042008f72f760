/**
 * @module hosts/sidecar/agent/pod-labels
 * Reads the Pod's labels as the downward API writes them into a file (`/etc/istio/pod/labels`): one
 * `key="value"` a line, the value a Go-quoted string, lines sorted by key. Each label is checked as
 * Kubernetes checks it, and a bad line is named by its number.
 */
import { labelProblem } from "../../../../control/validation/primitives.js";

/** Problems found, each a message naming the line; the labels when there are none. */
export type LabelsParse = { ok: true; labels: Record<string, string> } | { ok: false; problems: string[] };

/** Parses downward-API labels text. */
export function parseDownwardApiLabels(text: string): LabelsParse {
  const labels: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    const at = `line ${index + 1}`;
    const equals = line.indexOf("=");
    if (equals <= 0) return void problems.push(`${at}: expected key="value", got ${JSON.stringify(line)}`);
    const key = line.slice(0, equals);
    const quoted = line.slice(equals + 1);
    let value: unknown;
    try {
      value = quoted.startsWith('"') ? JSON.parse(quoted) : undefined;
    } catch {
      value = undefined;
    }
    if (typeof value !== "string") return void problems.push(`${at}: the value of ${key} must be a double-quoted string, got ${quoted}`);
    const problem = labelProblem(key, value);
    if (problem) return void problems.push(`${at}: ${problem}`);
    labels[key] = value;
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, labels };
}

/** Parses a JSON object of label strings (WEFT_LABELS). */
export function parseJsonLabels(text: string): LabelsParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problems: ['must be a JSON object of strings, e.g. {"app":"reviews","version":"v1"}'] };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { ok: false, problems: ['must be a JSON object of strings, e.g. {"app":"reviews","version":"v1"}'] };
  const labels: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      problems.push(`label ${key}: the value must be a string`);
      continue;
    }
    const problem = labelProblem(key, v);
    if (problem) problems.push(problem);
    else labels[key] = v;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, labels };
}
