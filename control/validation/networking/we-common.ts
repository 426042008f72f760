/**
 * @module we-common
 * Value rules shared by the WorkloadEntry, WorkloadGroup, ServiceEntry, DestinationRule and Sidecar
 * validators: safe readers for untrusted raw values (the semantic passes run even where the schema
 * pass already found problems, so they must never assume a shape), Go-style durations with Istio's
 * millisecond precision, numeric ranges whose messages name the value, DNS-1123 labels, FQDNs,
 * protocol names, Unix-domain-socket addresses and label-based workload selectors.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { formatFieldPath } from "../field-path.js";
import { hostProblem, ipVersion, labelProblem, parseDurationMs } from "../primitives.js";

export type Path = PropertyKey[];

// ---------------------------------------------------------------------------------------------
// Safe readers for raw values

/** The value as a plain object, or undefined when it is anything else (null, array, scalar). */
// Short names for the shared raw-value readers, as the WorkloadEntry/ServiceEntry checks use them.
export { asObject as obj, asArray as arr, asString as str, asNumber as num } from "../raw-value.js";
import { asObject as obj } from "../raw-value.js";

/** True when `key` is set on `o` to something other than undefined or null. */
export function isSet(o: Record<string, unknown> | undefined, key: string): boolean {
  return o !== undefined && o[key] !== undefined && o[key] !== null;
}

/** True when `key` holds a non-empty string. */
export function hasText(o: Record<string, unknown> | undefined, key: string): boolean {
  const v = o?.[key];
  return typeof v === "string" && v !== "";
}

export function fieldError(path: Path, message: string): FieldError {
  return { field: formatFieldPath(path), message };
}

// ---------------------------------------------------------------------------------------------
// zod building blocks whose messages name the offending value

/**
 * A Go-style duration string of at least `minMs`. Like Istio's ValidateDuration, sub-millisecond
 * precision is refused unless `anyPrecision` is set (for fields Istio leaves unchecked, such as a cookie TTL).
 */
export function msDuration(minMs = 1, anyPrecision = false) {
  return z.string().superRefine((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `invalid duration "${text}": use a number with a unit such as 1.5s, 100ms or 1h` });
    } else if (ms < minMs) {
      ctx.addIssue({ code: "custom", message: minMs === 1 ? `duration must be at least 1ms, got "${text}"` : `duration must be at least ${minMs}ms, got "${text}"` });
    } else if (!anyPrecision && Math.abs(ms - Math.round(ms)) > 1e-6) {
      ctx.addIssue({ code: "custom", message: `only durations to ms precision are supported, got "${text}"` });
    }
  });
}

/** An integer in [min, max]; the message names the field's meaning (`what`) and the value. */
export function intRange(min: number, max: number, what: string) {
  return z.number().superRefine((n, ctx) => {
    if (!Number.isInteger(n)) ctx.addIssue({ code: "custom", message: `Invalid value: ${n}: ${what} must be an integer` });
    else if (n < min || n > max) ctx.addIssue({ code: "custom", message: `Invalid value: ${n}: ${what} must be in range ${min}..${max}` });
  });
}

/** A number (not necessarily whole) in [min, max]. */
export function numRange(min: number, max: number, what: string) {
  return z.number().superRefine((n, ctx) => {
    if (n < min || n > max) ctx.addIssue({ code: "custom", message: `Invalid value: ${n}: ${what} must be in range ${min}..${max}` });
  });
}

/** A number (not necessarily whole) of at least `min`. */
export function numMin(min: number, what: string) {
  return z.number().superRefine((n, ctx) => {
    if (n < min) ctx.addIssue({ code: "custom", message: `Invalid value: ${n}: ${what} must be >= ${min}` });
  });
}

/** A non-negative int32, as Istio requires of connection-pool and probe counters. */
export function nonNegativeInt32(what: string) {
  return intRange(0, 2147483647, what);
}

export function uint32(what: string) {
  return intRange(0, 4294967295, what);
}

