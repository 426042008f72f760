/**
 * @module compile-route
 * One Route of the config compiled for matching: its RouteMatches turned into flat conditions with
 * regexes built and case folding decided, its destinations' cumulative weights prepared, and the
 * decision objects it can produce made up front so matching a request allocates none. Matchers and
 * header/query conditions come from the table's MatcherPool, shared with every equal one.
 */
import type { Route, RouteMatch, StringMatch, VirtualHost } from "../config/proxy-config.js";
import { prepareDestinations } from "./pick-destination.js";
import { RouteTableError } from "./routing-error.js";
import { MatcherPool, type StringMatcher } from "./string-matcher.js";

/** What routing decided for a request: the virtual host and the first route whose matches hold. */
export interface RouteDecision {
  /** Port of the listener the virtual host came from (0 = the any-port listener). */
  readonly listenerPort: number;
  readonly virtualHost: VirtualHost;
  readonly route: Route;
  /** Position of the route in its virtual host. */
  readonly routeIndex: number;
  /** Which of the route's RouteMatches held; -1 when the route has none (it matches every request). */
  readonly matchIndex: number;
}

/** A header or query parameter condition; `matcher` undefined means "present" (`{}` in the config). */
export interface NamedCondition {
  readonly name: string;
  readonly matcher: StringMatcher | undefined;
}

/** Bits of {@link CompiledMatch.checks}: which fields a match sets, so matching reads only those. */
export const CHECK = {
  port: 1,
  gateways: 2,
  scheme: 4,
  method: 8,
  uri: 16,
  authority: 32,
  sourceNamespace: 64,
  sourceLabels: 128,
  headers: 256,
  withoutHeaders: 512,
  queryParams: 1024,
  /** Not a field: set with `uri` when it is compared against the lower-cased path (`uriLowerCase`). */
  uriLowerCase: 2048,
} as const;

const NONE: readonly never[] = Object.freeze([]);

/** A RouteMatch compiled: every field that is set must hold. */
export interface CompiledMatch {
  /** {@link CHECK} bits of the fields set; 0 matches every request (a route without matches). */
  readonly checks: number;
  readonly port: number | undefined;
  readonly gateways: readonly string[] | undefined;
  readonly scheme: StringMatcher | undefined;
  readonly method: StringMatcher | undefined;
  readonly uri: StringMatcher | undefined;
  /** Compare `uri` against the lower-cased path (ignoreUriCase with exact or prefix). */
  readonly uriLowerCase: boolean;
  readonly authority: StringMatcher | undefined;
  readonly sourceNamespace: string | undefined;
  readonly sourceLabels: readonly (readonly [string, string])[];
  readonly headers: readonly NamedCondition[];
  readonly withoutHeaders: readonly NamedCondition[];
  readonly queryParams: readonly NamedCondition[];
  /** The decision returned when this match is the first to hold. */
  readonly decision: RouteDecision;
}

export interface CompiledRoute {
  readonly route: Route;
  /** In config order; a route without matches has one that matches every request (`checks` 0, matchIndex -1). */
  readonly matches: readonly CompiledMatch[];
}

/** Compiles `route`, the `routeIndex`-th of `virtualHost` on the listener for `listenerPort`, with the table's `pool`. */
export function compileRoute(route: Route, routeIndex: number, virtualHost: VirtualHost, listenerPort: number, pool: MatcherPool): CompiledRoute {
  const where = `${virtualHost.name} route[${routeIndex}]${route.name ? ` (${route.name})` : ""}`;
  if (!Array.isArray(route.match)) throw new RouteTableError("ERR_ROUTE_MATCH_INVALID", `${where}.match`, "must be a list");
  if (route.action?.kind === "route") prepareDestinations(route.action.destinations ?? [], `${where}.action.destinations`);
  const decision = (matchIndex: number): RouteDecision => Object.freeze({ listenerPort, virtualHost, route, routeIndex, matchIndex });
  const matches =
    route.match.length === 0 ? [compileMatch({}, `${where}.match`, decision(-1), pool)] : route.match.map((match, i) => compileMatch(match, `${where}.match[${i}]`, decision(i), pool));
  return { route, matches };
}

