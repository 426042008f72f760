/**
 * @module upstream/load-balancer
 * The DestinationRule's `loadBalancer` turned into an endpoint chooser over a cluster's endpoints (by
 * index). Which endpoints may be chosen right now (not ejected, not tried by this request) is the
 * cluster's business; a balancer only asks the filter.
 *
 *   ROUND_ROBIN   weighted rotation from a random start (round-robin.ts)
 *   RANDOM        weighted random (random-balancer.ts)
 *   PASSTHROUGH   Istio's ORIGINAL_DST cluster forwards to the address the caller dialled; a Weft cluster
 *                 always carries its endpoints, so it is RANDOM over those
 *   LEAST_REQUEST power of two choices on active attempts (least-request.ts)
 *   RING_HASH     ketama ring (ring-hash.ts), MAGLEV lookup table (maglev.ts), keyed by hash-policy.ts
 */
import type { Cluster } from "../config/proxy-config.js";
import { createLeastRequest } from "./least-request.js";
import { createMaglev, DEFAULT_MAGLEV_TABLE_SIZE, isPrime, MAXIMUM_MAGLEV_TABLE_SIZE } from "./maglev.js";
import { createRandom } from "./random-balancer.js";
import { createRingHash, DEFAULT_MINIMUM_RING_SIZE, MAX_RING_ENDPOINTS, MAXIMUM_RING_SIZE } from "./ring-hash.js";
import { createRoundRobin } from "./round-robin.js";
import { UpstreamConfigError } from "./upstream-error.js";

/** Which endpoint indices a pick may return. */
export interface EndpointFilter {
  /** True when every endpoint is allowed (the fast path: `allows` need not be asked). */
  readonly all: boolean;
  allows(index: number): boolean;
}

export interface EndpointBalancer {
  /**
   * The index of the endpoint for the next attempt among those `filter` allows; -1 when it allows none.
   * `hash` is the request's key hash (uint32), read by the consistent-hash balancers only.
   */
  pick(filter: EndpointFilter, hash: number): number;
}

export interface BalancerContext {
  /** `address:port` of each endpoint, in the cluster's order. */
  names: readonly string[];
  /** Each endpoint's weight (validated: integers ≥ 1). */
  weights: readonly number[];
  /** Active attempts per endpoint, kept by the cluster (LEAST_REQUEST reads it). */
  active: Int32Array;
  random: () => number;
}

/** A balancer for `cluster.policy.loadBalancer` over a non-empty endpoint list; throws UpstreamConfigError on bad sizes. */
export function createLoadBalancer(cluster: Cluster, context: BalancerContext): EndpointBalancer {
  const lb = cluster.policy.loadBalancer;
  const { names, weights, active, random } = context;
  if (names.length === 0) throw new TypeError(`createLoadBalancer: cluster ${cluster.name} has no endpoints`);
  switch (lb.kind) {
    case "ROUND_ROBIN":
      return createRoundRobin(weights, random);
    case "RANDOM":
    case "PASSTHROUGH":
      return createRandom(weights, random);
    case "LEAST_REQUEST":
      return createLeastRequest(weights, active, random);
    case "RING_HASH": {
      const size = lb.minimumRingSize ?? DEFAULT_MINIMUM_RING_SIZE;
      if (!Number.isInteger(size) || size < 1 || size > MAXIMUM_RING_SIZE) {
        throw invalid(cluster, "minimumRingSize", `must be an integer from 1 to ${MAXIMUM_RING_SIZE}, got ${size}`);
      }
      if (names.length > MAX_RING_ENDPOINTS) throw invalid(cluster, "kind", `RING_HASH supports at most ${MAX_RING_ENDPOINTS} endpoints`);
      return createRingHash(names, weights, size);
    }
    case "MAGLEV": {
      const size = lb.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
      if (!isPrime(size) || size > MAXIMUM_MAGLEV_TABLE_SIZE) {
        throw invalid(cluster, "tableSize", `must be a prime number no larger than ${MAXIMUM_MAGLEV_TABLE_SIZE}, got ${size}`);
      }
      return createMaglev(names, weights, size);
    }
    default: {
      const kind: never = lb;
      throw invalid(cluster, "kind", `unknown load balancer ${JSON.stringify((kind as { kind: unknown }).kind)}`);
    }
  }
}

/** Whether the balancer hashes a request key (RING_HASH, MAGLEV). */
export function isConsistentHash(cluster: Cluster): boolean {
  const kind = cluster.policy.loadBalancer.kind;
  return kind === "RING_HASH" || kind === "MAGLEV";
}

function invalid(cluster: Cluster, field: string, message: string): UpstreamConfigError {
  return new UpstreamConfigError("ERR_UPSTREAM_LOAD_BALANCER_INVALID", cluster.name, `policy.loadBalancer.${field}`, message);
}
