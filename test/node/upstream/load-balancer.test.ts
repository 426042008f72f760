// ROUND_ROBIN, RANDOM, PASSTHROUGH and LEAST_REQUEST through the real UpstreamCluster, with seeded
// randomness: order, weights, distribution, two-choice preference, tried-avoidance and pick cost.
import { describe, expect, it } from "vitest";
import type { Cluster, Endpoint, LoadBalancer, TrafficPolicy } from "../../../edge-proxy/core/config/proxy-config.js";
import { seededRandom } from "../../../edge-proxy/core/routing/seeded-random.js";
import { buildSchedule } from "../../../edge-proxy/core/upstream/round-robin.js";
import type { HashInput } from "../../../edge-proxy/core/upstream/types.js";
import { createLoadBalancer, createUpstreamCluster, createUpstreams, UpstreamConfigError } from "../../../edge-proxy/core/upstream/index.js";

function endpoints(weights: (number | undefined)[]): Endpoint[] {
  return weights.map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 8080, labels: {}, ...(weight === undefined ? {} : { weight }) }));
}
function cluster(loadBalancer: LoadBalancer, eps: Endpoint[], extra: Partial<TrafficPolicy> = {}, name = "outbound|8080||svc.default.svc.cluster.local"): Cluster {
  return { name, host: "svc.default.svc.cluster.local", port: 8080, endpoints: eps, policy: { loadBalancer, ...extra } };
}
const noKey: HashInput = { header: () => undefined, cookie: () => undefined, queryParam: () => undefined, sourceIp: undefined };
const options = (seed = 1) => ({ now: () => 0, random: seededRandom(seed) });
const address = (e: Endpoint | undefined) => e?.address;

function shares(picks: (Endpoint | undefined)[]): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const e of picks) counts.set(address(e), (counts.get(address(e)) ?? 0) + 1);
  return new Map([...counts].map(([k, v]) => [k, v / picks.length]));
}

describe("ROUND_ROBIN", () => {
  it("visits every endpoint once per round, in order, from a random start", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([undefined, undefined, undefined, undefined])), options(7));
    const picks = Array.from({ length: 8 }, () => address(upstream.pick(noKey)?.endpoint));
    const start = Number(picks[0]!.split(".")[3]) - 1;
    expect(picks).toEqual(Array.from({ length: 8 }, (_, k) => `10.0.0.${((start + k) % 4) + 1}`));
  });

  it("starts at different places for different random sources", () => {
    const starts = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => address(createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([1, 1, 1, 1])), options(seed)).pick(noKey)?.endpoint)),
    );
    expect(starts.size).toBeGreaterThan(1);
  });

  it("gives each endpoint turns in proportion to its weight, interleaved", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([1, 2, 3])), options());
    const picks = Array.from({ length: 600 }, () => upstream.pick(noKey)?.endpoint);
    const s = shares(picks);
    expect(s.get("10.0.0.1")).toBeCloseTo(1 / 6, 5);
    expect(s.get("10.0.0.2")).toBeCloseTo(2 / 6, 5);
    expect(s.get("10.0.0.3")).toBeCloseTo(3 / 6, 5);
    // EDF order: never the heaviest endpoint three times running in a round of 1:2:3.
    expect([...buildSchedule([1, 2, 3])]).toEqual([2, 1, 2, 0, 1, 2]);
  });

  it("reads a 0 weight as the default 1", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([0, 1])), options());
    const s = shares(Array.from({ length: 100 }, () => upstream.pick(noKey)?.endpoint));
    expect(s.get("10.0.0.1")).toBeCloseTo(0.5, 5);
  });

  it("reduces weights by their common divisor and caps the schedule", () => {
    expect(buildSchedule([100, 200]).length).toBe(3);
    expect(buildSchedule([1, 1_000_000]).length).toBeLessThanOrEqual(65_536 + 1);
  });

  it("steps over tried endpoints without doubling the next one's share", () => {
    const eps = endpoints([1, 1, 1, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, eps), options());
    const tried = new Set([eps[1]!]);
    const picks = Array.from({ length: 300 }, () => upstream.pick(noKey, tried)?.endpoint);
    const s = shares(picks);
    expect(s.get("10.0.0.2")).toBeUndefined();
    for (const a of ["10.0.0.1", "10.0.0.3", "10.0.0.4"]) expect(s.get(a)).toBeCloseTo(1 / 3, 5);
  });

  it("takes a tried endpoint again when every endpoint was tried", () => {
    const eps = endpoints([1, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, eps), options());
    expect(upstream.pick(noKey, new Set(eps))).toBeDefined();
  });
});

