/**
 * @module upstream/least-request
 * LEAST_REQUEST, Envoy's power of two choices: draw two endpoints at random (with replacement, as Envoy
 * does) and take the one with fewer active attempts; a tie keeps the first draw. With unequal weights
 * Envoy switches to an EDF scheduler over weight / (active + 1); here the two draws are weighted and
 * compared on (active + 1) / weight, the same preference with O(1) work.
 */
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";
import { WeightedSampler } from "./random-balancer.js";

/** `active[i]` is the number of attempts in flight to endpoint i, kept by the cluster. */
export function createLeastRequest(weights: readonly number[], active: Int32Array, random: () => number): EndpointBalancer {
  const n = weights.length;
  const equal = weights.every((w) => w === weights[0]);
  const sampler = new WeightedSampler(weights, random);
  return {
    pick(filter: EndpointFilter): number {
      if (filter.all && equal) {
        const first = Math.min(n - 1, Math.floor(random() * n));
        const second = Math.min(n - 1, Math.floor(random() * n));
        return active[second]! < active[first]! ? second : first;
      }
      const first = sampler.sample(filter);
      if (first < 0) return -1;
      const second = sampler.sample(filter);
      if (equal) return active[second]! < active[first]! ? second : first;
      return (active[second]! + 1) / weights[second]! < (active[first]! + 1) / weights[first]! ? second : first;
    },
  };
}
