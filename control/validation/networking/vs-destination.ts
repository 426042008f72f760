/**
 * @module vs-destination
 * Rules for where traffic goes: a Destination's host (a real service name, never `*` or an IP),
 * subset name and port, the weights of a route's destinations (each 0-100, summing to 100 when a
 * route has several destinations), and the header operations an HTTP route or destination may apply.
 */
import {
  type Path,
  type Problems,
  asNumber,
  asObject,
  asString,
  isDns1123Label,
  headerValueProblem,
  objectEntries,
  stringEntries,
  wildcardDomainProblem,
} from "./vs-common.js";

/** A Destination (route target or mirror). */
export function checkDestination(problems: Problems, path: Path, value: unknown): void {
  const dest = asObject(value);
  if (!dest) return;
  const host = asString(dest.host);
  if (host !== undefined) {
    if (host === "*") problems.add([...path, "host"], `invalid destination host "*": a destination must name a service, not a wildcard`);
    else problems.addIf([...path, "host"], wildcardDomainProblem(host));
  }
  const subset = asString(dest.subset);
  if (subset !== undefined && subset !== "" && !isDns1123Label(subset)) {
    problems.add([...path, "subset"], `invalid subset name "${subset}": must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`);
  }
}

/**
 * The destinations of one route (`route:` of an HTTP, TLS or TCP route). Each weight is 0-100, and
 * with more than one destination the weights must sum to 100 (a missing weight counts as 0); the
 * error names the last destination's weight, where a person fixes the split.
 */
export function checkRouteDestinations(problems: Problems, path: Path, value: unknown, withHeaders: boolean): void {
  const entries = objectEntries(value);
  let total = 0;
  for (const [i, entry] of entries) {
    checkDestination(problems, [...path, i, "destination"], entry.destination);
    if (withHeaders) checkHeaderOperations(problems, [...path, i, "headers"], entry.headers);
    const weight = asNumber(entry.weight);
    if (weight !== undefined && weight > 100) problems.add([...path, i, "weight"], `weight must be in range 0..100, got ${weight}`);
    total += weight ?? 0;
  }
  const last = entries[entries.length - 1];
  if (entries.length > 1 && last && total !== 100) {
    problems.add([...path, last[0], "weight"], `weights of the ${entries.length} destinations must sum to 100, got ${total}`);
  }
}

function isInternalHeader(name: string): boolean {
  return name.startsWith(":") || name.toLowerCase() === "host";
}

function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ":authority" || lower === "host";
}

/** Header names a request `set`/`add` may use: anything but pseudo-headers, except the authority. */
function requestSetNameProblem(name: string): string | undefined {
  if (name === "") return "header name must not be empty";
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `invalid header "${name}": headers with a ":" prefix cannot be modified`;
  return undefined;
}

/** Header names for request `remove` and every response operation: no pseudo-headers, no Host. */
function operationNameProblem(name: string): string | undefined {
  if (name === "") return "header name must not be empty";
  if (name.toLowerCase() === "host") return `invalid header "${name}": the Host header cannot be modified this way (use rewrite.authority)`;
  if (isInternalHeader(name)) return `invalid header "${name}": headers with a ":" prefix cannot be modified`;
  return undefined;
}

/** `headers: {request: {set, add, remove}, response: {set, add, remove}}`. */
export function checkHeaderOperations(problems: Problems, path: Path, value: unknown): void {
  const headers = asObject(value);
  if (!headers) return;
  for (const side of ["request", "response"] as const) {
    const ops = asObject(headers[side]);
    if (!ops) continue;
    const nameRule = side === "request" ? requestSetNameProblem : operationNameProblem;
    for (const op of ["set", "add"] as const) {
      for (const [name, val] of Object.entries(asObject(ops[op]) ?? {})) {
        problems.addIf([...path, side, op, name], nameRule(name));
        if (typeof val === "string") problems.addIf([...path, side, op, name], headerValueProblem(val));
      }
    }
    for (const [i, name] of stringEntries(ops.remove)) problems.addIf([...path, side, "remove", i], operationNameProblem(name));
  }
}

/** The authority may be rewritten in one place only: `rewrite.authority` or one Host/:authority header. */
export function checkAuthorityRewrite(problems: Problems, routePath: Path, rewrite: unknown, headers: unknown): void {
  let current = asString(asObject(rewrite)?.authority) ?? "";
  const request = asObject(asObject(headers)?.request);
  for (const op of ["set", "add"] as const) {
    for (const [name, val] of Object.entries(asObject(request?.[op]) ?? {})) {
      if (!isAuthorityHeader(name) || typeof val !== "string") continue;
      if (current !== "") {
        problems.add(
          [...routePath, "headers", "request", op, name],
          `authority cannot be set more than once: already "${current}", this sets "${val}" (use either rewrite.authority or one Host/:authority header)`,
        );
        return;
      }
      current = val;
    }
  }
}
