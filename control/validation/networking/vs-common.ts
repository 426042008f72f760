/**
 * @module vs-common
 * Shared plumbing for the VirtualService and Gateway validators: a collector that turns
 * (path, message) pairs into Kubernetes-style field errors, defensive accessors for the raw
 * (untrusted) spec, and the name rules Istio applies to hosts, gateway references, namespaces,
 * subsets, durations and header names/values.
 */
import type { FieldError } from "../../errors.js";
import { formatFieldPath } from "../field-path.js";
import { hostProblem, ipVersion, parseDurationMs } from "../primitives.js";

export type Path = readonly PropertyKey[];

/** Collects every problem found; never throws. */
export class Problems {
  readonly list: FieldError[] = [];
  add(path: Path, message: string): void {
    this.list.push({ field: formatFieldPath(path), message });
  }
  /** Adds `message` when it is defined (handy with the `...Problem()` helpers). */
  addIf(path: Path, message: string | undefined): void {
    if (message !== undefined) this.add(path, message);
  }
}

// ---------------------------------------------------------------------------------------------
// Defensive accessors: the schema pass reports type errors; the semantic pass only looks at
// values of the expected type and silently skips the rest.

export { asArray, asNumber, asObject, asString, type Obj } from "../raw-value.js";
import { asArray, asObject, type Obj } from "../raw-value.js";

/** The string entries of an array, with their indexes (non-strings are skipped). */
export function stringEntries(value: unknown): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  asArray(value)?.forEach((item, i) => {
    if (typeof item === "string") out.push([i, item]);
  });
  return out;
}

/** The object entries of an array, with their indexes (non-objects are skipped). */
export function objectEntries(value: unknown): Array<[number, Obj]> {
  const out: Array<[number, Obj]> = [];
  asArray(value)?.forEach((item, i) => {
    const obj = asObject(item);
    if (obj) out.push([i, obj]);
  });
  return out;
}

/** True when `obj[key]` is present (not undefined and not null), as proto3 JSON treats it. */
export function isSet(obj: Obj | undefined, key: string): boolean {
  return obj !== undefined && obj[key] !== undefined && obj[key] !== null;
}

/** True when a repeated field holds at least one element. */
export function nonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Name rules

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes DNS-1123 label: lower-case alphanumerics and inner dashes, at most 63 characters. */
export function isDns1123Label(text: string): boolean {
  return text.length <= 63 && DNS1123_LABEL.test(text);
}

/** Istio refuses dotted names whose last label is all digits (that is how IP addresses are kept out). */
function numericTldProblem(host: string): string | undefined {
  if (!host.includes(".")) return undefined;
  const last = host.split(".").pop() ?? "";
  if (/^\d+$/.test(last)) return `domain name "${host}" is invalid: top-level domain "${last}" cannot be all-numeric`;
  return undefined;
}

/** A host name that may carry a leading `*` wildcard (VirtualService hosts, destination hosts). */
export function wildcardDomainProblem(host: string): string | undefined {
  return hostProblem(host) ?? numericTldProblem(host);
}

/** A fully qualified or short host name without any wildcard. */
export function fqdnProblem(host: string): string | undefined {
  if (host.includes("*")) return `invalid host name "${host}": wildcards are not allowed here`;
  return hostProblem(host, { allowWildcard: false }) ?? numericTldProblem(host);
}

export function isIpAddress(text: string): boolean {
  return ipVersion(text) !== undefined;
}

/**
 * A host of a VirtualService bound to gateways: when the VirtualService routes by SNI, Istio also
 * accepts the names it generates for AUTO_PASSTHROUGH (`outbound_.<port>_._.<hostname>`).
 */
export function gatewayBoundHostProblem(host: string, sni: boolean): string | undefined {
  if (sni && host.startsWith("outbound_")) {
    const parts = host.split("_");
    const port = (parts[1] ?? "").replace(/^\.+|\.+$/g, "");
    const name = (parts[3] ?? "").replace(/^\.+|\.+$/g, "");
    if (parts.length < 4 || !/[0-9]/.test(port) || !/[a-zA-Z]/.test(name)) {
      return `invalid SNI host "${host}": generated names must follow outbound_.<PORT>_._.<HOSTNAME>`;
    }
    return undefined;
  }
  return wildcardDomainProblem(host);
}

