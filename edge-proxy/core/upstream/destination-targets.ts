/**
 * @module upstream/destination-targets
 * What a route destination sends to (the engine's upstream state for its cluster), found from the
 * WeightedDestination object itself. A destination names its cluster by string; looking that up per
 * request hashes the name and compares it with the map's key, several cache misses once there are
 * thousands of clusters. The destination objects are immutable config and the weighted pick has just read
 * the chosen one, so its identity finds the target in one probe; the name is looked up once per destination.
 */
import type { WeightedDestination } from "../config/proxy-config.js";

export class DestinationTargets<T> {
  private readonly byDestination = new WeakMap<WeightedDestination, T>();

  /** `byName`: the target of each cluster, by cluster name; it must not change afterwards. */
  constructor(private readonly byName: ReadonlyMap<string, T>) {}

  /** The target of `destination.cluster`, undefined when there is none. */
  get(destination: WeightedDestination): T | undefined {
    let target = this.byDestination.get(destination);
    if (target === undefined) {
      target = this.byName.get(destination.cluster);
      if (target !== undefined) this.byDestination.set(destination, target);
    }
    return target;
  }
}
