/**
 * @module upstream/ring-hash
 * RING_HASH, Envoy's ketama-style consistent hash: every endpoint is hashed onto a 32-bit ring at many
 * points (`<address>:<port>_<i>`, i = 0, 1, ...), in proportion to its weight, with at least
 * `minimumRingSize` points in all; a request's key hash goes to the first point at or after it (binary
 * search, wrapping to the start). An endpoint the filter refuses (ejected, or already tried by this
 * request) is passed over by walking on round the ring, as Envoy's retries do, which is also where its
 * keys would go if it left the ring.
 *
 * Points per endpoint: Envoy gives an endpoint of the smallest weight ceil(minimumRingSize × its share)
 * points; here that number is rounded up to a power of two, so adding or removing an endpoint seldom
 * changes the others' points, and only the keys of the endpoint that came or went move. The ring holds
 * at most RING_POINTS_LIMIT points (2^20; Envoy's cap is 2^23), extreme weight ratios included.
 */
import { murmur3 } from "./hash.js";
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";

export const DEFAULT_MINIMUM_RING_SIZE = 1024;
/** Envoy's default maximum_ring_size: the largest minimumRingSize a config may ask for. */
export const MAXIMUM_RING_SIZE = 8 * 1024 * 1024;
/**
 * The most points Weft builds (Envoy: MAXIMUM_RING_SIZE). A million points take a few hundred
 * milliseconds to build and 8 MB to hold, which a Worker can afford; eight million cannot.
 */
export const RING_POINTS_LIMIT = 1024 * 1024;

export interface RingHashBalancer extends EndpointBalancer {
  /** Number of points on the ring. */
  readonly size: number;
}

/** `names[i]` is endpoint i's `address:port`; `minimumRingSize` is already validated (1..MAXIMUM_RING_SIZE) and is held to RING_POINTS_LIMIT. */
export function createRingHash(names: readonly string[], weights: readonly number[], minimumRingSize: number): RingHashBalancer {
  const points = pointsPerEndpoint(weights, minimumRingSize);
  let size = 0;
  for (const p of points) size += p;
  // hash × 2^21 + owner is exact in a double (< 2^53), so a plain numeric sort orders by hash, then owner.
  const packed = new Float64Array(size);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const prefix = `${names[i]}_`;
    for (let j = 0; j < points[i]!; j++) packed[at++] = murmur3(prefix + j) * OWNER_SPAN + i;
  }
  packed.sort();
  const hashes = new Uint32Array(size);
  const owners = new Uint32Array(size);
  for (let k = 0; k < size; k++) {
    const value = packed[k]!;
    const owner = value % OWNER_SPAN;
    owners[k] = owner;
    hashes[k] = (value - owner) / OWNER_SPAN;
  }
  return {
    size,
    pick(filter: EndpointFilter, hash: number): number {
      let lo = 0;
      let hi = size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (hashes[mid]! < hash) lo = mid + 1;
        else hi = mid;
      }
      let k = lo === size ? 0 : lo;
      if (filter.all) return owners[k]!;
      for (let step = 0; step < size; step++) {
        const owner = owners[k]!;
        if (filter.allows(owner)) return owner;
        k = k + 1 === size ? 0 : k + 1;
      }
      return -1;
    },
  };
}

/** Endpoints beyond this many cannot be packed with their hash (2^21 ≈ 2 million). */
export const MAX_RING_ENDPOINTS = 2 ** 21;
const OWNER_SPAN = MAX_RING_ENDPOINTS;

function pointsPerEndpoint(weights: readonly number[], minimumRingSize: number): number[] {
  let total = 0;
  let min = Infinity;
  for (const w of weights) {
    total += w;
    if (w < min) min = w;
  }
  // Points for an endpoint of the smallest weight (Envoy: ceil(min share × minimum ring size)).
  let base = 1;
  const wanted = Math.ceil((Math.min(minimumRingSize, RING_POINTS_LIMIT) * min) / total);
  while (base < wanted) base *= 2;
  let perUnit = base / min;
  if (perUnit * total > RING_POINTS_LIMIT) perUnit = RING_POINTS_LIMIT / total;
  return weights.map((w) => Math.max(1, Math.round(perUnit * w)));
}