/** Istio's wildcard-aware "these two hosts overlap" test (`*.foo.com` overlaps `a.foo.com` and `*.com`). */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith("*");
  const bWild = b.startsWith("*");
  if (aWild && bWild) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/** True when every name `host` matches is also matched by `of`. */
export function hostSubsetOf(host: string, of: string): boolean {
  const hWild = host.startsWith("*");
  const oWild = of.startsWith("*");
  if (hWild) return oWild && host.length >= of.length && host.slice(1).endsWith(of.slice(1));
  if (oWild) return host.endsWith(of.slice(1));
  return host === of;
}

/**
 * A gateway reference in a VirtualService: `mesh`, a gateway name in the VirtualService's own
 * namespace, or `<namespace>/<name>`.
 */
export function gatewayRefProblem(ref: string): string | undefined {
  const slash = ref.indexOf("/");
  if (slash < 0) {
    const problem = fqdnProblem(ref);
    return problem ? `invalid gateway reference "${ref}": use "mesh", "<name>" or "<namespace>/<name>" (${problem})` : undefined;
  }
  const ns = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  if (ns === "" || name === "") return `invalid gateway reference "${ref}": namespace and gateway name must both be non-empty`;
  if (!isDns1123Label(ns)) return `invalid gateway reference "${ref}": namespace "${ns}" must be a DNS-1123 label`;
  if (!isDns1123Label(name)) return `invalid gateway reference "${ref}": gateway name "${name}" must be a DNS-1123 label`;
  return undefined;
}

/** Istio's exportTo rule: `.`, `*` or a namespace name; no duplicates; `*` only on its own. */
export function checkExportTo(problems: Problems, path: Path, value: unknown, namespace: string): void {
  const entries = stringEntries(value);
  const seen = new Map<string, number>();
  for (const [i, entry] of entries) {
    const key = entry === "." ? namespace : entry;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.add([...path, i], `duplicate exportTo entry "${entry}" (same as ${JSON.stringify(entries.find(([j]) => j === earlier)?.[1])}, namespace "${namespace}")`);
      continue;
    }
    if (entry !== "." && entry !== "*" && !isDns1123Label(entry)) {
      problems.add([...path, i], `invalid exportTo entry "${entry}": must be ".", "*" or a namespace name (DNS-1123 label)`);
      continue;
    }
    seen.set(key, i);
  }
  if (entries.some(([, e]) => e === "*") && asArray(value)!.length > 1) {
    problems.add(path, `exportTo "*" (all namespaces) cannot be combined with other entries`);
  }
}

/** Istio durations are accurate to the millisecond; finer values are refused. */
export function durationPrecisionProblem(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 1) return undefined; // reported by duration()
  if (Math.abs(ms - Math.round(ms)) > 1e-9) return `duration "${text}" is finer than 1ms: only durations to millisecond precision are supported`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Header names and values (RFC 7230 tokens; Envoy's %VARIABLE% syntax in values)

const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

export function isHeaderToken(name: string): boolean {
  return TOKEN.test(name);
}

/** A header value Envoy accepts: no control characters, `%` only as `%%` or around a `%VARIABLE%`. */
export function headerValueProblem(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) return `invalid header value ${JSON.stringify(value)}: control characters are not allowed`;
  let i = 0;
  while (i < value.length) {
    if (value[i] !== "%") {
      i++;
      continue;
    }
    if (value[i + 1] === "%") {
      i += 2;
      continue;
    }
    const end = findVariableEnd(value, i + 1);
    if (end < 0) return `invalid header value ${JSON.stringify(value)}: unescaped "%" (write "%%" for a literal percent sign, or a complete %VARIABLE%)`;
    i = end + 1;
  }
  return undefined;
}

/** Index of the `%` closing a variable that starts at `from`, honouring `(...)` arguments with quoted strings. */
function findVariableEnd(value: string, from: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"' && depth > 0) quoted = true;
    else if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (ch === "%" && depth === 0) return i;
  }
  return -1;
}
