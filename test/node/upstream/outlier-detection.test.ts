// Outlier detection through UpstreamCluster with a frozen, hand-advanced clock: what counts as an error,
// ejection and return on the interval tick, ejection time growing and shrinking, maxEjectionPercent,
// panic (minHealthPercent), "no healthy upstream", and retries avoiding tried endpoints.
import { describe, expect, it } from "vitest";
import type { Cluster, Endpoint, LoadBalancer, OutlierDetection } from "../../../edge-proxy/core/config/proxy-config.js";
import { seededRandom } from "../../../edge-proxy/core/routing/seeded-random.js";
import { createUpstreamCluster, OutlierDetector } from "../../../edge-proxy/core/upstream/index.js";
import type { AttemptOutcome, HashInput, UpstreamCluster } from "../../../edge-proxy/core/upstream/types.js";

const noKey: HashInput = { header: () => undefined, cookie: () => undefined, queryParam: () => undefined, sourceIp: undefined };
const OUTLIER: OutlierDetection = { consecutive5xxErrors: 3, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 };

interface Fixture {
  upstream: UpstreamCluster;
  eps: Endpoint[];
  clock: { now: number };
  fail(index: number, times?: number, outcome?: AttemptOutcome): void;
  picked(count?: number, tried?: ReadonlySet<Endpoint>): Set<string>;
}

function fixture(outlier: Partial<OutlierDetection> = {}, count = 4, loadBalancer: LoadBalancer = { kind: "ROUND_ROBIN" }): Fixture {
  const eps = Array.from({ length: count }, (_, i) => ({ address: `10.0.0.${i + 1}`, port: 80, labels: {} }));
  const cluster: Cluster = { name: "outbound|80||svc", host: "svc", port: 80, endpoints: eps, policy: { loadBalancer, outlierDetection: { ...OUTLIER, ...outlier } } };
  const clock = { now: 0 };
  const upstream = createUpstreamCluster(cluster, { now: () => clock.now, random: seededRandom(1) });
  upstream.pick(noKey); // first use at t = 0: interval ticks fall at 10 s, 20 s, ...
  return {
    upstream,
    eps,
    clock,
    fail(index, times = 1, outcome = { kind: "response", status: 500 }) {
      for (let i = 0; i < times; i++) {
        upstream.attemptStarted(eps[index]!);
        upstream.attemptEnded(eps[index]!, outcome);
      }
    },
    picked(picks = 40, tried) {
      const seen = new Set<string>();
      for (let i = 0; i < picks; i++) {
        const choice = upstream.pick(noKey, tried);
        seen.add(choice === undefined ? "none" : choice.endpoint.address);
      }
      return seen;
    },
  };
}
const ok: AttemptOutcome = { kind: "response", status: 200 };
const addresses = (eps: readonly Endpoint[]) => eps.map((e) => e.address);

describe("what counts", () => {
  it("ejects after consecutive5xxErrors 5xx responses, and stops sending to the endpoint", () => {
    const f = fixture();
    f.fail(1, 2);
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(1);
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.2"]);
    expect(f.picked()).toEqual(new Set(["10.0.0.1", "10.0.0.3", "10.0.0.4"]));
  });

  it("counts connect failures, resets and timeouts as 5xx", () => {
    const f = fixture();
    f.fail(0, 1, { kind: "connect-failure" });
    f.fail(0, 1, { kind: "reset" });
    f.fail(0, 1, { kind: "timeout" });
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.1"]);
  });

  it("does not count 4xx, and a response below 500 resets the count", () => {
    const f = fixture();
    f.fail(0, 2);
    f.fail(0, 1, { kind: "response", status: 404 });
    f.fail(0, 2);
    f.fail(0, 5, { kind: "response", status: 429 });
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(0, 2);
    f.fail(0, 1, ok);
    f.fail(0, 2);
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(0, 1);
    expect(f.upstream.ejected()).toHaveLength(1);
  });

  it("ejects after consecutiveGatewayErrors 502/503/504 or local failures, which a plain 500 interrupts", () => {
    const f = fixture({ consecutive5xxErrors: undefined, consecutiveGatewayErrors: 3 });
    f.fail(0, 1, { kind: "response", status: 502 });
    f.fail(0, 1, { kind: "response", status: 503 });
    f.fail(0, 1, { kind: "response", status: 500 });
    f.fail(0, 1, { kind: "response", status: 504 });
    f.fail(0, 1, { kind: "connect-failure" });
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(0, 1, { kind: "timeout" });
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.1"]);
    // 500s alone never trip the gateway counter.
    f.fail(1, 20, { kind: "response", status: 500 });
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.1"]);
  });

  it("ejects nothing when no threshold is set", () => {
    const f = fixture({ consecutive5xxErrors: undefined });
    f.fail(0, 50);
    expect(f.upstream.ejected()).toEqual([]);
    const zero = fixture({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 0 });
    zero.fail(0, 50, { kind: "response", status: 503 });
    expect(zero.upstream.ejected()).toEqual([]);
  });
});

