/**
 * @module proxy/header-operations
 * Istio's `headers` (request and response `set`, `add`, `remove`) at route and destination level, in
 * Envoy's order: the destination's operations first, then the route's, so the route's win where both
 * set one header; within one level removals come before additions and sets.
 */
import type { HeaderOperations } from "../config/proxy-config.js";
import type { HeaderMap } from "../http/header-list.js";

type Side = NonNullable<HeaderOperations["request"]>;

function apply(headers: HeaderMap, side: Side | undefined): void {
  if (side === undefined) return;
  if (side.remove) for (const name of side.remove) headers.delete(name);
  if (side.set) for (const name in side.set) headers.set(name, side.set[name] as string);
  if (side.add) for (const name in side.add) headers.append(name, side.add[name] as string);
}

/** Applies the request-side operations of `levels` (most specific first) to `headers`. */
export function applyRequestHeaders(headers: HeaderMap, ...levels: (HeaderOperations | undefined)[]): void {
  for (const level of levels) apply(headers, level?.request);
}

/** Applies the response-side operations of `levels` (most specific first) to `headers`. */
export function applyResponseHeaders(headers: HeaderMap, ...levels: (HeaderOperations | undefined)[]): void {
  for (const level of levels) apply(headers, level?.response);
}

export function hasResponseOperations(...levels: (HeaderOperations | undefined)[]): boolean {
  return levels.some((level) => level?.response !== undefined);
}
