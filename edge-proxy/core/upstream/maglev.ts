/**
 * @module upstream/maglev
 * MAGLEV: Google's Maglev consistent hash (Eisenbud et al., NSDI 2016), as Envoy builds it. Each endpoint
 * has a permutation of the table's slots from two hashes of its name `address:port` (offset = h1 mod M,
 * skip = h2 mod (M − 1) + 1; M prime, so every skip walks all slots); endpoints take turns claiming their
 * next free slot until the table is full, an endpoint of weight w taking a turn w / max-weight as often
 * (Envoy's weighted variant). A key hash h goes to slot h mod M. An endpoint the filter refuses is passed
 * over by walking on to the next slots, as for the ring. Lookup is one modulo and one array read.
 */
import { murmur3 } from "./hash.js";
import type { EndpointBalancer, EndpointFilter } from "./load-balancer.js";

export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** Envoy's limit on table_size. */
export const MAXIMUM_MAGLEV_TABLE_SIZE = 5_000_011;
const SKIP_SEED = 0x5bd1e995;

export interface MaglevBalancer extends EndpointBalancer {
  readonly tableSize: number;
  /** The endpoint index in slot `slot` (for tests and diagnostics). */
  slot(slot: number): number;
}

/** `tableSize` is already validated as a prime ≤ MAXIMUM_MAGLEV_TABLE_SIZE. */
export function createMaglev(names: readonly string[], weights: readonly number[], tableSize: number): MaglevBalancer {
  const table = populate(names, weights, tableSize);
  const size = tableSize;
  return {
    tableSize,
    slot: (slot) => table[slot]!,
    pick(filter: EndpointFilter, hash: number): number {
      let k = hash % size;
      if (filter.all) return table[k]!;
      for (let step = 0; step < size; step++) {
        const owner = table[k]!;
        if (filter.allows(owner)) return owner;
        k = k + 1 === size ? 0 : k + 1;
      }
      return -1;
    },
  };
}

function populate(names: readonly string[], weights: readonly number[], size: number): Uint8Array | Uint16Array | Uint32Array {
  const n = names.length;
  // position[i] walks endpoint i's permutation: offset, offset + skip, offset + 2·skip, ... (mod size).
  const position = new Int32Array(n);
  const skip = new Int32Array(n);
  const due = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    position[i] = murmur3(names[i]!) % size;
    skip[i] = (murmur3(names[i]!, SKIP_SEED) % (size - 1)) + 1;
    if (weights[i]! > maxWeight) maxWeight = weights[i]!;
  }
  const table = new Int32Array(size).fill(-1);
  let filled = 0;
  for (let iteration = 1; filled < size; iteration++) {
    for (let i = 0; i < n && filled < size; i++) {
      // An endpoint of the largest weight takes a slot every iteration, one of a third of it every third.
      if (iteration * weights[i]! < due[i]!) continue;
      due[i] = due[i]! + maxWeight;
      const step = skip[i]!;
      let slot = position[i]!;
      while (table[slot] !== -1) {
        slot += step;
        if (slot >= size) slot -= size;
      }
      table[slot] = i;
      slot += step;
      position[i] = slot >= size ? slot - size : slot;
      filled++;
    }
  }
  const compact = n <= 0xff ? new Uint8Array(size) : n <= 0xffff ? new Uint16Array(size) : new Uint32Array(size);
  compact.set(table);
  return compact;
}

/** Whether `n` is a prime number (trial division; table sizes are at most a few million). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
