/**
 * @module validate-proxy-config
 * What a proxy checks on every config it receives, before using it: the exact shape of
 * `weft.dev/proxy/v1alpha1` (strict: an unknown field is an error, so a config from a newer
 * control plane is refused rather than half-understood), value ranges, and the references inside
 * it: every destination and mirror names a cluster that exists, a route's weights sum to 100,
 * cluster names follow `outbound|<port>|<subset>|<host>` and are unique, listener ports are unique.
 * The `inbound` and `trust` sections' schemas and value checks are in ./validate-inbound.ts.
 */
import { z } from "zod";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "./proxy-config.js";
import { inboundSchema, trustSchema } from "./validate-inbound.js";

export interface ProxyConfigError {
  /** Where, e.g. `listeners[0].virtualHosts[1].routes[0].action.destinations[0].cluster`. */
  field: string;
  message: string;
}

export type ProxyConfigValidation = { ok: true; config: ProxyConfig } | { ok: false; errors: ProxyConfigError[] };

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const port = int(1, 65535);
const percentage = z.number().min(0).max(100);
const millis = z.number().int().min(0);
const count = z.number().int().min(0);
const stringMap = z.record(z.string(), z.string());

const stringMatch = z.union([
  z.strictObject({ exact: z.string() }),
  z.strictObject({ prefix: z.string() }),
  z.strictObject({ regex: z.string() }),
]);
const presenceOrMatch = z.union([stringMatch, z.strictObject({})]);

const headerSide = z.strictObject({ set: stringMap.optional(), add: stringMap.optional(), remove: z.array(z.string()).optional() });
const headerOperations = z.strictObject({ request: headerSide.optional(), response: headerSide.optional() });

const routeMatch = z.strictObject({
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: z.record(z.string(), presenceOrMatch).optional(),
  withoutHeaders: z.record(z.string(), presenceOrMatch).optional(),
  queryParams: z.record(z.string(), presenceOrMatch).optional(),
  port: port.optional(),
  sourceLabels: stringMap.optional(),
  sourceNamespace: z.string().optional(),
  gateways: z.array(z.string()).optional(),
  ignoreUriCase: z.boolean().optional(),
});

const rewrite = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegex: z.strictObject({ match: z.string(), rewrite: z.string() }).optional(),
});

const routeAction = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("route"),
    destinations: z.array(z.strictObject({ cluster: z.string().min(1), weight: int(0, 100), headers: headerOperations.optional() })).min(1),
    rewrite: rewrite.optional(),
  }),
  z.strictObject({
    kind: z.literal("redirect"),
    uri: z.string().optional(),
    authority: z.string().optional(),
    scheme: z.string().optional(),
    port: port.optional(),
    derivePort: z.enum(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]).optional(),
    code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]),
  }),
  z.strictObject({ kind: z.literal("direct"), status: int(100, 599), body: z.string().optional() }),
]);

const route = z.strictObject({
  name: z.string(),
  match: z.array(routeMatch),
  action: routeAction,
  headers: headerOperations.optional(),
  timeoutMs: millis.optional(),
  retries: z.strictObject({ attempts: count, perTryTimeoutMs: millis.optional(), retryOn: z.array(z.string().min(1)) }).optional(),
  fault: z
    .strictObject({
      delay: z.strictObject({ fixedDelayMs: millis, percentage }).optional(),
      abort: z.strictObject({ httpStatus: int(100, 599), percentage }).optional(),
    })
    .optional(),
  mirrors: z.array(z.strictObject({ cluster: z.string().min(1), percentage })).optional(),
  cors: z
    .strictObject({
      allowOrigins: z.array(stringMatch),
      allowMethods: z.array(z.string()).optional(),
      allowHeaders: z.array(z.string()).optional(),
      exposeHeaders: z.array(z.string()).optional(),
      maxAgeSeconds: count.optional(),
      allowCredentials: z.boolean().optional(),
      unmatchedPreflights: z.enum(["FORWARD", "IGNORE"]).optional(),
    })
    .optional(),
});

const listener = z.strictObject({
  port: int(0, 65535),
  virtualHosts: z.array(
    z.strictObject({ name: z.string(), domains: z.array(z.string().min(1)).min(1), routes: z.array(route), requireTls: z.boolean().optional() }),
  ),
  tls: z
    .strictObject({
      mode: z.enum(["SIMPLE", "MUTUAL", "ISTIO_MUTUAL", "PASSTHROUGH", "AUTO_PASSTHROUGH"]),
      credentialName: z.string().min(1).optional(),
    })
    .optional(),
});

const hashOn = z.union([
  z.strictObject({ header: z.string().min(1) }),
  z.strictObject({ cookie: z.strictObject({ name: z.string().min(1), path: z.string().optional(), ttlMs: millis.optional() }) }),
  z.strictObject({ sourceIp: z.literal(true) }),
  z.strictObject({ queryParameter: z.string().min(1) }),
]);

