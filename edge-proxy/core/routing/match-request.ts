/**
 * @module match-request
 * Routes one request: finds its virtual host, then returns the first route (in config order) with a
 * RouteMatch that holds, Istio's HTTPMatchRequest semantics: uri (exact/prefix/regex on the path without
 * its query, optionally ignoring case), scheme, method, authority, headers, withoutHeaders, queryParams,
 * port, sourceLabels, sourceNamespace and gateways. Headers and the query are only read when a match asks.
 * Matches are read from the table's flat program (match-program.ts), in order; the request's parts a match
 * needs (its path without the query, lower-cased, its query parameters) are worked out only when asked.
 */
import type { HeaderMap } from "../http/header-list.js";
import { startsWithCodes } from "./char-codes.js";
import { CHECK, type CompiledMatch, type NamedCondition, type RouteDecision } from "./compile-route.js";
import { findHostStart, type LookupProbe } from "./find-virtual-host.js";
import { CHECKS, DECISION, END, HEADERS, MATCH, METHOD, STRIDE, URI, type ProgramSlot } from "./match-program.js";
import type { RouteTable } from "./route-table.js";
import { stringMatches, type StringMatcher } from "./string-matcher.js";

export type { RouteDecision } from "./compile-route.js";
export type { LookupProbe } from "./find-virtual-host.js";

/** What the router needs to know of a request; hosts build it from their own request type. */
export interface RoutableRequest {
  /** The `:authority` / `Host` value as received, port and all. */
  authority: string;
  /** The port the request was sent to (selects the listener). */
  port: number;
  method: string;
  /** The request target's path with its query string. */
  path: string;
  scheme: "http" | "https";
  /** Header names compare case-insensitively; several values of one header read as one comma-joined value. */
  headers: HeaderMap | Record<string, string>;
  /** The calling workload (for sourceLabels and sourceNamespace matches). */
  source: { labels: Record<string, string>; namespace: string };
  /** The gateway the request came through, `mesh` for sidecars; the table's default when omitted. */
  gateway?: string;
}

/**
 * The virtual host and first matching route for `request`, or undefined when no virtual host serves its
 * authority or none of that host's routes match (Envoy's NR). `probe`, if given, counts the work done.
 */
export function routeRequest(table: RouteTable, request: RoutableRequest, probe?: LookupProbe): RouteDecision | undefined {
  const start = findHostStart(table, request.authority, request.port, probe);
  if (start < 0) return undefined;
  const view = new RequestView(request, request.gateway ?? table.defaultGateway);
  // Every match of every route, in order: the first to hold names its route.
  const program = table.program;
  for (let i = start; program[i + CHECKS] !== END; i += STRIDE) {
    if (probe !== undefined) probe.matchesExamined++;
    if (program[i + CHECKS] === 0 || matchHolds(program, i, view)) return program[i + DECISION] as RouteDecision;
  }
  return undefined;
}

/** The checks a program's slots carry; a match with others also reads its CompiledMatch. */
const SLOT_CHECKS = CHECK.uri | CHECK.uriLowerCase | CHECK.method | CHECK.headers;

/** Whether the match at slot `i` holds: only the fields it sets (its `checks` bits), the common ones from its slots. */
function matchHolds(program: readonly ProgramSlot[], i: number, view: RequestView): boolean {
  const checks = program[i + CHECKS] as number;
  if (checks & CHECK.uri && !uriHolds(program[i + URI] as StringMatcher, checks, view)) return false;
  if (checks & CHECK.method && !stringMatches(program[i + METHOD] as StringMatcher, view.request.method)) return false;
  if (checks & CHECK.headers) {
    const conditions = program[i + HEADERS] as readonly NamedCondition[];
    for (let c = 0; c < conditions.length; c++) {
      const condition = conditions[c]!;
      if (!conditionHolds(condition, view.header(condition.name))) return false;
    }
  }
  return (checks & ~SLOT_CHECKS) === 0 || otherChecksHold(program[i + MATCH] as CompiledMatch, view);
}

/**
 * The uri condition, on the path without its query: exact and prefix compare against the path as sent
 * up to its `?`, without cutting it out.
 */
function uriHolds(matcher: StringMatcher, checks: number, view: RequestView): boolean {
  if (checks & CHECK.uriLowerCase) return stringMatches(matcher, view.lowerCasePath());
  if (matcher.kind === "regex") return matcher.regex.test(view.path());
  const path = view.request.path;
  const end = view.queryStart === -1 ? path.length : view.queryStart;
  const length = matcher.value.length;
  if (matcher.kind === "exact") return length === end && (end === path.length ? path === matcher.value : startsWithCodes(path, matcher.codes));
  return length <= end && startsWithCodes(path, matcher.codes);
}

