// RING_HASH and MAGLEV: the hash function, stickiness per hash key kind, Envoy's generated cookie, balance,
// minimal remapping when an endpoint leaves, walking past ejected or tried endpoints, and config checks.
import { describe, expect, it } from "vitest";
import type { Cluster, Endpoint, LoadBalancer, OutlierDetection } from "../../../edge-proxy/core/config/proxy-config.js";
import { seededRandom } from "../../../edge-proxy/core/routing/seeded-random.js";
import { createUpstreamCluster, isPrime, murmur3, UpstreamConfigError } from "../../../edge-proxy/core/upstream/index.js";
import { createMaglev } from "../../../edge-proxy/core/upstream/maglev.js";
import { createRingHash } from "../../../edge-proxy/core/upstream/ring-hash.js";
import type { HashInput, UpstreamCluster } from "../../../edge-proxy/core/upstream/types.js";

type HashOn = Extract<LoadBalancer, { hashOn: unknown }>["hashOn"];

function endpoints(count: number, from = 1): Endpoint[] {
  return Array.from({ length: count }, (_, i) => ({ address: `10.0.0.${from + i}`, port: 8080, labels: {} }));
}
function cluster(kind: "RING_HASH" | "MAGLEV", hashOn: HashOn, eps: Endpoint[], outlierDetection?: OutlierDetection, sizes: { minimumRingSize?: number; tableSize?: number } = {}): Cluster {
  return { name: "outbound|8080||svc", host: "svc", port: 8080, endpoints: eps, policy: { loadBalancer: { kind, hashOn, ...sizes }, ...(outlierDetection ? { outlierDetection } : {}) } };
}
function input(parts: { headers?: Record<string, string>; cookies?: Record<string, string>; query?: Record<string, string>; sourceIp?: string }): HashInput {
  return {
    header: (name) => parts.headers?.[name],
    cookie: (name) => parts.cookies?.[name],
    queryParam: (name) => parts.query?.[name],
    sourceIp: parts.sourceIp,
  };
}
const options = (seed = 1, now = () => 0) => ({ now, random: seededRandom(seed) });
const KINDS = ["RING_HASH", "MAGLEV"] as const;

