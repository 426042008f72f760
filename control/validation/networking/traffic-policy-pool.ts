/**
 * @module traffic-policy-pool
 * ConnectionPoolSettings (TCP and HTTP limits, keepalives, timeouts) and OutlierDetection, as used
 * by DestinationRule traffic policies and by Sidecar `inboundConnectionPool` / ingress
 * `connectionPool`. Counters are non-negative int32s, timeouts are durations of at least 1ms
 * (the TCP idle timeout may be 0s, which disables it), percentages are 0–100.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { fieldError, intRange, isSet, msDuration, nonNegativeInt32, obj, uint32, type Path } from "./we-common.js";

const tcpKeepaliveSchema = z.strictObject({
  probes: uint32("probes").optional(),
  time: msDuration().optional(),
  interval: msDuration().optional(),
});

const tcpSettingsSchema = z.strictObject({
  maxConnections: nonNegativeInt32("max connections").optional(),
  connectTimeout: msDuration().optional(),
  tcpKeepalive: tcpKeepaliveSchema.optional(),
  maxConnectionDuration: msDuration().optional(),
  // "If set to 0s, the timeout will be disabled."
  idleTimeout: msDuration(0).optional(),
});

const http2KeepAliveSchema = z.strictObject({
  interval: msDuration().optional(),
  timeout: msDuration().optional(),
});

const httpSettingsSchema = z.strictObject({
  http1MaxPendingRequests: nonNegativeInt32("http1 max pending requests").optional(),
  http2MaxRequests: nonNegativeInt32("http2 max requests").optional(),
  maxRequestsPerConnection: nonNegativeInt32("max requests per connection").optional(),
  maxRetries: nonNegativeInt32("max retries").optional(),
  idleTimeout: msDuration().optional(),
  h2UpgradePolicy: z.enum(["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]).optional(),
  useClientProtocol: z.boolean().optional(),
  maxConcurrentStreams: nonNegativeInt32("max concurrent streams").optional(),
  http2KeepAlive: http2KeepAliveSchema.optional(),
});

export const connectionPoolSchema = z.strictObject({
  tcp: tcpSettingsSchema.optional(),
  http: httpSettingsSchema.optional(),
});

/** Cross-field rules of a ConnectionPoolSettings at `path`. */
export function checkConnectionPool(raw: unknown, path: Path): FieldError[] {
  const pool = obj(raw);
  if (!pool) return [];
  const out: FieldError[] = [];
  if (!isSet(pool, "tcp") && !isSet(pool, "http")) {
    out.push(fieldError(path, "connection pool must set at least one of tcp or http"));
  }
  const http = obj(pool.http);
  if (http && http.h2UpgradePolicy === "UPGRADE" && http.useClientProtocol === true) {
    out.push(fieldError([...path, "http", "useClientProtocol"], "useClientProtocol must not be true when h2UpgradePolicy is UPGRADE"));
  }
  return out;
}

/** google.protobuf.UInt32Value: a plain number in JSON, null meaning unset. */
const uint32Wrapper = (what: string) => uint32(what).nullable().optional();

export const outlierDetectionSchema = z.strictObject({
  /** Deprecated, hidden from Istio's docs, still accepted. */
  consecutiveErrors: intRange(-2147483648, 2147483647, "consecutive errors").optional(),
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: uint32Wrapper("consecutive local origin failures"),
  consecutiveGatewayErrors: uint32Wrapper("consecutive gateway errors"),
  consecutive5xxErrors: uint32Wrapper("consecutive 5xx errors"),
  interval: msDuration().optional(),
  baseEjectionTime: msDuration().optional(),
  maxEjectionPercent: intRange(0, 100, "maxEjectionPercent (a percentage)").optional(),
  minHealthPercent: intRange(0, 100, "minHealthPercent (a percentage)").optional(),
});