describe("RANDOM and PASSTHROUGH", () => {
  for (const kind of ["RANDOM", "PASSTHROUGH"] as const) {
    it(`${kind} spreads evenly over equal weights`, () => {
      const upstream = createUpstreamCluster(cluster({ kind }, endpoints([1, 1, 1, 1])), options(42));
      const s = shares(Array.from({ length: 20_000 }, () => upstream.pick(noKey)?.endpoint));
      for (const share of s.values()) {
        expect(share).toBeGreaterThan(0.23);
        expect(share).toBeLessThan(0.27);
      }
    });
  }

  it("follows the weights", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "RANDOM" }, endpoints([1, 3])), options(3));
    const s = shares(Array.from({ length: 20_000 }, () => upstream.pick(noKey)?.endpoint));
    expect(s.get("10.0.0.2")).toBeGreaterThan(0.72);
    expect(s.get("10.0.0.2")).toBeLessThan(0.78);
  });

  it("is repeatable for the same seed", () => {
    const run = () => {
      const upstream = createUpstreamCluster(cluster({ kind: "RANDOM" }, endpoints([1, 1, 1])), options(9));
      return Array.from({ length: 20 }, () => address(upstream.pick(noKey)?.endpoint));
    };
    expect(run()).toEqual(run());
  });

  it("avoids tried endpoints", () => {
    const eps = endpoints([1, 5, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "RANDOM" }, eps), options(5));
    const tried = new Set([eps[1]!]);
    const s = shares(Array.from({ length: 2_000 }, () => upstream.pick(noKey, tried)?.endpoint));
    expect(s.get("10.0.0.2")).toBeUndefined();
    expect(s.get("10.0.0.1")).toBeGreaterThan(0.4);
  });
});

describe("LEAST_REQUEST", () => {
  it("prefers the less loaded of the two draws", () => {
    const eps = endpoints([1, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "LEAST_REQUEST" }, eps), options(11));
    for (let i = 0; i < 5; i++) upstream.attemptStarted(eps[0]!);
    const s = shares(Array.from({ length: 4_000 }, () => upstream.pick(noKey)?.endpoint));
    // Endpoint 1 only wins when both draws land on it: 1/4.
    expect(s.get("10.0.0.1")).toBeGreaterThan(0.22);
    expect(s.get("10.0.0.1")).toBeLessThan(0.28);
    for (let i = 0; i < 5; i++) upstream.attemptEnded(eps[0]!, { kind: "response", status: 200 });
    const even = shares(Array.from({ length: 4_000 }, () => upstream.pick(noKey)?.endpoint));
    expect(even.get("10.0.0.1")).toBeGreaterThan(0.45);
  });

  it("balances load when attempts stay open", () => {
    const eps = endpoints([1, 1, 1, 1, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "LEAST_REQUEST" }, eps), options(4));
    const open = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const e = upstream.pick(noKey)!.endpoint;
      upstream.attemptStarted(e);
      open.set(e.address, (open.get(e.address) ?? 0) + 1);
    }
    const counts = [...open.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(3);
  });

  it("weighs the load by endpoint weight when weights differ", () => {
    const eps = endpoints([1, 4]);
    const upstream = createUpstreamCluster(cluster({ kind: "LEAST_REQUEST" }, eps), options(8));
    const open = [0, 0];
    for (let i = 0; i < 1_000; i++) {
      const e = upstream.pick(noKey)!.endpoint;
      upstream.attemptStarted(e);
      open[e === eps[0] ? 0 : 1]!++;
    }
    expect(open[1]! / open[0]!).toBeGreaterThan(3);
    expect(open[1]! / open[0]!).toBeLessThan(5);
  });

  it("picks as the balancer does, with attempts open, for clusters of any size (the cluster's own fast paths)", () => {
    for (const n of [1, 2, 3, 4, 5, 9]) {
      const eps = endpoints(Array.from({ length: n }, () => 1));
      const c = cluster({ kind: "LEAST_REQUEST" }, eps);
      const upstream = createUpstreamCluster(c, options(n));
      const active = new Int32Array(n);
      const random = seededRandom(n);
      const balancer = createLoadBalancer(c, { names: eps.map((e) => `${e.address}:${e.port}`), weights: eps.map(() => 1), active, random });
      const all = { all: true, allows: () => true };
      for (let i = 0; i < 300; i++) {
        const picked = upstream.pick(noKey)!.endpoint;
        const expected = balancer.pick(all, 0);
        expect(picked).toBe(eps[expected]);
        // Attempts open on the picked endpoint and close now and then, in both.
        upstream.attemptStarted(picked);
        active[expected]!++;
        if (i % 3 === 0) {
          const done = eps[i % n]!;
          upstream.attemptEnded(done, { kind: "response", status: 200 });
          if (active[i % n]! > 0) active[i % n]!--;
        }
      }
    }
  });

  it("counts copies of an endpoint by address and ignores strangers", () => {
    const eps = endpoints([1, 1]);
    const upstream = createUpstreamCluster(cluster({ kind: "LEAST_REQUEST" }, eps), options(2));
    for (let i = 0; i < 3; i++) upstream.attemptStarted({ ...eps[0]! });
    upstream.attemptStarted({ address: "192.168.0.9", port: 1, labels: {} });
    const s = shares(Array.from({ length: 1_000 }, () => upstream.pick(noKey)?.endpoint));
    expect(s.get("10.0.0.2")).toBeGreaterThan(0.7);
  });
});

