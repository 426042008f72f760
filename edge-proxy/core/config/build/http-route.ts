/**
 * @module http-route
 * One Istio HTTPRoute (delegates already expanded) as a proxy-config Route: its matches, what it
 * does (forward to weighted clusters, redirect, or answer directly), rewrite, header operations,
 * timeout, retries (Istio's default policy when none is given), fault injection, mirroring and CORS.
 */
import type { CorsPolicy, FaultInjection, HeaderOperations, Mirror, RetryPolicy, Rewrite, Route, RouteAction, WeightedDestination } from "../proxy-config.js";
import type { ClusterRegistry, DestinationRef } from "./clusters.js";
import { commonMatchPort, stringMatch, translateMatch } from "./http-match.js";
import { decodeBase64Text, durationMs, percentValue } from "./istio-values.js";
import { type Obj, num, obj, objList, str, strList, stringMap, text } from "./raw.js";

/**
 * Istio's retry policy for a route without `retries`: 2 attempts on connect-failure,
 * refused-stream, unavailable, cancelled and retriable-status-codes, the retriable status code
 * being 503 (pilot's DefaultPolicy sets `retriable_status_codes: [503]`; here status codes are
 * listed in `retryOn`).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 2,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503"],
};

export const DEFAULT_REDIRECT_CODE = 301;

/** HTTP statuses for gRPC abort codes (google.rpc.Code's HTTP mapping), since the config carries only an HTTP status. */
const GRPC_HTTP_STATUS: Record<string, number> = {
  OK: 200, CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404,
  ALREADY_EXISTS: 409, PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409,
  OUT_OF_RANGE: 400, UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
};

export interface RouteContext {
  /** The route's name when the HTTPRoute has none. */
  fallbackName: string;
  clusters: ClusterRegistry;
}

export function translateHttpRoute(route: Obj, ctx: RouteContext): Route {
  const match = objList(route.match).map(translateMatch);
  const port = commonMatchPort(match);
  const cluster = (dest: unknown) => ctx.clusters.clusterFor(destinationRef(dest), port);
  const out: Route = { name: text(route.name) ?? ctx.fallbackName, match, action: translateAction(route, cluster) };
  const headers = headerOperations(route.headers);
  if (headers) out.headers = headers;
  if (out.action.kind === "route") {
    const timeout = durationMs(route.timeout);
    if (timeout !== undefined && timeout > 0) out.timeoutMs = timeout;
    out.retries = retryPolicy(route.retries);
    const fault = faultInjection(obj(route.fault));
    if (fault) out.fault = fault;
    const mirrors = mirrorPolicies(route, cluster);
    if (mirrors.length > 0) out.mirrors = mirrors;
  }
  const cors = corsPolicy(obj(route.corsPolicy));
  if (cors) out.cors = cors;
  return out;
}

function destinationRef(value: unknown): DestinationRef {
  const d = obj(value);
  const ref: DestinationRef = { host: text(d?.host) ?? "" };
  const subset = text(d?.subset);
  if (subset !== undefined) ref.subset = subset;
  const port = num(obj(d?.port)?.number);
  if (port !== undefined && port > 0) ref.port = port;
  return ref;
}

