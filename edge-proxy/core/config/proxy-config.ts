/**
 * @module proxy-config
 * The compiled configuration a Weft proxy receives (version `weft.dev/proxy/v1alpha1`): what the
 * proxy core needs to route one request, already resolved from Istio's resources. Names and shapes
 * follow Envoy's model (virtual hosts, routes, clusters, endpoints) so Istio users recognise them.
 *
 * This file is the contract between the control plane (which builds it, issue 5) and the proxy core
 * (which runs it, issue 4). It is data only: JSON-serialisable, no functions, no classes.
 * Durations are milliseconds; percentages are 0–100.
 */

export const PROXY_CONFIG_VERSION = "weft.dev/proxy/v1alpha1";

export interface ProxyConfig {
  version: typeof PROXY_CONFIG_VERSION;
  /** Who this config is for. */
  proxy: ProxyIdentity;
  /** Outbound HTTP routing, grouped by the ports traffic is sent to. */
  listeners: Listener[];
  /** Every upstream cluster a route may name. */
  clusters: Cluster[];
}

export interface ProxyIdentity {
  /** "sidecar" routes the `mesh` gateway's VirtualServices; "gateway" routes those bound to its Gateways. */
  kind: "sidecar" | "gateway";
  namespace: string;
  /** Labels of the proxy's workload (sourceLabels matches). */
  labels: Record<string, string>;
  /** `namespace/name` of the Gateways a gateway proxy serves; `["mesh"]` for a sidecar. */
  gateways: string[];
}

/** One port the proxy routes HTTP for (0 = any port). */
export interface Listener {
  port: number;
  virtualHosts: VirtualHost[];
}

/** The routes for a set of host names (a VirtualService's `hosts`, resolved to FQDNs). */
export interface VirtualHost {
  /** `namespace/name` of the VirtualService it came from, for diagnostics. */
  name: string;
  /** Exact names (`reviews.default.svc.cluster.local`), wildcard suffixes (`*.example.com`) or `*`. */
  domains: string[];
  /** In order: the first route whose matches hold wins. */
  routes: Route[];
}

export interface Route {
  /** The HTTPRoute's `name`, or `<virtual host>/<index>`. */
  name: string;
  /** Any one of these must hold (an empty list matches every request). */
  match: RouteMatch[];
  action: RouteAction;
  /** Header operations applied to every request and response on this route. */
  headers?: HeaderOperations;
  timeoutMs?: number;
  retries?: RetryPolicy;
  fault?: FaultInjection;
  mirrors?: Mirror[];
  cors?: CorsPolicy;
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export interface RouteMatch {
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  /** Header name (lower case) → match; `{}` means "present". */
  headers?: Record<string, StringMatch | Record<string, never>>;
  /** Header name (lower case) → match that must NOT hold; `{}` means "absent". */
  withoutHeaders?: Record<string, StringMatch | Record<string, never>>;
  queryParams?: Record<string, StringMatch | Record<string, never>>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  /** Gateways this match is limited to (`namespace/name` or `mesh`). */
  gateways?: string[];
  ignoreUriCase?: boolean;
}

export type RouteAction =
  | { kind: "route"; destinations: WeightedDestination[]; rewrite?: Rewrite }
  | { kind: "redirect"; uri?: string; authority?: string; scheme?: string; port?: number; derivePort?: "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT"; code: number }
  | { kind: "direct"; status: number; body?: string };

export interface WeightedDestination {
  /** A cluster name from `ProxyConfig.clusters`. */
  cluster: string;
  /** Relative weight; the weights of a route's destinations sum to 100. */
  weight: number;
  headers?: HeaderOperations;
}

export interface Rewrite {
  uri?: string;
  authority?: string;
  uriRegex?: { match: string; rewrite: string };
}

export interface HeaderOperations {
  request?: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };
  response?: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };
}

export interface RetryPolicy {
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy retry conditions: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, or status codes. */
  retryOn: string[];
}

export interface FaultInjection {
  delay?: { fixedDelayMs: number; percentage: number };
  abort?: { httpStatus: number; percentage: number };
}

export interface Mirror {
  cluster: string;
  percentage: number;
}

export interface CorsPolicy {
  allowOrigins: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  unmatchedPreflights?: "FORWARD" | "IGNORE";
}

/** An upstream: one service host and port, optionally narrowed to a DestinationRule subset. */
export interface Cluster {
  /** Istio's naming: `outbound|<port>|<subset>|<host>`. */
  name: string;
  host: string;
  port: number;
  subset?: string;
  endpoints: Endpoint[];
  policy: TrafficPolicy;
}

export interface Endpoint {
  address: string;
  port: number;
  labels: Record<string, string>;
  weight?: number;
}

export interface TrafficPolicy {
  loadBalancer: LoadBalancer;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
  /** Upstream TLS as the DestinationRule asks (ISTIO_MUTUAL is the mesh's mTLS). */
  tls?: { mode: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL"; sni?: string; subjectAltNames?: string[] };
}

export type LoadBalancer =
  | { kind: "ROUND_ROBIN" | "LEAST_REQUEST" | "RANDOM" | "PASSTHROUGH" }
  | {
      kind: "RING_HASH" | "MAGLEV";
      hashOn: { header: string } | { cookie: { name: string; path?: string; ttlMs?: number } } | { sourceIp: true } | { queryParameter: string };
      minimumRingSize?: number;
      tableSize?: number;
    };

export interface ConnectionPool {
  maxConnections?: number;
  http1MaxPendingRequests?: number;
  http2MaxRequests?: number;
  maxRequestsPerConnection?: number;
  maxRetries?: number;
  connectTimeoutMs?: number;
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}