describe("cluster basics", () => {
  it("returns undefined (503 UH) for a cluster without endpoints", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, []), options());
    expect(upstream.pick(noKey)).toBeUndefined();
    expect(upstream.ejected()).toEqual([]);
  });

  it("exposes maxRequestsPerConnection (0 = unlimited)", () => {
    expect(createUpstreamCluster(cluster({ kind: "RANDOM" }, endpoints([1])), options()).maxRequestsPerConnection).toBe(0);
    const limited = createUpstreamCluster(cluster({ kind: "RANDOM" }, endpoints([1]), { connectionPool: { maxRequestsPerConnection: 10 } }), options());
    expect(limited.maxRequestsPerConnection).toBe(10);
  });

  it("reuses the endpoint choice object when no cookie is set", () => {
    const upstream = createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([1])), options());
    expect(upstream.pick(noKey)).toBe(upstream.pick(noKey));
  });

  it("refuses bad weights and pool limits with a named error", () => {
    const bad = () => createUpstreamCluster(cluster({ kind: "ROUND_ROBIN" }, endpoints([1, 1.5])), options());
    expect(bad).toThrow(UpstreamConfigError);
    expect(bad).toThrow(expect.objectContaining({ code: "ERR_UPSTREAM_ENDPOINT_INVALID", field: "endpoints[1].weight" }));
    const pool = () => createUpstreamCluster(cluster({ kind: "RANDOM" }, endpoints([1]), { connectionPool: { maxConnections: -1 } }), options());
    expect(pool).toThrow(expect.objectContaining({ code: "ERR_UPSTREAM_CONNECTION_POOL_INVALID", field: "policy.connectionPool.maxConnections" }));
  });

  it("builds one state per cluster and refuses a repeated name", () => {
    const a = cluster({ kind: "RANDOM" }, endpoints([1]), {}, "a");
    const b = cluster({ kind: "ROUND_ROBIN" }, endpoints([1, 1]), {}, "b");
    const upstreams = createUpstreams([a, b], options());
    expect([...upstreams.keys()]).toEqual(["a", "b"]);
    expect(upstreams.get("b")?.cluster).toBe(b);
    expect(() => createUpstreams([a, a], options())).toThrow(expect.objectContaining({ code: "ERR_UPSTREAM_CLUSTER_DUPLICATE" }));
  });
});

describe("pick cost", () => {
  // Generous bounds so a loaded CI machine does not flake; locally these run at tens of nanoseconds.
  const kinds: LoadBalancer[] = [
    { kind: "ROUND_ROBIN" },
    { kind: "LEAST_REQUEST" },
    { kind: "RANDOM" },
    { kind: "MAGLEV", hashOn: { header: "x-user" } },
    { kind: "RING_HASH", hashOn: { header: "x-user" } },
  ];
  for (const lb of kinds) {
    it(`${lb.kind} picks among 10 endpoints in well under a microsecond`, () => {
      const upstream = createUpstreamCluster(
        cluster(lb, endpoints(Array.from({ length: 10 }, () => 1)), { outlierDetection: { consecutive5xxErrors: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 } }),
        { now: () => 0, random: Math.random },
      );
      const input: HashInput = { header: () => "user-12345", cookie: () => undefined, queryParam: () => undefined, sourceIp: "10.1.2.3" };
      const rounds = 200_000;
      for (let i = 0; i < rounds; i++) upstream.pick(input);
      const start = performance.now();
      for (let i = 0; i < rounds; i++) upstream.pick(input);
      const perPickNs = ((performance.now() - start) * 1e6) / rounds;
      expect(perPickNs).toBeLessThan(1_000);
    });
  }
});
