/**
 * @module upstream
 * The proxy core's per-cluster upstream state: load balancing (Envoy's round robin, random, least
 * request, ring hash and Maglev), circuit breaking from connectionPool, and outlier detection, with
 * Istio's DestinationRule semantics. Web APIs only; time and randomness come from the host.
 */
export type { AttemptOutcome, EndpointChoice, HashInput, RequestLease, UpstreamCluster, UpstreamOptions } from "./types.js";
export { createUpstreamCluster, createUpstreams } from "./upstream-cluster.js";
export { DestinationTargets } from "./destination-targets.js";
export { UpstreamConfigError, type UpstreamConfigErrorCode } from "./upstream-error.js";
export { CircuitBreaker, circuitBreakerLimits, UNLIMITED, type CircuitBreakerLimits } from "./circuit-breaker.js";
export { OutlierDetector, DEFAULT_MAX_EJECTION_TIME_MS } from "./outlier-detector.js";
export { createLoadBalancer, type EndpointBalancer, type EndpointFilter, type BalancerContext } from "./load-balancer.js";
export { createHashKeyReader, setCookieValue, type HashKeyReader, type HashOn } from "./hash-policy.js";
export { murmur3 } from "./hash.js";
export { DEFAULT_MAGLEV_TABLE_SIZE, MAXIMUM_MAGLEV_TABLE_SIZE, isPrime } from "./maglev.js";
export { DEFAULT_MINIMUM_RING_SIZE, MAXIMUM_RING_SIZE, RING_POINTS_LIMIT } from "./ring-hash.js";