/** The rarer fields of a match, cheapest and most selective first. */
function otherChecksHold(match: CompiledMatch, view: RequestView): boolean {
  const checks = match.checks;
  const request = view.request;
  if (checks & CHECK.port && match.port !== request.port) return false;
  if (checks & CHECK.gateways && (view.gateway === undefined || !(match.gateways as readonly string[]).includes(view.gateway))) return false;
  if (checks & CHECK.scheme && !stringMatches(match.scheme as StringMatcher, request.scheme)) return false;
  if (checks & CHECK.authority && !stringMatches(match.authority as StringMatcher, request.authority)) return false;
  if (checks & CHECK.sourceNamespace && match.sourceNamespace !== request.source.namespace) return false;
  if (checks & CHECK.sourceLabels) {
    for (const [key, value] of match.sourceLabels) {
      if (request.source.labels[key] !== value) return false;
    }
  }
  if (checks & CHECK.withoutHeaders) {
    for (const condition of match.withoutHeaders) {
      if (conditionHolds(condition, view.header(condition.name))) return false;
    }
  }
  if (checks & CHECK.queryParams) {
    for (const condition of match.queryParams) {
      if (!conditionHolds(condition, view.queryParam(condition.name))) return false;
    }
  }
  return true;
}

/** A header or query condition holds when the value is present and, unless it only asks for presence, matches. */
function conditionHolds(condition: NamedCondition, value: string | undefined): boolean {
  if (value === undefined) return false;
  return condition.matcher === undefined || stringMatches(condition.matcher, value);
}

/** The parts of a request that matches read, each worked out once and only when first asked for. */
class RequestView {
  readonly request: RoutableRequest;
  readonly gateway: string | undefined;
  /** Position of the `?` in the request's path, -1 when it has no query. */
  readonly queryStart: number;
  private pathOnly: string | undefined = undefined;
  private lowerPath: string | undefined = undefined;
  private query: Map<string, string> | undefined = undefined;
  /** undefined: not looked at yet; null: the record's names are already lower case. */
  private lowerCaseHeaders: Map<string, string> | null | undefined = undefined;

  constructor(request: RoutableRequest, gateway: string | undefined) {
    this.request = request;
    this.gateway = gateway;
    this.queryStart = request.path.indexOf("?");
  }

  /** The path without its query. */
  path(): string {
    return (this.pathOnly ??= this.queryStart === -1 ? this.request.path : this.request.path.slice(0, this.queryStart));
  }

  lowerCasePath(): string {
    return (this.lowerPath ??= this.path().toLowerCase());
  }

  /** The header's value (comma-joined if repeated) or undefined; `name` is lower case. */
  header(name: string): string | undefined {
    const headers = this.request.headers;
    if (isHeaders(headers)) return headers.get(name) ?? undefined;
    if (this.lowerCaseHeaders === undefined) this.lowerCaseHeaders = lowerCaseNames(headers);
    if (this.lowerCaseHeaders === null) return Object.hasOwn(headers, name) ? headers[name] : undefined;
    return this.lowerCaseHeaders.get(name);
  }

  /** The first value of the query parameter, as sent (Envoy does not decode it), "" for `?flag`. */
  queryParam(name: string): string | undefined {
    this.query ??= parseQuery(this.queryStart === -1 ? "" : this.request.path.slice(this.queryStart + 1));
    return this.query.get(name);
  }
}

function isHeaders(headers: HeaderMap | Record<string, string>): headers is HeaderMap {
  return typeof (headers as { get?: unknown }).get === "function";
}

/** null when every name is lower case already, else a map keyed by lower-case name. */
function lowerCaseNames(headers: Record<string, string>): Map<string, string> | null {
  const names = Object.keys(headers);
  if (names.every((name) => name === name.toLowerCase())) return null;
  const map = new Map<string, string>();
  for (const name of names) {
    const key = name.toLowerCase();
    const value = headers[name] as string;
    const seen = map.get(key);
    map.set(key, seen === undefined ? value : `${seen}, ${value}`);
  }
  return map;
}

function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query.length === 0) return params;
  for (const part of query.split("&")) {
    if (part.length === 0) continue;
    const eq = part.indexOf("=");
    const name = eq === -1 ? part : part.slice(0, eq);
    if (!params.has(name)) params.set(name, eq === -1 ? "" : part.slice(eq + 1));
  }
  return params;
}
