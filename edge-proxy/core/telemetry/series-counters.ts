/**
 * @module telemetry/series-counters
 * The numbers of every series of Istio's standard metrics, in one buffer, and the histogram buckets they
 * are counted in. A series owns a 256-byte block: its three sums (duration, request bytes, response
 * bytes) as float64, then as uint32 its request count and its three histograms' per-bucket counts for the
 * 19 finite bounds, interleaved by bucket (duration, request bytes, response bytes for bucket 0, then for
 * bucket 1, ...). The +Inf buckets are the count minus the finite ones. Recording one request then writes
 * two or three cache lines of one buffer for the usual values (small buckets sit near the start), and
 * nothing per series is a separate object.
 *
 * A uint32 count that would pass 2^32 − 1 wraps and its 2^32 is carried into a map (a series past four
 * billion requests), so counts stay exact.
 */

/**
 * Envoy's default histogram buckets (envoy source/common/stats/histogram_impl.cc,
 * `HistogramSettingsImpl::defaultBuckets()`). istio_stats records all three histograms with these, bytes
 * included (it sets only a unit, Milliseconds or Bytes, never buckets), so `istio_request_bytes` and
 * `istio_response_bytes` have the same boundaries as the duration unless `sidecar.istio.io/statsHistogramBuckets`
 * overrides them.
 */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);
/** Same as the duration buckets: see ISTIO_DURATION_BUCKETS_MS. */
export const ISTIO_BYTES_BUCKETS: readonly number[] = ISTIO_DURATION_BUCKETS_MS;

// A typed copy for the hot path: reading the frozen exported array measured several times slower on V8.
const BOUNDS = Float64Array.from(ISTIO_DURATION_BUCKETS_MS);
const BOUND_COUNT = BOUNDS.length;

/** The three histograms, as the sum and bucket positions in a block. */
export const DURATION = 0;
export const REQUEST_BYTES = 1;
export const RESPONSE_BYTES = 2;
export type Histogram = typeof DURATION | typeof REQUEST_BYTES | typeof RESPONSE_BYTES;

/** A block in float64 and uint32 units. */
const BLOCK_FLOATS = 32;
const BLOCK_WORDS = 2 * BLOCK_FLOATS;
/** uint32 positions within a block: after the three float64 sums (six words). */
const COUNT = 6;
const FIRST_BUCKET = 7;
const TWO_TO_32 = 2 ** 32;
if (FIRST_BUCKET + 3 * BOUND_COUNT > BLOCK_WORDS) throw new Error("series-counters: the buckets do not fit a block");

/** Series the buffer has room for at first; it doubles when full. */
const INITIAL_CAPACITY = 64;

export class SeriesCounters {
  private floats = new Float64Array(INITIAL_CAPACITY * BLOCK_FLOATS);
  private words = new Uint32Array(this.floats.buffer);
  /** Word position → the multiples of 2^32 its count has wrapped past. */
  private readonly carries = new Map<number, number>();
  private blocks = 0;

  /** A new series' block (zeroed). */
  allocate(): number {
    if ((this.blocks + 1) * BLOCK_FLOATS > this.floats.length) {
      const grown = new Float64Array(this.floats.length * 2);
      grown.set(this.floats);
      this.floats = grown;
      this.words = new Uint32Array(grown.buffer);
    }
    return this.blocks++;
  }

  /** Counts one request of `block`. */
  add(block: number, durationMs: number, requestBytes: number, responseBytes: number): void {
    const f = block * BLOCK_FLOATS;
    const floats = this.floats;
    floats[f + DURATION]! += durationMs;
    floats[f + REQUEST_BYTES]! += requestBytes;
    floats[f + RESPONSE_BYTES]! += responseBytes;
    const w = block * BLOCK_WORDS;
    this.increment(w + COUNT);
    const d = bucketIndex(durationMs);
    if (d < BOUND_COUNT) this.increment(w + FIRST_BUCKET + 3 * d + DURATION);
    const q = bucketIndex(requestBytes);
    if (q < BOUND_COUNT) this.increment(w + FIRST_BUCKET + 3 * q + REQUEST_BYTES);
    const s = bucketIndex(responseBytes);
    if (s < BOUND_COUNT) this.increment(w + FIRST_BUCKET + 3 * s + RESPONSE_BYTES);
  }

  count(block: number): number {
    return this.word(block * BLOCK_WORDS + COUNT);
  }

  sum(block: number, histogram: Histogram): number {
    return this.floats[block * BLOCK_FLOATS + histogram]!;
  }

  /** The histogram's per-bucket (not cumulative) counts: one per bound, then +Inf. */
  buckets(block: number, histogram: Histogram): number[] {
    const w = block * BLOCK_WORDS + FIRST_BUCKET + histogram;
    const counts: number[] = [];
    let finite = 0;
    for (let i = 0; i < BOUND_COUNT; i++) {
      const n = this.word(w + 3 * i);
      counts.push(n);
      finite += n;
    }
    counts.push(this.count(block) - finite);
    return counts;
  }

  private increment(position: number): void {
    const words = this.words;
    const next = words[position]! + 1;
    if (next < TWO_TO_32) words[position] = next;
    else {
      words[position] = 0;
      this.carries.set(position, (this.carries.get(position) ?? 0) + TWO_TO_32);
    }
  }

  private word(position: number): number {
    const carried = this.carries.size === 0 ? undefined : this.carries.get(position);
    return this.words[position]! + (carried ?? 0);
  }
}

/** The first bucket whose upper bound (inclusive, Prometheus `le`) holds `value`; BOUND_COUNT past the last. */
export function bucketIndex(value: number): number {
  // Byte counts and whole milliseconds up to a few KiB are most values: read those from a table.
  if (value >= 0 && value < SMALL_VALUES && (value | 0) === value) return SMALL_BUCKETS[value]!;
  return scanBuckets(value);
}

function scanBuckets(value: number): number {
  let i = 0;
  while (i < BOUND_COUNT && value > BOUNDS[i]!) i++;
  return i;
}

/** bucketIndex of each integer below SMALL_VALUES. */
const SMALL_VALUES = 4096;
const SMALL_BUCKETS = Uint8Array.from({ length: SMALL_VALUES }, (_, value) => scanBuckets(value));