const loadBalancer = z.union([
  z.strictObject({ kind: z.enum(["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH"]) }),
  z.strictObject({
    kind: z.enum(["RING_HASH", "MAGLEV"]),
    hashOn,
    minimumRingSize: z.number().int().positive().optional(),
    tableSize: z.number().int().positive().optional(),
  }),
]);

const trafficPolicy = z.strictObject({
  loadBalancer,
  connectionPool: z
    .strictObject({
      maxConnections: count.optional(),
      http1MaxPendingRequests: count.optional(),
      http2MaxRequests: count.optional(),
      maxRequestsPerConnection: count.optional(),
      maxRetries: count.optional(),
      connectTimeoutMs: millis.optional(),
    })
    .optional(),
  outlierDetection: z
    .strictObject({
      consecutive5xxErrors: count.optional(),
      consecutiveGatewayErrors: count.optional(),
      intervalMs: millis,
      baseEjectionTimeMs: millis,
      maxEjectionPercent: percentage,
      minHealthPercent: percentage,
    })
    .optional(),
  tls: z
    .strictObject({
      mode: z.enum(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]),
      sni: z.string().optional(),
      subjectAltNames: z.array(z.string()).optional(),
    })
    .optional(),
});

const cluster = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  subset: z.string().min(1).optional(),
  endpoints: z.array(
    z.strictObject({ address: z.string().min(1), port: int(0, 65535), labels: stringMap, weight: z.number().int().positive().optional() }),
  ),
  policy: trafficPolicy,
});

/** The strict shape of a {@link ProxyConfig}. */
export const proxyConfigSchema = z.strictObject({
  version: z.literal(PROXY_CONFIG_VERSION),
  proxy: z.strictObject({
    kind: z.enum(["sidecar", "gateway"]),
    namespace: z.string().min(1),
    labels: stringMap,
    gateways: z.array(z.string().min(1)),
    workload: z.string().min(1).optional(),
    serviceAccount: z.string().min(1).optional(),
  }),
  listeners: z.array(listener),
  clusters: z.array(cluster),
  inbound: inboundSchema.optional(),
  trust: trustSchema.optional(),
  outboundTrafficPolicy: z.strictObject({ mode: z.enum(["ALLOW_ANY", "REGISTRY_ONLY"]) }).optional(),
});

// The schema and the contract must describe the same data.
type SchemaOutput = z.output<typeof proxyConfigSchema>;
const _schemaMatchesContract: [SchemaOutput] extends [ProxyConfig] ? ([ProxyConfig] extends [SchemaOutput] ? true : false) : false = true;
void _schemaMatchesContract;

/** Checks `value` is a usable ProxyConfig; returns every problem found, each with its field path. */
export function validateProxyConfig(value: unknown): ProxyConfigValidation {
  const parsed = proxyConfigSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((issue) => ({ field: fieldPath(issue.path), message: issue.message })) };
  }
  const config = parsed.data as ProxyConfig;
  const errors = checkReferences(config);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}

function checkReferences(config: ProxyConfig): ProxyConfigError[] {
  const errors: ProxyConfigError[] = [];
  const names = new Set<string>();
  config.clusters.forEach((c, i) => {
    if (names.has(c.name)) errors.push({ field: `clusters[${i}].name`, message: `duplicate cluster name "${c.name}"` });
    names.add(c.name);
    const expected = `outbound|${c.port}|${c.subset ?? ""}|${c.host}`;
    if (c.name !== expected) errors.push({ field: `clusters[${i}].name`, message: `cluster name "${c.name}" does not match its host, port and subset: expected "${expected}"` });
  });
  const ports = new Set<number>();
  config.listeners.forEach((l, li) => {
    if (ports.has(l.port)) errors.push({ field: `listeners[${li}].port`, message: `duplicate listener port ${l.port}` });
    ports.add(l.port);
    l.virtualHosts.forEach((vh, vi) => {
      vh.routes.forEach((r, ri) => {
        const at = `listeners[${li}].virtualHosts[${vi}].routes[${ri}]`;
        if (r.action.kind === "route") {
          let total = 0;
          r.action.destinations.forEach((d, di) => {
            total += d.weight;
            if (!names.has(d.cluster)) errors.push({ field: `${at}.action.destinations[${di}].cluster`, message: `unknown cluster "${d.cluster}": no entry in clusters has this name` });
          });
          if (total !== 100) errors.push({ field: `${at}.action.destinations`, message: `destination weights must sum to 100, got ${total}` });
        }
        r.mirrors?.forEach((m, mi) => {
          if (!names.has(m.cluster)) errors.push({ field: `${at}.mirrors[${mi}].cluster`, message: `unknown cluster "${m.cluster}": no entry in clusters has this name` });
        });
      });
    });
  });
  return errors;
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `${out === "" ? "" : "."}${String(key)}`;
  return out === "" ? "<config>" : out;
}
