/**
 * @module upstream/random-balancer
 * RANDOM (and PASSTHROUGH): an endpoint drawn at random, in proportion to its weight (uniform when the
 * weights are equal). The weighted sampler is shared with LEAST_REQUEST's two choices. A draw is O(1)
 * (equal weights) or a binary search (weighted); under a filter a few draws are tried, then one exact
 * pass over the endpoints.
 */
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";

const REJECTION_DRAWS = 4;

/** Draws endpoint indices by weight; -1 when the filter allows none. */
export class WeightedSampler {
  private readonly n: number;
  private readonly equal: boolean;
  /** cumulative[i] = sum of weights[0..i]. */
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(
    private readonly weights: readonly number[],
    private readonly random: () => number,
  ) {
    this.n = weights.length;
    this.equal = weights.every((w) => w === weights[0]);
    this.cumulative = new Float64Array(this.n);
    let sum = 0;
    for (let i = 0; i < this.n; i++) this.cumulative[i] = sum += weights[i]!;
    this.total = sum;
  }

  /** One draw over all endpoints. */
  private draw(): number {
    const n = this.n;
    if (this.equal) return Math.min(n - 1, Math.floor(this.random() * n));
    const target = this.random() * this.total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  sample(filter: EndpointFilter): number {
    if (filter.all) return this.draw();
    // A filter usually refuses few endpoints: a few unfiltered draws (each kept only if allowed, so the
    // result stays proportional to weight) before one exact pass over all of them.
    for (let attempt = 0; attempt < REJECTION_DRAWS; attempt++) {
      const index = this.draw();
      if (filter.allows(index)) return index;
    }
    const n = this.n;
    let allowedWeight = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (filter.allows(i)) {
        allowedWeight += this.equal ? 1 : this.weights[i]!;
        last = i;
      }
    }
    if (last < 0) return -1;
    let target = this.random() * allowedWeight;
    for (let i = 0; i < last; i++) {
      if (!filter.allows(i)) continue;
      target -= this.equal ? 1 : this.weights[i]!;
      if (target < 0) return i;
    }
    return last;
  }
}

export function createRandom(weights: readonly number[], random: () => number): EndpointBalancer {
  const sampler = new WeightedSampler(weights, random);
  return { pick: (filter) => sampler.sample(filter) };
}