describe("ejection time", () => {
  it("returns the endpoint at the first interval tick after baseEjectionTime", () => {
    const f = fixture();
    f.clock.now = 1_000;
    f.fail(1, 3);
    f.clock.now = 31_000; // ejection over, but Envoy only looks on its 10 s timer
    expect(f.upstream.ejected()).toHaveLength(1);
    f.clock.now = 39_999;
    expect(f.upstream.ejected()).toHaveLength(1);
    f.clock.now = 40_000;
    expect(f.upstream.ejected()).toEqual([]);
    expect(f.picked()).toContain("10.0.0.2");
  });

  it("grows with each ejection: base × times ejected", () => {
    const f = fixture();
    f.clock.now = 1_000;
    f.fail(1, 3);
    f.clock.now = 40_000;
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(1, 3); // second ejection at 40 s: 60 s → due 100 s, a tick
    f.clock.now = 99_999;
    expect(f.upstream.ejected()).toHaveLength(1);
    f.clock.now = 100_000;
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(1, 3); // third, at once: 90 s → 190 s
    f.clock.now = 189_999;
    expect(f.upstream.ejected()).toHaveLength(1);
    f.clock.now = 190_000;
    expect(f.upstream.ejected()).toEqual([]);
  });

  it("restarts the error count when the endpoint returns", () => {
    const f = fixture();
    f.fail(0, 3);
    f.clock.now = 30_000;
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(0, 2);
    expect(f.upstream.ejected()).toEqual([]);
  });

  it("shrinks the multiplier by one for each interval the endpoint stays healthy", () => {
    // Ejected at 0 s (back at 30 s) and again at 30 s: multiplier 2, out for 60 s, back at 90 s.
    // Healthy through the 100 s tick only: multiplier 1.
    const soon = fixture();
    soon.fail(1, 3);
    soon.clock.now = 30_000;
    soon.upstream.ejected();
    soon.fail(1, 3);
    soon.clock.now = 90_000;
    expect(soon.upstream.ejected()).toEqual([]);
    soon.clock.now = 105_000;
    soon.fail(1, 3); // multiplier 1 → 2: out for 60 s → due 165 s → back at the 170 s tick
    soon.clock.now = 169_999;
    expect(soon.upstream.ejected()).toHaveLength(1);
    soon.clock.now = 170_000;
    expect(soon.upstream.ejected()).toEqual([]);

    // Same, but healthy through the 100 s and 110 s ticks: multiplier 0, so the next ejection is 30 s.
    const later = fixture();
    later.fail(1, 3);
    later.clock.now = 30_000;
    later.upstream.ejected();
    later.fail(1, 3);
    later.clock.now = 115_000;
    later.fail(1, 3); // 0 → 1: out for 30 s → due 145 s → back at 150 s
    later.clock.now = 149_999;
    expect(later.upstream.ejected()).toHaveLength(1);
    later.clock.now = 150_000;
    expect(later.upstream.ejected()).toEqual([]);
  });

  it("ignores late failures of an endpoint already out", () => {
    const f = fixture();
    f.fail(0, 3);
    f.clock.now = 20_000;
    f.fail(0, 6);
    f.clock.now = 30_000;
    expect(f.upstream.ejected()).toEqual([]);
  });
});

describe("OutlierDetector ticks", () => {
  it("replays many elapsed intervals at once and never lets the multiplier go below 0", () => {
    const detector = new OutlierDetector(OUTLIER, 3);
    detector.advance(0);
    for (let i = 0; i < 3; i++) detector.record(0, { kind: "response", status: 503 }, 0);
    expect(detector.ejectedCount).toBe(1);
    expect(detector.ejectionMultiplier(0)).toBe(1);
    detector.advance(10 ** 9);
    expect(detector.ejectedCount).toBe(0);
    expect(detector.ejectionMultiplier(0)).toBe(0);
  });

  it("caps the ejection time at Envoy's default max_ejection_time (300 s)", () => {
    const detector = new OutlierDetector({ ...OUTLIER, baseEjectionTimeMs: 200_000 }, 2);
    detector.advance(0);
    let now = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) detector.record(1, { kind: "response", status: 500 }, now);
      expect(detector.ejectedCount).toBe(1);
      // Out for min(200 s × round, 300 s): back by the next tick after that.
      const out = Math.min(200_000 * (round + 1), 300_000);
      detector.advance(now + out - 1);
      expect(detector.ejectedCount).toBe(1);
      now = Math.ceil((now + out) / 10_000) * 10_000;
      detector.advance(now);
      expect(detector.ejectedCount).toBe(0);
    }
  });
});