function translateAction(route: Obj, cluster: (dest: unknown) => string): RouteAction {
  const redirect = obj(route.redirect);
  if (redirect) {
    const action: Extract<RouteAction, { kind: "redirect" }> = { kind: "redirect", code: num(redirect.redirectCode) || DEFAULT_REDIRECT_CODE };
    for (const field of ["uri", "authority", "scheme"] as const) {
      const value = text(redirect[field]);
      if (value !== undefined) action[field] = value;
    }
    const port = num(redirect.port);
    if (port !== undefined && port > 0) action.port = port;
    const derive = str(redirect.derivePort);
    if (derive === "FROM_PROTOCOL_DEFAULT" || derive === "FROM_REQUEST_PORT") action.derivePort = derive;
    return action;
  }
  const direct = obj(route.directResponse);
  if (direct) {
    const action: Extract<RouteAction, { kind: "direct" }> = { kind: "direct", status: num(direct.status) ?? 200 };
    const body = obj(direct.body);
    const textBody = str(body?.string);
    const bytes = str(body?.bytes);
    if (textBody !== undefined) action.body = textBody;
    else if (bytes !== undefined) action.body = decodeBase64Text(bytes);
    return action;
  }
  const action: Extract<RouteAction, { kind: "route" }> = { kind: "route", destinations: weightedDestinations(objList(route.route), cluster) };
  const rewrite = rewritePolicy(obj(route.rewrite));
  if (rewrite) action.rewrite = rewrite;
  return action;
}

/**
 * A lone destination takes all traffic whatever its weight. With several, zero-weight ones get
 * nothing and are left out (as pilot does); weights not summing to 100 are scaled to 100 with
 * whole numbers (largest remainder), and all-zero weights split evenly.
 */
function weightedDestinations(entries: Obj[], cluster: (dest: unknown) => string): WeightedDestination[] {
  const weighted = entries.length === 1 ? entries.map((e) => ({ e, w: 100 })) : entries.map((e) => ({ e, w: num(e.weight) ?? 0 })).filter((x) => x.w > 0);
  const chosen = weighted.length > 0 ? weighted : entries.map((e) => ({ e, w: 1 }));
  const weights = toHundred(chosen.map((x) => x.w));
  return chosen.map(({ e }, i) => {
    const out: WeightedDestination = { cluster: cluster(e.destination), weight: weights[i] ?? 0 };
    const headers = headerOperations(e.headers);
    if (headers) out.headers = headers;
    return out;
  });
}

/** Whole-number weights proportional to `raw`, summing to 100. */
export function toHundred(raw: number[]): number[] {
  const total = raw.reduce((a, b) => a + b, 0);
  if (total === 100 && raw.every(Number.isInteger)) return raw;
  if (total <= 0) return raw.map(() => 0);
  const exact = raw.map((w) => (w * 100) / total);
  const out = exact.map(Math.floor);
  let left = 100 - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    out[i] = (out[i] ?? 0) + 1;
    left--;
  }
  return out;
}

function rewritePolicy(rewrite: Obj | undefined): Rewrite | undefined {
  if (!rewrite) return undefined;
  const out: Rewrite = {};
  const uri = text(rewrite.uri);
  if (uri !== undefined) out.uri = uri;
  const authority = text(rewrite.authority);
  if (authority !== undefined) out.authority = authority;
  const regex = obj(rewrite.uriRegexRewrite);
  const match = text(regex?.match);
  if (match !== undefined) out.uriRegex = { match, rewrite: str(regex?.rewrite) ?? "" };
  return Object.keys(out).length > 0 ? out : undefined;
}

