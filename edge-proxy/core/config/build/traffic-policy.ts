/**
 * @module traffic-policy
 * Maps an Istio TrafficPolicy (already merged for one cluster's subset and port) to the proxy
 * config's: load balancer (simple or consistent hash), connection-pool limits, outlier detection
 * with Istio's defaults filled in, and upstream TLS. Istio's defaults: LEAST_REQUEST when no
 * algorithm is given (since Istio 1.14), a 1024-entry ring for ring hash, a 65537-entry Maglev
 * table; outlier detection interval 10s, base ejection time 30s, max ejection 10%, min health 0%,
 * 5 consecutive 5xx errors.
 */
import type { ConnectionPool, LoadBalancer, OutlierDetection, TrafficPolicy } from "../proxy-config.js";
import { durationMs } from "./istio-values.js";
import { type Obj, num, obj, str, strList, text } from "./raw.js";

export const DEFAULT_RING_SIZE = 1024;
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;
export const OUTLIER_DEFAULTS = { intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0, consecutive5xxErrors: 5 };

const TLS_MODES = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] as const;
type TlsMode = (typeof TLS_MODES)[number];

export function mapTrafficPolicy(policy: Obj | undefined): TrafficPolicy {
  const out: TrafficPolicy = { loadBalancer: mapLoadBalancer(obj(policy?.loadBalancer)) };
  const pool = mapConnectionPool(obj(policy?.connectionPool));
  if (pool) out.connectionPool = pool;
  const outlier = obj(policy?.outlierDetection);
  if (outlier) out.outlierDetection = mapOutlierDetection(outlier);
  const tls = obj(policy?.tls);
  if (tls) out.tls = mapTls(tls);
  return out;
}

export function mapLoadBalancer(lb: Obj | undefined): LoadBalancer {
  const hash = obj(lb?.consistentHash);
  if (hash) {
    const hashOn = hashKey(hash);
    if (hashOn) {
      const maglev = obj(hash.maglev);
      if (maglev) return { kind: "MAGLEV", hashOn, tableSize: num(maglev.tableSize) || DEFAULT_MAGLEV_TABLE_SIZE };
      const ring = num(obj(hash.ringHash)?.minimumRingSize) || num(hash.minimumRingSize) || DEFAULT_RING_SIZE;
      return { kind: "RING_HASH", hashOn, minimumRingSize: ring };
    }
  }
  switch (str(lb?.simple)) {
    case "ROUND_ROBIN":
      return { kind: "ROUND_ROBIN" };
    case "RANDOM":
      return { kind: "RANDOM" };
    case "PASSTHROUGH":
      return { kind: "PASSTHROUGH" };
    default:
      // LEAST_REQUEST, its deprecated alias LEAST_CONN, UNSPECIFIED, or nothing: Istio's default.
      return { kind: "LEAST_REQUEST" };
  }
}

function hashKey(hash: Obj): Extract<LoadBalancer, { hashOn: unknown }>["hashOn"] | undefined {
  const header = text(hash.httpHeaderName);
  if (header !== undefined) return { header: header.toLowerCase() };
  const cookie = obj(hash.httpCookie);
  const cookieName = text(cookie?.name);
  if (cookie && cookieName !== undefined) {
    const out: { name: string; path?: string; ttlMs?: number } = { name: cookieName };
    const path = text(cookie.path);
    if (path !== undefined) out.path = path;
    const ttl = durationMs(cookie.ttl);
    if (ttl !== undefined) out.ttlMs = ttl;
    return { cookie: out };
  }
  if (hash.useSourceIp === true) return { sourceIp: true };
  const query = text(hash.httpQueryParameterName);
  if (query !== undefined) return { queryParameter: query };
  return undefined;
}

function mapConnectionPool(pool: Obj | undefined): ConnectionPool | undefined {
  if (!pool) return undefined;
  const tcp = obj(pool.tcp);
  const http = obj(pool.http);
  const out: ConnectionPool = {};
  const set = (key: keyof ConnectionPool, value: number | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set("maxConnections", num(tcp?.maxConnections));
  set("connectTimeoutMs", durationMs(tcp?.connectTimeout));
  set("http1MaxPendingRequests", num(http?.http1MaxPendingRequests));
  set("http2MaxRequests", num(http?.http2MaxRequests));
  set("maxRequestsPerConnection", num(http?.maxRequestsPerConnection));
  set("maxRetries", num(http?.maxRetries));
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Outlier detection with Istio's defaults. The deprecated `consecutiveErrors` counts gateway errors
 * only and turns 5xx ejection off unless `consecutive5xxErrors` is also set (as pilot translates it).
 */
function mapOutlierDetection(o: Obj): OutlierDetection {
  const legacy = num(o.consecutiveErrors) ?? 0;
  const fiveXx = num(o.consecutive5xxErrors);
  const gateway = num(o.consecutiveGatewayErrors);
  const out: OutlierDetection = {
    consecutive5xxErrors: fiveXx ?? (legacy > 0 ? 0 : OUTLIER_DEFAULTS.consecutive5xxErrors),
    intervalMs: durationMs(o.interval) ?? OUTLIER_DEFAULTS.intervalMs,
    baseEjectionTimeMs: durationMs(o.baseEjectionTime) ?? OUTLIER_DEFAULTS.baseEjectionTimeMs,
    maxEjectionPercent: num(o.maxEjectionPercent) ?? OUTLIER_DEFAULTS.maxEjectionPercent,
    minHealthPercent: num(o.minHealthPercent) ?? OUTLIER_DEFAULTS.minHealthPercent,
  };
  const gatewayErrors = gateway ?? (legacy > 0 ? legacy : undefined);
  if (gatewayErrors !== undefined) out.consecutiveGatewayErrors = gatewayErrors;
  return out;
}

function mapTls(tls: Obj): NonNullable<TrafficPolicy["tls"]> {
  const mode = str(tls.mode);
  // An unset mode is the proto enum's zero value, DISABLE.
  const out: NonNullable<TrafficPolicy["tls"]> = { mode: TLS_MODES.includes(mode as TlsMode) ? (mode as TlsMode) : "DISABLE" };
  const sni = text(tls.sni);
  if (sni !== undefined) out.sni = sni;
  const sans = strList(tls.subjectAltNames);
  if (sans.length > 0) out.subjectAltNames = sans;
  return out;
}
