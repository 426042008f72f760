/**
 * @module primitives
 * Building blocks shared by every kind's validator: a zod-to-FieldError adapter that keeps
 * Kubernetes field paths, and the value rules Istio applies everywhere (durations, ports,
 * percentages, host names, regexes, CIDRs, label maps).
 */
import { z } from "zod";
import type { FieldError } from "../errors.js";
import { formatFieldPath } from "./field-path.js";

/** Validates `value` against `schema`; returns the problems with paths prefixed by `prefix` (e.g. "spec"). */
export function checkSchema(schema: z.ZodType, value: unknown, prefix: PropertyKey[]): FieldError[] {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return [];
  return zodIssuesToFieldErrors(result.error.issues, prefix);
}

/** Flattens zod issues (including union branches) into field errors. */
export function zodIssuesToFieldErrors(issues: ReadonlyArray<z.core.$ZodIssue>, prefix: PropertyKey[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ field: formatFieldPath([...path, key]), message: `unknown field "${key}"` });
      }
      continue;
    }
    out.push({ field: formatFieldPath(path), message: describeIssue(issue) });
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "Required value";
      return `must be of type ${issue.expected}, got ${typeOf(issue.input)}`;
    case "invalid_value":
      return `Unsupported value: ${JSON.stringify(issue.input)}: supported values: ${issue.values
        .map((v) => JSON.stringify(v))
        .join(", ")}`;
    default:
      return issue.message;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// Value rules

const DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration (`1.5s`, `100ms`, `1h30m`) into milliseconds, or returns undefined. */
export function parseDurationMs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(DURATION_PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** A duration string of at least `minMs` milliseconds (Istio: at least 1ms for most fields). */
export function duration(minMs = 1) {
  return z.string().superRefine((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) ctx.addIssue({ code: "custom", message: `invalid duration "${text}": use a number with a unit such as 1.5s, 100ms or 1h` });
    else if (ms < minMs) ctx.addIssue({ code: "custom", message: `must be a valid duration greater than ${minMs}ms, got "${text}"` });
  });
}

/** A TCP/UDP port number, 1–65535. */
export const port = z.number().superRefine((n, ctx) => {
  if (!Number.isInteger(n) || n < 1 || n > 65535) ctx.addIssue({ code: "custom", message: `port must be between 1-65535, got ${n}` });
});

/** An unsigned 32-bit integer. */
export const uint32 = z.number().int("must be an integer").min(0, "must be >= 0").max(4294967295, "must be <= 4294967295");

/** A signed 32-bit integer. */
export const int32 = z.number().int("must be an integer").min(-2147483648).max(2147483647);

/** Istio's `Percent { value: double }`, 0–100. */
export const percent = z.strictObject({
  value: z.number().min(0, "percentage must be in range 0..100").max(100, "percentage must be in range 0..100"),
});

/** A regular expression that compiles (Istio takes RE2; JavaScript's syntax is checked here). */
export const regex = z.string().superRefine((text, ctx) => {
  const problem = regexProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export function regexProblem(text: string): string | undefined {
  try {
    new RegExp(text);
    return undefined;
  } catch (err) {
    return `invalid regular expression "${text}": ${(err as Error).message}`;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

/**
 * Checks a host name as Istio does for VirtualService/ServiceEntry hosts: a FQDN or short name,
 * optionally with a leading `*` wildcard label (`*.example.com`, or `*` alone).
 */
export function hostProblem(host: string, opts: { allowWildcard?: boolean } = {}): string | undefined {
  const allowWildcard = opts.allowWildcard ?? true;
  if (host === "") return "host name must not be empty";
  if (host.length > 255) return `host name "${host}" is longer than 255 characters`;
  if (host === "*") return allowWildcard ? undefined : "hostname cannot be wildcard";
  let rest = host;
  if (host.startsWith("*.")) {
    if (!allowWildcard) return "hostname cannot be wildcard";
    rest = host.slice(2);
  } else if (host.startsWith("*")) {
    if (!allowWildcard) return "hostname cannot be wildcard";
    rest = host.slice(1); // Istio accepts "*foo.com" style prefix wildcards
  }
  const trimmed = rest.endsWith(".") ? rest.slice(0, -1) : rest;
  for (const label of trimmed.split(".")) {
    if (label.length > 63) return `host name "${host}" has a label longer than 63 characters`;
    if (!DNS_LABEL.test(label)) return `invalid host name "${host}": each label must be alphanumeric with inner dashes, a wildcard only as the whole first label`;
  }
  return undefined;
}

/** Parses an IPv4 or IPv6 address; returns the byte length (4 or 16) or undefined. */
export function ipVersion(text: string): 4 | 6 | undefined {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(text)) return 4;
  if (isIpv6(text)) return 6;
  return undefined;
}

function isIpv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return false;
  let s = text;
  let v4Tail = 0;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (ipVersion(tail) !== 4) return false;
    s = s.slice(0, lastColon + 1) + "0:0";
    v4Tail = 0;
  }
  const doubles = s.split("::");
  if (doubles.length > 2) return false;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(doubles[0]!);
  const rest = doubles.length === 2 ? groups(doubles[1]!) : [];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = all.length + v4Tail;
  return doubles.length === 2 ? count < 8 : count === 8;
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function cidrProblem(text: string): string | undefined {
  const [addr, bits, extra] = text.split("/");
  if (extra !== undefined || addr === undefined) return `invalid IP address or CIDR "${text}"`;
  const version = ipVersion(addr);
  if (version === undefined) return `invalid IP address or CIDR "${text}"`;
  if (bits === undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `invalid CIDR "${text}": prefix length must be 0..${max}`;
  return undefined;
}

/** Label keys and values as Kubernetes allows them (wildcards refused, as Istio's selectors do). */
export function labelProblem(key: string, value: string): string | undefined {
  if (key.includes("*")) return "wildcard not allowed in label key match";
  if (value.includes("*")) return "wildcard not allowed in label value match";
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : "";
  if (slash >= 0 && hostProblem(prefix, { allowWildcard: false })) return `invalid label key "${key}": prefix must be a DNS subdomain`;
  if (!/^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/.test(name)) return `invalid label key "${key}": name part must be 1-63 alphanumeric characters, '-', '_' or '.'`;
  if (value !== "" && !/^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/.test(value)) return `invalid label value "${value}": must be at most 63 alphanumeric characters, '-', '_' or '.'`;
  return undefined;
}

/** A `map<string,string>` of labels checked with {@link labelProblem}. */
export const labelMap = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [k, v] of Object.entries(labels)) {
    const problem = labelProblem(k, v);
    if (problem) ctx.addIssue({ code: "custom", path: [k], message: problem });
  }
});

/** Istio's WorkloadSelector: `{ matchLabels: {...} }`. */
export const workloadSelector = z.strictObject({ matchLabels: labelMap.optional() });
