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
  /**
   * What the proxy enforces on requests to its own workload (a sidecar's inbound side; every request a
   * gateway receives). Absent: no policies, PERMISSIVE mTLS, the listener port is the application's.
   */
  inbound?: InboundConfig;
  /** The mesh's trust: roots that sign peer certificates and serials no longer trusted. Absent: peers are not checked by the core. */
  trust?: TrustConfig;
  /**
   * The applied Sidecar's `outboundTrafficPolicy.mode`: whether traffic to hosts the config does not
   * know may leave (ALLOW_ANY) or not (REGISTRY_ONLY). Absent: the mesh default. Recorded; the core
   * does not act on it yet.
   */
  outboundTrafficPolicy?: { mode: "ALLOW_ANY" | "REGISTRY_ONLY" };
}

export interface ProxyIdentity {
  /** "sidecar" routes the `mesh` gateway's VirtualServices; "gateway" routes those bound to its Gateways. */
  kind: "sidecar" | "gateway";
  namespace: string;
  /** Labels of the proxy's workload (sourceLabels matches). */
  labels: Record<string, string>;
  /** `namespace/name` of the Gateways a gateway proxy serves; `["mesh"]` for a sidecar. */
  gateways: string[];
  /** The workload's name for telemetry (`source_workload`), e.g. its Deployment. */
  workload?: string;
  /** The workload's service account (its SPIFFE identity's `sa`). */
  serviceAccount?: string;
}

/** One port the proxy routes HTTP for (0 = any port). */
export interface Listener {
  port: number;
  virtualHosts: VirtualHost[];
  /**
   * A gateway's HTTPS server on this port: the TLS it serves (the Gateway server's `tls.mode` and
   * `credentialName`). Informative: the host terminates TLS itself. Absent: plain HTTP (or a sidecar).
   */
  tls?: ListenerTls;
}

export interface ListenerTls {
  mode: "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL" | "PASSTHROUGH" | "AUTO_PASSTHROUGH";
  credentialName?: string;
}

/** The routes for a set of host names (a VirtualService's `hosts`, resolved to FQDNs). */
export interface VirtualHost {
  /** `namespace/name` of the VirtualService it came from, for diagnostics. */
  name: string;
  /** Exact names (`reviews.default.svc.cluster.local`), wildcard suffixes (`*.example.com`) or `*`. */
  domains: string[];
  /** In order: the first route whose matches hold wins. */
  routes: Route[];
  /**
   * Plain-HTTP requests get a 301 to `https://<host><path>` before any routing (Envoy's `require_tls:
   * ALL`; a Gateway server's `tls.httpsRedirect`). Absent: false.
   */
  requireTls?: boolean;
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

// ---------------------------------------------------------------------------------------------
// Inbound: PeerAuthentication, RequestAuthentication and AuthorizationPolicy resolved for one workload.

/** The mesh's mutual TLS mode for a port: STRICT needs a peer certificate, PERMISSIVE takes both, DISABLE plain text only. */
export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

export interface InboundConfig {
  /** The ports the workload serves: the port traffic arrives on and the application's port behind it. */
  ports: InboundPort[];
  peerAuthentication: PeerAuthenticationConfig;
  /** JWT rules of every RequestAuthentication selecting the workload (a token must satisfy one of them). */
  jwtRules: JwtRule[];
  /** AuthorizationPolicies selecting the workload, oldest first; evaluated CUSTOM → DENY → ALLOW. */
  authorizationPolicies: AuthorizationPolicyConfig[];
}

export interface InboundPort {
  /** The port requests arrive on (the Service's targetPort, which the sidecar captures). */
  port: number;
  /** Where the application listens; usually the same number. */
  targetPort: number;
  /** The Service port name (`http-web`), for protocol sniffing by name. */
  name?: string;
}

export interface PeerAuthenticationConfig {
  /** The workload-wide mode (workload policy, else namespace, else mesh-wide, else PERMISSIVE). */
  mode: MtlsMode;
  /** Per-port overrides (keys are port numbers as strings), from the workload policy's portLevelMtls. */
  portLevel?: Record<string, MtlsMode>;
  /** `namespace/name` of the PeerAuthentication the mode came from, for diagnostics. */
  policy?: string;
}

/** One RequestAuthentication `jwtRules` entry. */
export interface JwtRule {
  /** `namespace/name` of the RequestAuthentication. */
  policy: string;
  issuer: string;
  /** Accepted `aud` values; empty or absent: any audience. */
  audiences?: string[];
  /** Fetched through the host and cached; ignored when `jwks` is given. */
  jwksUri?: string;
  /** Inline JWKS (JSON text). */
  jwks?: string;
  /** Where the token is looked for; all absent: `Authorization: Bearer <token>`. */
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  /** Header that receives the verified payload, base64url-encoded JSON. */
  outputPayloadToHeader?: string;
  /** Keep the token on the request sent upstream (default: removed). */
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: { header: string; claim: string }[];
}

export type AuthorizationAction = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

/** An AuthorizationPolicy as Istio writes it, with names resolved; an empty `rules` list matches no request. */
export interface AuthorizationPolicyConfig {
  /** `namespace/name`. */
  name: string;
  action: AuthorizationAction;
  /** The extension provider a CUSTOM policy delegates to. */
  provider?: string;
  rules: AuthorizationRule[];
}

/** Holds when one `from` holds (or none is given), one `to` holds (or none), and every `when` holds. */
export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationCondition {
  /** `request.headers[x-token]`, `source.ip`, `request.auth.claims[groups]`, `destination.port`, ... */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** The mesh's certificate trust, from the control plane's CA (issue 3). */
export interface TrustConfig {
  /** SPIFFE trust domain, `cluster.local` by default. */
  trustDomain: string;
  /** PEM root certificates peers' chains must end in (several during a root rotation). */
  roots: string[];
  /** Lowercase hex serials of revoked certificates: a peer presenting one is refused. */
  revokedSerials: string[];
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