/** Reference MurmurHash3 x86_32 over bytes, to check the allocation-free UTF-16 → UTF-8 path. */
function murmurBytes(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  for (let b = 0; b < blocks; b++) {
    let k = bytes[b * 4]! | (bytes[b * 4 + 1]! << 8) | (bytes[b * 4 + 2]! << 16) | (bytes[b * 4 + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks * 4;
  switch (bytes.length & 3) {
    case 3:
      k ^= bytes[tail + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[tail + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[tail]!;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe("murmur3", () => {
  it("matches the published MurmurHash3_x86_32 vectors", () => {
    expect(murmur3("")).toBe(0);
    expect(murmur3("", 1)).toBe(0x514e28b7);
    expect(murmur3("", 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3("test")).toBe(0xba6bd213);
    expect(murmur3("Hello, world!")).toBe(0xc0363e43);
    expect(murmur3("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
  });

  it("hashes the UTF-8 bytes, as TextEncoder writes them", () => {
    for (const text of ["a", "ab", "abc", "é", "日本語のキー", "emoji 🎉 key", "lone \ud800 surrogate", "x".repeat(1001)]) {
      expect(murmur3(text, 7)).toBe(murmurBytes(new TextEncoder().encode(text), 7));
    }
  });
});

describe.each(KINDS)("%s stickiness", (kind) => {
  const eps = endpoints(5);
  const cases: { name: string; hashOn: HashOn; request: (key: string) => HashInput }[] = [
    { name: "header", hashOn: { header: "x-user" }, request: (key) => input({ headers: { "x-user": key } }) },
    { name: "cookie", hashOn: { cookie: { name: "session" } }, request: (key) => input({ cookies: { session: key } }) },
    { name: "source IP", hashOn: { sourceIp: true }, request: (key) => input({ sourceIp: key }) },
    { name: "query parameter", hashOn: { queryParameter: "user" }, request: (key) => input({ query: { user: key } }) },
  ];
  for (const { name, hashOn, request } of cases) {
    it(`sends the same ${name} to the same endpoint, from any proxy`, () => {
      const a = createUpstreamCluster(cluster(kind, hashOn, eps), options(1));
      const b = createUpstreamCluster(cluster(kind, hashOn, eps), options(2));
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const key = `key-${i}`;
        const first = a.pick(request(key))!.endpoint;
        expect(a.pick(request(key))!.endpoint).toBe(first);
        expect(b.pick(request(key))!.endpoint.address).toBe(first.address);
        seen.add(first.address);
      }
      expect(seen.size).toBe(5);
    });
  }

  it("picks at random when the header is absent", () => {
    const upstream = createUpstreamCluster(cluster(kind, { header: "x-user" }, eps), options(3));
    const seen = new Set(Array.from({ length: 100 }, () => upstream.pick(input({}))!.endpoint.address));
    expect(seen.size).toBeGreaterThan(3);
  });

  it("picks at random, setting no cookie, when the cookie is absent and no ttl is given", () => {
    const upstream = createUpstreamCluster(cluster(kind, { cookie: { name: "session" } }, eps), options(3));
    const choices = Array.from({ length: 100 }, () => upstream.pick(input({}))!);
    expect(choices.every((c) => c.setCookie === undefined)).toBe(true);
    expect(new Set(choices.map((c) => c.endpoint.address)).size).toBeGreaterThan(3);
  });
});

describe.each(KINDS)("%s generated cookie", (kind) => {
  const eps = endpoints(5);
  const policy: HashOn = { cookie: { name: "session", path: "/api", ttlMs: 3_600_500 } };

  it("generates a hex cookie in Envoy's Set-Cookie form and hashes on it", () => {
    const upstream = createUpstreamCluster(cluster(kind, policy, eps), options(5));
    const choice = upstream.pick(input({}))!;
    expect(choice.setCookie).toMatch(/^session=[0-9a-f]{16}; Max-Age=3600; Path=\/api; HttpOnly$/);
    const value = /^session=([0-9a-f]+);/.exec(choice.setCookie!)![1]!;
    for (let i = 0; i < 10; i++) {
      const next = upstream.pick(input({ cookies: { session: value } }))!;
      expect(next.endpoint).toBe(choice.endpoint);
      expect(next.setCookie).toBeUndefined();
    }
  });

  it("keeps the generated cookie for the retries of the same request", () => {
    const upstream = createUpstreamCluster(cluster(kind, policy, eps), options(6));
    const request = input({});
    const first = upstream.pick(request)!;
    const retry = upstream.pick(request, new Set([first.endpoint]))!;
    expect(retry.setCookie).toBe(first.setCookie);
    expect(retry.endpoint).not.toBe(first.endpoint);
    expect(upstream.pick(input({}))!.setCookie).not.toBe(first.setCookie);
  });

  it("makes a session cookie for a zero ttl and leaves out an absent path", () => {
    const upstream = createUpstreamCluster(cluster(kind, { cookie: { name: "s", ttlMs: 0 } }, eps), options(7));
    expect(upstream.pick(input({}))!.setCookie).toMatch(/^s=[0-9a-f]{16}; HttpOnly$/);
  });
});

/** Endpoint address per key for `keys`, through a fresh cluster. */
function mapping(upstream: UpstreamCluster, keys: string[]): string[] {
  return keys.map((key) => upstream.pick(input({ headers: { "x-user": key } }))!.endpoint.address);
}
const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}-${(i * 2654435761) >>> 0}`);

describe.each(KINDS)("%s balance and remapping", (kind) => {
  it("gives each of 4 endpoints 15–35% of 10,000 keys", () => {
    const upstream = createUpstreamCluster(cluster(kind, { header: "x-user" }, endpoints(4)), options());
    const counts = new Map<string, number>();
    for (const a of mapping(upstream, KEYS)) counts.set(a, (counts.get(a) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const count of counts.values()) {
      expect(count / KEYS.length).toBeGreaterThan(0.15);
      expect(count / KEYS.length).toBeLessThan(0.35);
    }
  });

  it("moves only about 1/N of the keys when one of N endpoints leaves", () => {
    const all = endpoints(5);
    const before = mapping(createUpstreamCluster(cluster(kind, { header: "x-user" }, all), options()), KEYS);
    const remaining = all.filter((_, i) => i !== 2);
    const after = mapping(createUpstreamCluster(cluster(kind, { header: "x-user" }, remaining), options()), KEYS);
    let moved = 0;
    let movedElsewhere = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        if (before[i] !== "10.0.0.3") movedElsewhere++;
      }
    }
    // The leaving endpoint held ~1/5 of the keys; they must move, and few others.
    expect(moved / KEYS.length).toBeGreaterThan(0.12);
    expect(moved / KEYS.length).toBeLessThan(0.3);
    expect(movedElsewhere / KEYS.length).toBeLessThan(kind === "RING_HASH" ? 0.001 : 0.05);
  });

  it("sends the keys of an ejected endpoint on to others and leaves the rest in place", () => {
    let now = 0;
    const eps = endpoints(5);
    const outlier: OutlierDetection = { consecutive5xxErrors: 1, intervalMs: 1_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 };
    const upstream = createUpstreamCluster(cluster(kind, { header: "x-user" }, eps, outlier), options(1, () => now));
    const keys = KEYS.slice(0, 2_000);
    const before = mapping(upstream, keys);
    upstream.attemptEnded(eps[2]!, { kind: "response", status: 503 });
    expect(upstream.ejected()).toEqual([eps[2]]);
    const during = mapping(upstream, keys);
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === "10.0.0.3") expect(during[i]).not.toBe("10.0.0.3");
      else expect(during[i]).toBe(before[i]);
    }
    now = 31_000;
    expect(mapping(upstream, keys)).toEqual(before);
  });

  it("walks on to another endpoint for a retry, the same one for the same key", () => {
    const eps = endpoints(5);
    const upstream = createUpstreamCluster(cluster(kind, { header: "x-user" }, eps), options());
    for (const key of KEYS.slice(0, 100)) {
      const request = input({ headers: { "x-user": key } });
      const first = upstream.pick(request)!.endpoint;
      const second = upstream.pick(request, new Set([first]))!.endpoint;
      expect(second).not.toBe(first);
      expect(upstream.pick(request, new Set([first]))!.endpoint).toBe(second);
      const third = upstream.pick(request, new Set([first, second]))!.endpoint;
      expect([first, second]).not.toContain(third);
    }
  });
});

describe("ring and table construction", () => {
  it("puts at least minimumRingSize points on the ring, spread by weight", () => {
    const names = ["a:1", "b:1", "c:1"];
    const ring = createRingHash(names, [1, 1, 2], 1024);
    expect(ring.size).toBeGreaterThanOrEqual(1024);
    const small = createRingHash(names, [1, 1, 1], 8);
    expect(small.size).toBeGreaterThanOrEqual(8);
    // Extreme weight ratios stay within Weft's ring limit (2^20 points).
    const skewed = createRingHash(["a:1", "b:1"], [1, 2 ** 32 - 1], 1024);
    expect(skewed.size).toBeLessThanOrEqual(1024 * 1024 + 2);
  });

  it("fills every Maglev slot, in proportion to weight", () => {
    const maglev = createMaglev(["a:1", "b:1", "c:1"], [1, 1, 2], 65_537);
    const counts = [0, 0, 0];
    for (let s = 0; s < maglev.tableSize; s++) counts[maglev.slot(s)]!++;
    expect(counts.reduce((a, b) => a + b)).toBe(65_537);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(1.9);
    expect(counts[2]! / counts[0]!).toBeLessThan(2.1);
  });

  it("honours a smaller prime table size", () => {
    const upstream = createUpstreamCluster(cluster("MAGLEV", { header: "x-user" }, endpoints(3), undefined, { tableSize: 251 }), options());
    expect(new Set(mapping(upstream, KEYS.slice(0, 500))).size).toBe(3);
  });

  it("refuses a Maglev table size that is not prime, naming the field", () => {
    const build = () => createUpstreamCluster(cluster("MAGLEV", { header: "x-user" }, endpoints(3), undefined, { tableSize: 65_536 }), options());
    expect(build).toThrow(UpstreamConfigError);
    expect(build).toThrow(expect.objectContaining({ code: "ERR_UPSTREAM_LOAD_BALANCER_INVALID", field: "policy.loadBalancer.tableSize", cluster: "outbound|8080||svc" }));
    expect(() => createUpstreamCluster(cluster("MAGLEV", { header: "x" }, endpoints(1), undefined, { tableSize: 5_000_101 }), options())).toThrow(UpstreamConfigError);
  });

  it("refuses a ring size out of range", () => {
    const build = () => createUpstreamCluster(cluster("RING_HASH", { header: "x-user" }, endpoints(3), undefined, { minimumRingSize: 0 }), options());
    expect(build).toThrow(expect.objectContaining({ field: "policy.loadBalancer.minimumRingSize" }));
  });

  it("knows its primes", () => {
    expect([2, 3, 251, 65_537, 5_000_011].every(isPrime)).toBe(true);
    expect([0, 1, 4, 65_536, 1.5, 65_535].some(isPrime)).toBe(false);
  });
});