export function headerOperations(value: unknown): HeaderOperations | undefined {
  const h = obj(value);
  if (!h) return undefined;
  const out: HeaderOperations = {};
  for (const side of ["request", "response"] as const) {
    const ops = obj(h[side]);
    if (!ops) continue;
    const sideOut: NonNullable<HeaderOperations["request"]> = {};
    const set = stringMap(ops.set);
    if (set && Object.keys(set).length > 0) sideOut.set = set;
    const add = stringMap(ops.add);
    if (add && Object.keys(add).length > 0) sideOut.add = add;
    const remove = strList(ops.remove);
    if (remove.length > 0) sideOut.remove = remove;
    if (Object.keys(sideOut).length > 0) out[side] = sideOut;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * As pilot's ConvertPolicy: no `retries` → the default policy; `attempts` 0 (or unset) → no retries;
 * otherwise the attempts, per-try timeout and conditions given, keeping the default conditions when
 * `retryOn` is empty. Status codes in `retryOn` imply `retriable-status-codes`.
 */
export function retryPolicy(value: unknown): RetryPolicy {
  const retries = obj(value);
  if (!retries) return { attempts: DEFAULT_RETRY_POLICY.attempts, retryOn: [...DEFAULT_RETRY_POLICY.retryOn] };
  const attempts = num(retries.attempts) ?? 0;
  if (attempts <= 0) return { attempts: 0, retryOn: [] };
  const given = (str(retries.retryOn) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  let retryOn = given.length > 0 ? given : [...DEFAULT_RETRY_POLICY.retryOn];
  if (retryOn.some((c) => /^\d+$/.test(c)) && !retryOn.includes("retriable-status-codes")) retryOn = [...retryOn, "retriable-status-codes"];
  const out: RetryPolicy = { attempts, retryOn };
  const perTry = durationMs(retries.perTryTimeout);
  if (perTry !== undefined && perTry > 0) out.perTryTimeoutMs = perTry;
  return out;
}

/** Delay and abort; the percentage is `percentage.value`, else the legacy integer `percent`, else 0 (pilot's translation). */
function faultInjection(fault: Obj | undefined): FaultInjection | undefined {
  if (!fault) return undefined;
  const out: FaultInjection = {};
  const delay = obj(fault.delay);
  const fixed = durationMs(delay?.fixedDelay);
  if (delay && fixed !== undefined) out.delay = { fixedDelayMs: fixed, percentage: faultPercent(delay) };
  const abort = obj(fault.abort);
  const status = num(abort?.httpStatus) ?? GRPC_HTTP_STATUS[str(abort?.grpcStatus) ?? ""];
  if (abort && status !== undefined) out.abort = { httpStatus: status, percentage: faultPercent(abort) };
  return out.delay || out.abort ? out : undefined;
}

function faultPercent(f: Obj): number {
  return percentValue(f.percentage) ?? Math.min(100, Math.max(0, num(f.percent) ?? 0));
}

/** `mirror` (with mirrorPercentage, or the legacy integer mirrorPercent) and `mirrors`; 100% when no percentage is given. */
function mirrorPolicies(route: Obj, cluster: (dest: unknown) => string): Mirror[] {
  const out: Mirror[] = [];
  if (obj(route.mirror)) {
    const legacy = num(route.mirrorPercent) ?? num(route.mirror_percent);
    const percentage = percentValue(route.mirrorPercentage) ?? (legacy !== undefined ? Math.min(100, legacy) : 100);
    out.push({ cluster: cluster(route.mirror), percentage });
  }
  for (const m of objList(route.mirrors)) {
    if (!obj(m.destination)) continue;
    out.push({ cluster: cluster(m.destination), percentage: percentValue(m.percentage) ?? 100 });
  }
  return out;
}

/** `allowOrigins`, or else the legacy `allowOrigin` list as exact matches; maxAge in whole seconds. */
function corsPolicy(cors: Obj | undefined): CorsPolicy | undefined {
  if (!cors) return undefined;
  const origins = Array.isArray(cors.allowOrigins)
    ? objList(cors.allowOrigins).flatMap((m) => {
        const match = stringMatch(m);
        return match ? [match] : [];
      })
    : strList(cors.allowOrigin).map((exact) => ({ exact }));
  const out: CorsPolicy = { allowOrigins: origins };
  for (const field of ["allowMethods", "allowHeaders", "exposeHeaders"] as const) {
    const values = strList(cors[field]);
    if (values.length > 0) out[field] = values;
  }
  const maxAge = durationMs(cors.maxAge);
  if (maxAge !== undefined) out.maxAgeSeconds = Math.floor(maxAge / 1000);
  if (typeof cors.allowCredentials === "boolean") out.allowCredentials = cors.allowCredentials;
  const unmatched = str(cors.unmatchedPreflights);
  if (unmatched === "FORWARD" || unmatched === "IGNORE") out.unmatchedPreflights = unmatched;
  return out;
}
