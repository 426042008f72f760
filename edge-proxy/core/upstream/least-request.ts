/**
 * @module upstream/least-request
 * LEAST_REQUEST, Envoy's power of two choices: draw two endpoints at random (with replacement, as Envoy
 * does) and take the one with fewer active attempts; a tie keeps the first draw. With unequal weights
 * Envoy switches to an EDF scheduler over weight / (active + 1); here the two draws are weighted and
 * compared on (active + 1) / weight, the same preference with O(1) work.
 *
 * Istio's default balancer, so on nearly every request's path: a class whose instance holds everything a
 * pick reads (one object to fetch per cluster, not a closure and its context), and {@link pickOfTwo}, the
 * equal-weight pick, which the cluster state also runs itself when every endpoint is eligible.
 */
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";
import { WeightedSampler } from "./random-balancer.js";

/** Whether LEAST_REQUEST over these weights picks with {@link pickOfTwo} when every endpoint is eligible. */
export function picksOfTwo(weights: readonly number[]): boolean {
  return weights.every((w) => w === weights[0]);
}

/** Two uniform draws among the `n` endpoints; the one with fewer active attempts (the first on a tie). */
export function pickOfTwo(active: Int32Array, n: number, random: () => number): number {
  const first = Math.min(n - 1, Math.floor(random() * n));
  const second = Math.min(n - 1, Math.floor(random() * n));
  return active[second]! < active[first]! ? second : first;
}

/** `active[i]` is the number of attempts in flight to endpoint i, kept by the cluster. */
export function createLeastRequest(weights: readonly number[], active: Int32Array, random: () => number): EndpointBalancer {
  return new LeastRequest(weights, active, random);
}

class LeastRequest implements EndpointBalancer {
  private readonly n: number;
  private readonly equal: boolean;
  private readonly active: Int32Array;
  private readonly random: () => number;
  private readonly weights: readonly number[];
  private readonly sampler: WeightedSampler;

  constructor(weights: readonly number[], active: Int32Array, random: () => number) {
    this.n = weights.length;
    this.equal = picksOfTwo(weights);
    this.active = active;
    this.random = random;
    this.weights = weights;
    this.sampler = new WeightedSampler(weights, random);
  }

  pick(filter: EndpointFilter): number {
    const active = this.active;
    if (filter.all && this.equal) return pickOfTwo(active, this.n, this.random);
    const first = this.sampler.sample(filter);
    if (first < 0) return -1;
    const second = this.sampler.sample(filter);
    if (this.equal) return active[second]! < active[first]! ? second : first;
    const weights = this.weights;
    return (active[second]! + 1) / weights[second]! < (active[first]! + 1) / weights[first]! ? second : first;
  }
}
