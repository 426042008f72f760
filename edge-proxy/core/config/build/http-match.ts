/**
 * @module http-match
 * An Istio HTTPMatchRequest as a proxy-config RouteMatch: string matches (exact, prefix, regex),
 * header and query-parameter maps (`{}` means "present"; header names lower-cased, as HTTP header
 * names are case-insensitive), port, source labels and namespace, the (already resolved) gateways
 * the match is limited to, and ignoreUriCase. `name` and `statPrefix` only label Envoy stats and
 * are dropped.
 */
import type { RouteMatch, StringMatch } from "../proxy-config.js";
import { type Obj, num, obj, str, strList, stringMap, text } from "./raw.js";

type PresenceOrMatch = StringMatch | Record<string, never>;

/** `{exact}`, `{prefix}` or `{regex}`; undefined for an empty or malformed StringMatch. */
export function stringMatch(value: unknown): StringMatch | undefined {
  const m = obj(value);
  if (!m) return undefined;
  const exact = str(m.exact);
  if (exact !== undefined) return { exact };
  const prefix = str(m.prefix);
  if (prefix !== undefined) return { prefix };
  const regex = str(m.regex);
  if (regex !== undefined) return { regex };
  return undefined;
}

/** A header or query map; `{}` and Istio's `regex: "*"` mean "present". Keys sorted. */
function presenceMap(value: unknown, lowerCaseKeys: boolean): Record<string, PresenceOrMatch> | undefined {
  const map = obj(value);
  if (!map) return undefined;
  const out: Record<string, PresenceOrMatch> = {};
  for (const key of Object.keys(map).sort()) {
    const raw = obj(map[key]);
    const match = raw && text(raw.regex) === "*" ? undefined : stringMatch(raw);
    out[lowerCaseKeys ? key.toLowerCase() : key] = match ?? {};
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function translateMatch(m: Obj): RouteMatch {
  const out: RouteMatch = {};
  for (const field of ["uri", "scheme", "method", "authority"] as const) {
    const match = stringMatch(m[field]);
    if (match) out[field] = match;
  }
  const headers = presenceMap(m.headers, true);
  if (headers) out.headers = headers;
  const withoutHeaders = presenceMap(m.withoutHeaders, true);
  if (withoutHeaders) out.withoutHeaders = withoutHeaders;
  const queryParams = presenceMap(m.queryParams, false);
  if (queryParams) out.queryParams = queryParams;
  const port = num(m.port);
  if (port !== undefined && port > 0) out.port = port;
  const sourceLabels = stringMap(m.sourceLabels);
  if (sourceLabels && Object.keys(sourceLabels).length > 0) out.sourceLabels = sourceLabels;
  const sourceNamespace = text(m.sourceNamespace);
  if (sourceNamespace !== undefined) out.sourceNamespace = sourceNamespace;
  const gateways = strList(m.gateways);
  if (gateways.length > 0) out.gateways = gateways;
  if (m.ignoreUriCase === true) out.ignoreUriCase = true;
  return out;
}

/** The port every match is limited to, when they all name the same one. */
export function commonMatchPort(matches: readonly RouteMatch[]): number | undefined {
  const first = matches[0]?.port;
  return first !== undefined && matches.every((m) => m.port === first) ? first : undefined;
}

/**
 * Istio's isCatchAllRoute, per match: no condition but an optional `/` prefix (or `*` regex) on the
 * path. Port, source and gateway conditions do not count (Istio has applied them before this test).
 */
export function isCatchAllMatch(m: RouteMatch): boolean {
  if (m.headers || m.withoutHeaders || m.queryParams || m.method || m.scheme || m.authority) return false;
  if (!m.uri) return true;
  return ("prefix" in m.uri && m.uri.prefix === "/") || ("regex" in m.uri && m.uri.regex === "*");
}