function compileMatch(match: RouteMatch, where: string, decision: RouteDecision, pool: MatcherPool): CompiledMatch {
  const uri = match.uri;
  const uriLowerCase = match.ignoreUriCase === true && typeof uri === "object" && uri !== null && !("regex" in uri);
  if (match.port !== undefined && !(Number.isInteger(match.port) && match.port >= 0 && match.port <= 65535)) {
    throw new RouteTableError("ERR_ROUTE_MATCH_INVALID", `${where}.port`, `must be a port number, got ${String(match.port)}`);
  }
  if (match.gateways !== undefined && !(Array.isArray(match.gateways) && match.gateways.every((g) => typeof g === "string"))) {
    throw new RouteTableError("ERR_ROUTE_MATCH_INVALID", `${where}.gateways`, "must be a list of gateway names");
  }
  const compiled = {
    checks: 0,
    port: match.port,
    // An empty list restricts nothing (Istio then applies the VirtualService's own gateways, already resolved).
    gateways: match.gateways === undefined || match.gateways.length === 0 ? undefined : match.gateways,
    scheme: optional(match.scheme, `${where}.scheme`, pool),
    method: optional(match.method, `${where}.method`, pool),
    uri: uri === undefined ? undefined : pool.compile(uri, `${where}.uri`, uriLowerCase),
    uriLowerCase,
    authority: optional(match.authority, `${where}.authority`, pool),
    sourceNamespace: match.sourceNamespace,
    sourceLabels: stringEntries(match.sourceLabels, `${where}.sourceLabels`),
    headers: conditions(match.headers, `${where}.headers`, true, pool),
    withoutHeaders: conditions(match.withoutHeaders, `${where}.withoutHeaders`, true, pool),
    queryParams: conditions(match.queryParams, `${where}.queryParams`, false, pool),
    decision,
  };
  let checks = 0;
  if (compiled.port !== undefined) checks |= CHECK.port;
  if (compiled.gateways !== undefined) checks |= CHECK.gateways;
  if (compiled.scheme !== undefined) checks |= CHECK.scheme;
  if (compiled.method !== undefined) checks |= CHECK.method;
  if (compiled.uri !== undefined) checks |= uriLowerCase ? CHECK.uri | CHECK.uriLowerCase : CHECK.uri;
  if (compiled.authority !== undefined) checks |= CHECK.authority;
  if (compiled.sourceNamespace !== undefined) checks |= CHECK.sourceNamespace;
  if (compiled.sourceLabels.length > 0) checks |= CHECK.sourceLabels;
  if (compiled.headers.length > 0) checks |= CHECK.headers;
  if (compiled.withoutHeaders.length > 0) checks |= CHECK.withoutHeaders;
  if (compiled.queryParams.length > 0) checks |= CHECK.queryParams;
  compiled.checks = checks;
  return compiled;
}

function optional(match: StringMatch | undefined, where: string, pool: MatcherPool): StringMatcher | undefined {
  return match === undefined ? undefined : pool.compile(match, where);
}

function stringEntries(record: Record<string, string> | undefined, where: string): readonly (readonly [string, string])[] {
  if (record === undefined || Object.keys(record).length === 0) return NONE;
  const entries = Object.entries(record);
  for (const [key, value] of entries) {
    if (typeof value !== "string") throw new RouteTableError("ERR_ROUTE_MATCH_INVALID", `${where}.${key}`, "must be a string");
  }
  return entries;
}

function conditions(record: Record<string, StringMatch | Record<string, never>> | undefined, where: string, headerNames: boolean, pool: MatcherPool): readonly NamedCondition[] {
  if (record === undefined || Object.keys(record).length === 0) return NONE;
  const list = Object.entries(record).map(([name, match]): NamedCondition => {
    // Header names compare case-insensitively (the config promises lower case; be safe); query names do not.
    const key = headerNames ? name.toLowerCase() : name;
    const present = typeof match === "object" && match !== null && Object.keys(match).length === 0;
    return Object.freeze({ name: key, matcher: present ? undefined : pool.compile(match as StringMatch, `${where}.${name}`) });
  });
  const key = `${headerNames ? "headers" : "query"}:${list.map((c) => `${JSON.stringify(c.name)}=${MatcherPool.keyOf(c.matcher)}`).join(",")}`;
  return pool.share(key, Object.freeze(list));
}
