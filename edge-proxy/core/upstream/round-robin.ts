/**
 * @module upstream/round-robin
 * ROUND_ROBIN: each endpoint in turn, as often as its weight says. Envoy uses plain rotation for equal
 * weights and an earliest-deadline-first scheduler otherwise; here both are one precomputed schedule (the
 * EDF order: the k-th turn of an endpoint of weight w is due at (k+1)/w), walked by a cursor that starts
 * at a random place so proxies do not move in lockstep. Endpoints the filter refuses are stepped over
 * (the cursor moves past them), so their share spreads over the rest instead of doubling the next one.
 */
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";

/** Longest schedule built; larger weight sums are scaled down to fit (each endpoint keeps ≥ 1 turn). */
export const MAX_SCHEDULE_LENGTH = 65_536;

export function createRoundRobin(weights: readonly number[], random: () => number): EndpointBalancer {
  const schedule = buildSchedule(weights);
  const length = schedule.length;
  let cursor = Math.min(length - 1, Math.floor(random() * length));
  return {
    pick(filter: EndpointFilter): number {
      if (filter.all) {
        const index = schedule[cursor]!;
        cursor = cursor + 1 === length ? 0 : cursor + 1;
        return index;
      }
      for (let step = 0; step < length; step++) {
        const index = schedule[cursor]!;
        cursor = cursor + 1 === length ? 0 : cursor + 1;
        if (filter.allows(index)) return index;
      }
      return -1;
    },
  };
}

/** The turns of one round, in EDF order (ties by endpoint order). Exported for tests. */
export function buildSchedule(weights: readonly number[]): Uint32Array {
  const n = weights.length;
  const first = weights[0]!;
  if (weights.every((w) => w === first)) return Uint32Array.from({ length: n }, (_, i) => i);
  let turns = reduceWeights(weights);
  let total = turns.reduce((sum, t) => sum + t, 0);
  if (total > MAX_SCHEDULE_LENGTH) {
    const scale = MAX_SCHEDULE_LENGTH / total;
    turns = turns.map((t) => Math.max(1, Math.floor(t * scale)));
    total = turns.reduce((sum, t) => sum + t, 0);
  }
  const owner = new Uint32Array(total);
  const due = new Float64Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const w = turns[i]!;
    for (let k = 0; k < w; k++) {
      owner[at] = i;
      due[at] = (k + 1) / w;
      at++;
    }
  }
  const order = Array.from({ length: total }, (_, i) => i);
  order.sort((a, b) => due[a]! - due[b]! || owner[a]! - owner[b]!);
  return Uint32Array.from(order, (slot) => owner[slot]!);
}

/** Weights divided by their greatest common divisor. */
function reduceWeights(weights: readonly number[]): number[] {
  let divisor = 0;
  for (const w of weights) divisor = gcd(divisor, w);
  return weights.map((w) => w / divisor);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
