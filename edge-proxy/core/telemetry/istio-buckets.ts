/**
 * @module telemetry/istio-buckets
 * The histogram buckets of Istio's standard metrics and where a series keeps its numbers: one block of
 * BLOCK float64 slots — the request count, the three sums, then the duration, request bytes and response
 * bytes histograms' per-bucket (not cumulative) counts — in a counters array shared by all series.
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
/** Buckets per histogram: one per bound plus the overflow (+Inf only). */
export const SLOTS = BOUND_COUNT + 1;

/** Offsets within a series' block. */
export const COUNT = 0;
export const DURATION_SUM = 1;
export const REQUEST_BYTES_SUM = 2;
export const RESPONSE_BYTES_SUM = 3;
export const DURATION_BUCKETS = 4;
export const REQUEST_BYTES_BUCKETS = DURATION_BUCKETS + SLOTS;
export const RESPONSE_BYTES_BUCKETS = REQUEST_BYTES_BUCKETS + SLOTS;
/** Slots per series: 64 with Envoy's 19 bounds, 512 bytes, whole cache lines. */
export const BLOCK = RESPONSE_BYTES_BUCKETS + SLOTS;

/** The first bucket whose upper bound (inclusive, Prometheus `le`) holds `value`; SLOTS - 1 past the last. */
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
