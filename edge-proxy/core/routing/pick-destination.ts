/**
 * @module pick-destination
 * Weighted choice among a route's destinations with an injected random source (hosts pass `Math.random`
 * or a seeded generator). Weights are checked once at table build by {@link prepareDestinations}, which
 * also precomputes cumulative weights for long lists (searched by bisection). Short lists — Istio routes
 * rarely have more than a few destinations — are walked directly: measured, that is cheaper than fetching
 * any precomputed array kept beside them.
 */
import type { WeightedDestination } from "../config/proxy-config.js";
import { RouteTableError } from "./routing-error.js";

/** Lists up to this long are walked; longer ones use cumulative weights. */
const WALK_LIMIT = 8;
const CUMULATIVE = new WeakMap<readonly WeightedDestination[], Float64Array>();

/**
 * Checks a destination list's weights (finite, ≥ 0; a list whose weights are all 0 sends everything to its
 * first destination) and, for a long list, computes and caches its cumulative weights. `where` names the
 * list in errors. Destination lists are config data and must not change afterwards.
 */
export function prepareDestinations(destinations: readonly WeightedDestination[], where = "destinations"): Float64Array {
  if (destinations.length === 0) throw new RouteTableError("ERR_ROUTE_DESTINATIONS_INVALID", where, "a route needs at least one destination");
  const cumulative = new Float64Array(destinations.length);
  let total = 0;
  destinations.forEach((destination, i) => {
    const weight = destination.weight;
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      throw new RouteTableError("ERR_ROUTE_DESTINATIONS_INVALID", `${where}[${i}].weight`, `weight must be a finite number ≥ 0, got ${String(weight)}`);
    }
    total += weight;
    cumulative[i] = total;
  });
  if (destinations.length > WALK_LIMIT) CUMULATIVE.set(destinations, cumulative);
  return cumulative;
}

/**
 * Picks one destination with probability weight / total weight. `random` returns numbers in [0, 1) like
 * `Math.random`; it is not called when there is only one destination.
 */
export function pickDestination(destinations: WeightedDestination[], random: () => number): WeightedDestination {
  const count = destinations.length;
  const first = destinations[0];
  if (first === undefined) throw new TypeError("pickDestination: no destinations to pick from");
  if (count === 1) return first;
  if (count <= WALK_LIMIT) {
    let total = 0;
    for (let i = 0; i < count; i++) total += (destinations[i] as WeightedDestination).weight;
    if (!(total > 0)) return first;
    let point = random() * total;
    for (let i = 0; i < count; i++) {
      const destination = destinations[i] as WeightedDestination;
      point -= destination.weight;
      if (point < 0) return destination;
    }
    return lastWeighted(destinations);
  }
  const cumulative = CUMULATIVE.get(destinations) ?? prepareDestinations(destinations);
  const total = cumulative[count - 1] as number;
  if (!(total > 0)) return first;
  const point = random() * total;
  // The first index whose cumulative weight exceeds the point.
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (point < (cumulative[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return point < (cumulative[low] as number) ? (destinations[low] as WeightedDestination) : lastWeighted(destinations);
}

/** When random() returned 1 (outside its contract) or rounding ran past the end: the last destination with weight. */
function lastWeighted(destinations: WeightedDestination[]): WeightedDestination {
  for (let i = destinations.length - 1; i >= 0; i--) {
    const destination = destinations[i] as WeightedDestination;
    if (destination.weight > 0) return destination;
  }
  return destinations[0] as WeightedDestination;
}