describe("maxEjectionPercent", () => {
  it("ejects only while (ejected + 1) / endpoints stays within it", () => {
    const f = fixture({ maxEjectionPercent: 50 });
    f.fail(0, 3);
    f.fail(1, 3);
    f.fail(2, 3);
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(f.picked()).toEqual(new Set(["10.0.0.3", "10.0.0.4"]));
  });

  it("ejects none when one endpoint is already more than the percent (Envoy ≥ 1.27, no always_eject_one_host)", () => {
    const f = fixture({ maxEjectionPercent: 10 });
    f.fail(0, 3);
    expect(f.upstream.ejected()).toEqual([]);
    const big = fixture({ maxEjectionPercent: 10 }, 10);
    big.fail(0, 3);
    big.fail(1, 3);
    expect(addresses(big.upstream.ejected())).toEqual(["10.0.0.1"]);
  });

  it("tries again after another run of errors once the refusal is over", () => {
    const f = fixture({ maxEjectionPercent: 25 });
    f.fail(0, 3);
    f.fail(1, 3); // refused: 2 of 4 > 25%
    f.clock.now = 30_000;
    expect(f.upstream.ejected()).toEqual([]);
    f.fail(1, 3);
    expect(addresses(f.upstream.ejected())).toEqual(["10.0.0.2"]);
  });
});

describe("panic and no healthy upstream", () => {
  it("balances over every endpoint when fewer than minHealthPercent are healthy", () => {
    const f = fixture({ minHealthPercent: 50 });
    f.fail(0, 3);
    f.fail(1, 3);
    // 50% healthy is not below 50%: ejections still hold.
    expect(f.picked()).toEqual(new Set(["10.0.0.3", "10.0.0.4"]));
    f.fail(2, 3);
    // 25% healthy: panic, all four in play.
    expect(f.upstream.ejected()).toHaveLength(3);
    expect(f.picked()).toEqual(new Set(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]));
  });

  it("answers no endpoint (503 UH) when all are ejected and minHealthPercent is 0", () => {
    const f = fixture({}, 2, { kind: "LEAST_REQUEST" });
    f.fail(0, 3);
    f.fail(1, 3);
    expect(f.upstream.pick(noKey)).toBeUndefined();
    f.clock.now = 30_000;
    expect(f.upstream.pick(noKey)).toBeDefined();
  });

  it("panics with every endpoint ejected when minHealthPercent is above 0", () => {
    const f = fixture({ minHealthPercent: 1 }, 2);
    f.fail(0, 3);
    f.fail(1, 3);
    expect(f.picked()).toEqual(new Set(["10.0.0.1", "10.0.0.2"]));
  });
});

describe("retries", () => {
  for (const loadBalancer of [{ kind: "ROUND_ROBIN" }, { kind: "RANDOM" }, { kind: "LEAST_REQUEST" }, { kind: "MAGLEV", hashOn: { header: "x" } }, { kind: "RING_HASH", hashOn: { header: "x" } }] as LoadBalancer[]) {
    it(`${loadBalancer.kind} avoids tried and ejected endpoints, falling back to tried healthy ones`, () => {
      const f = fixture({}, 3, loadBalancer);
      f.fail(0, 3);
      expect(f.picked(30, new Set([f.eps[1]!]))).toEqual(new Set(["10.0.0.3"]));
      expect(f.picked(30, new Set([f.eps[1]!, f.eps[2]!]))).toEqual(new Set(["10.0.0.2", "10.0.0.3"]));
    });
  }
});

describe("config checks", () => {
  it("refuses a non-positive interval or an out-of-range percentage, naming the field", () => {
    expect(() => fixture({ intervalMs: 0 })).toThrow(expect.objectContaining({ code: "ERR_UPSTREAM_OUTLIER_DETECTION_INVALID", field: "policy.outlierDetection.intervalMs" }));
    expect(() => fixture({ maxEjectionPercent: 101 })).toThrow(expect.objectContaining({ field: "policy.outlierDetection.maxEjectionPercent" }));
    expect(() => fixture({ consecutive5xxErrors: -1 })).toThrow(expect.objectContaining({ field: "policy.outlierDetection.consecutive5xxErrors" }));
  });
});
