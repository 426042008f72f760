// The counters block behind Istio's metrics (series-counters.ts): per-bucket counts on Envoy's
// boundaries with +Inf as the remainder, sums, independent blocks that survive the buffer growing, and
// exact counts past 2^32 (a uint32 that wraps carries its 2^32).
import { describe, expect, it } from "vitest";
import { bucketIndex, DURATION, ISTIO_DURATION_BUCKETS_MS, REQUEST_BYTES, RESPONSE_BYTES, SeriesCounters } from "../../../edge-proxy/core/telemetry/series-counters.js";

const BOUNDS = ISTIO_DURATION_BUCKETS_MS;

/** The reference: the first bound (inclusive) holding the value, BOUNDS.length for +Inf. */
const reference = (value: number) => {
  const i = BOUNDS.findIndex((bound) => value <= bound);
  return i === -1 ? BOUNDS.length : i;
};

describe("bucketIndex", () => {
  it("agrees with a scan of the bounds for integers, fractions, bounds themselves, NaN and extremes", () => {
    const values = [0, -0, 0.25, 0.5, 0.75, 1, 2, 5, 5.5, 10, 99, 100, 101, 4095, 4096, 4097, 1e6, 3600000, 3600001, Infinity, -1, NaN];
    for (let v = 0; v < 5000; v += 7) values.push(v);
    for (const value of values) expect(bucketIndex(value), String(value)).toBe(Number.isNaN(value) ? 0 : reference(value));
  });
});

describe("SeriesCounters", () => {
  it("counts each histogram on its own buckets, +Inf being what no finite bound holds", () => {
    const counters = new SeriesCounters();
    const block = counters.allocate();
    counters.add(block, 3, 0, 512);
    counters.add(block, 3, 4_000_000, 512);
    counters.add(block, 0.2, 7, 1_000_000_000);
    expect(counters.count(block)).toBe(3);
    expect(counters.sum(block, DURATION)).toBeCloseTo(6.2);
    expect(counters.sum(block, REQUEST_BYTES)).toBe(4_000_007);
    expect(counters.sum(block, RESPONSE_BYTES)).toBe(1_000_001_024);
    const expected = (values: number[]) => {
      const counts = new Array<number>(BOUNDS.length + 1).fill(0);
      for (const v of values) counts[reference(v)]!++;
      return counts;
    };
    expect(counters.buckets(block, DURATION)).toEqual(expected([3, 3, 0.2]));
    expect(counters.buckets(block, REQUEST_BYTES)).toEqual(expected([0, 4_000_000, 7]));
    expect(counters.buckets(block, RESPONSE_BYTES)).toEqual(expected([512, 512, 1_000_000_000]));
  });

  it("keeps blocks apart and their numbers through the buffer's growth", () => {
    const counters = new SeriesCounters();
    const blocks = Array.from({ length: 300 }, () => counters.allocate());
    blocks.forEach((block, i) => {
      for (let k = 0; k <= i % 5; k++) counters.add(block, i, 1, 2);
    });
    blocks.forEach((block, i) => {
      expect(counters.count(block)).toBe((i % 5) + 1);
      expect(counters.sum(block, DURATION)).toBe(i * ((i % 5) + 1));
      expect(counters.buckets(block, REQUEST_BYTES)[bucketIndex(1)]).toBe((i % 5) + 1);
    });
  });

  it("stays exact past 2^32 requests of one series", () => {
    const counters = new SeriesCounters();
    counters.allocate();
    const block = counters.allocate();
    // Skip ahead: every count word of the block one below the wrap, as after 2^32 − 1 requests.
    const words = (counters as unknown as { words: Uint32Array }).words;
    const first = block * 64;
    for (let w = first + 6; w < first + 64; w++) words[w] = 2 ** 32 - 1;
    counters.add(block, 3, 0, 512);
    counters.add(block, 3, 0, 512);
    expect(counters.count(block)).toBe(2 ** 32 + 1);
    const duration = counters.buckets(block, DURATION);
    expect(duration[bucketIndex(3)]).toBe(2 ** 32 + 1);
    expect(counters.count(block - 1)).toBe(0);
  });
});
