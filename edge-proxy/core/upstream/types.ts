/**
 * @module upstream/types
 * The contract between the proxy engine (edge-proxy/core/proxy) and the per-cluster upstream state:
 * endpoint choice (load balancers, consistent hashing), circuit breaking (connectionPool limits) and
 * passive health (outlierDetection). All state is in memory, per proxy; time comes from the host clock.
 */
import type { CancelSignal } from "../proxy/cancellation.js";
import type { Cluster, Endpoint } from "../config/proxy-config.js";

/** What a consistent-hash load balancer may read of the request. */
export interface HashInput {
  /** Header value (name lower case), undefined when absent. */
  header(name: string): string | undefined;
  /** Cookie value from the request's Cookie header, undefined when absent. */
  cookie(name: string): string | undefined;
  /** First value of a query parameter, undefined when absent. */
  queryParam(name: string): string | undefined;
  /** The downstream peer's IP address. */
  sourceIp: string | undefined;
}

export interface EndpointChoice {
  endpoint: Endpoint;
  /** A `Set-Cookie` value to add to the response: the hash cookie Envoy generates when the request had none and the policy gives a ttl. */
  setCookie?: string;
}

/** How one attempt against an endpoint ended, for outlier detection and least-request bookkeeping. */
export type AttemptOutcome =
  | { kind: "response"; status: number }
  /** Connection refused / could not connect. */
  | { kind: "connect-failure" }
  /** Connection reset or the response broke off. */
  | { kind: "reset" }
  /** Per-try or route timeout expired. */
  | { kind: "timeout" };

/** A slot in the cluster's circuit breaker; release it exactly once when the request (all its attempts) is over. */
export interface RequestLease {
  release(): void;
}

export interface UpstreamCluster {
  readonly cluster: Cluster;
  /**
   * Circuit breaker admission for one downstream request: a lease when under maxConnections /
   * http2MaxRequests; when at the limit, queues while fewer than http1MaxPendingRequests wait, resolving
   * once a slot frees; "overflow" at once past that (the engine answers 503 with flag UO).
   * `signal` aborts a queued wait (resolving "overflow" is not used for that: it rejects with the abort reason).
   */
  admit(signal?: CancelSignal): Promise<RequestLease | "overflow">;
  /** Whether one more retry may start (connectionPool.http.maxRetries concurrent retries, default 2^32-1); pair with `retryDone`. */
  tryStartRetry(): boolean;
  retryDone(): void;
  /**
   * An endpoint for the next attempt: healthy (not ejected; all endpoints when fewer than minHealthPercent
   * are healthy, Envoy's panic mode), avoiding those in `tried` when another is available. undefined when
   * the cluster has no endpoints at all (the engine answers 503 UH).
   * Also undefined when every endpoint is ejected and the cluster is not in panic (minHealthPercent 0):
   * Envoy's "no healthy upstream", the same 503 UH.
   */
  pick(input: HashInput, tried?: ReadonlySet<Endpoint>): EndpointChoice | undefined;
  /** An attempt started against `endpoint` (least-request counts). */
  attemptStarted(endpoint: Endpoint): void;
  /** The attempt ended: feeds outlier detection and least-request counts. */
  attemptEnded(endpoint: Endpoint, outcome: AttemptOutcome): void;
  /** Endpoints currently ejected by outlier detection. */
  ejected(): readonly Endpoint[];
  /** Value for `maxRequestsPerConnection` the host's connection reuse should honour (0 = unlimited). */
  readonly maxRequestsPerConnection: number;
}

export interface UpstreamOptions {
  /** Milliseconds, monotonic enough for ejection timing (host clock; tests freeze it). */
  now(): number;
  /** [0, 1), for RANDOM, LEAST_REQUEST's two choices and ROUND_ROBIN's start. */
  random(): number;
}