/** A uint64 as far as JSON numbers can carry one exactly. */
export function uint64(what: string) {
  return intRange(0, Number.MAX_SAFE_INTEGER, what);
}

// ---------------------------------------------------------------------------------------------
// Names

const DNS1123_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;

/** Istio's DNS-1123 label check (it accepts upper case): port names, subset names, namespaces. */
export function dnsLabelProblem(value: string, what: string): string | undefined {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    return `invalid ${what} "${value}": must be a DNS-1123 label (at most 63 alphanumeric characters or '-', starting and ending alphanumeric)`;
  }
  return undefined;
}

/** A fully qualified domain name without wildcards (short names such as `reviews` are accepted, as Istio does). */
export function fqdnProblem(host: string): string | undefined {
  return hostProblem(host, { allowWildcard: false });
}

/** True for IPv4 and IPv6 addresses without a prefix length. */
export function isIp(text: string): boolean {
  return ipVersion(text) !== undefined;
}

/** Protocol names Istio's `protocol.Parse` recognises (case-insensitive). */
const PROTOCOLS = ["HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "HTTP_PROXY", "MONGO", "MYSQL", "REDIS", "TCP", "TLS", "UDP"];
const HTTP_PROTOCOLS = new Set(["HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"]);
const TLS_PROTOCOLS = new Set(["HTTPS", "TLS"]);

/** An empty protocol is allowed (Istio sniffs it); anything else must be a known protocol. */
export function protocolProblem(protocol: string): string | undefined {
  if (protocol === "" || PROTOCOLS.includes(protocol.toUpperCase())) return undefined;
  return `unrecognized protocol "${protocol}": supported protocols are ${PROTOCOLS.join(", ")}`;
}

export function isHttpProtocol(protocol: string): boolean {
  return HTTP_PROTOCOLS.has(protocol.toUpperCase());
}

export function isTlsProtocol(protocol: string): boolean {
  return TLS_PROTOCOLS.has(protocol.toUpperCase());
}

export const UNIX_PREFIX = "unix://";

/** The part after `unix://` must be an absolute file path (not a directory) or an abstract socket `@name`. */
export function unixAddressProblem(address: string): string | undefined {
  const rest = address.slice(UNIX_PREFIX.length);
  if (!rest.startsWith("/") && !rest.startsWith("@")) return `UDS must be an absolute path or abstract socket, got "${address}"`;
  if (rest === "@") return `UDS abstract socket must have a name, got "${address}"`;
  if (rest.endsWith("/")) return `UDS may not be a dir, got "${address}"`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Labels and selectors

/** Checks a `map<string,string>` of labels (keys and values as Kubernetes allows them). */
export function checkLabels(raw: unknown, path: Path): FieldError[] {
  const labels = obj(raw);
  if (!labels) return [];
  const out: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== "string") continue; // the schema reports the type
    const problem = labelProblem(key, value);
    if (problem) out.push(fieldError([...path, key], problem));
  }
  return out;
}

/**
 * Checks the labels of a workload selector: like {@link checkLabels}, but a `*` anywhere yields
 * Istio's "wildcard is not supported in selector".
 */
export function checkSelectorLabels(raw: unknown, path: Path): FieldError[] {
  const labels = obj(raw);
  if (!labels) return [];
  const out: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== "string") continue;
    if (key === "") out.push(fieldError([...path, key], "empty key is not supported in selector"));
    else if (key.includes("*") || value.includes("*")) {
      out.push(fieldError([...path, key], `wildcard is not supported in selector: "${key}": "${value}"`));
    } else {
      const problem = labelProblem(key, value);
      if (problem) out.push(fieldError([...path, key], problem));
    }
  }
  return out;
}

/** `{ labels: {...} }`, the selector shape of ServiceEntry and Sidecar. */
export const labelsSelectorSchema = z.strictObject({ labels: z.record(z.string(), z.string()).optional() });

/** `{ matchLabels: {...} }`, the selector shape of DestinationRule (istio.type.v1beta1). */
export const matchLabelsSelectorSchema = z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() });
