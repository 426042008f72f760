// Weighted destination choice with an injected random source, and the seeded PRNG tests and benches use.
import { describe, expect, it } from "vitest";
import type { WeightedDestination } from "../../../edge-proxy/core/config/proxy-config.js";
import { routeRequest } from "../../../edge-proxy/core/routing/match-request.js";
import { pickDestination } from "../../../edge-proxy/core/routing/pick-destination.js";
import { createRouteTable } from "../../../edge-proxy/core/routing/route-table.js";
import { seededRandom } from "../../../edge-proxy/core/routing/seeded-random.js";
import { listener, proxyConfig, request, route, to, virtualHost } from "./build-config.js";

function share(destinations: WeightedDestination[], picks: number, seed: number): Map<string, number> {
  const random = seededRandom(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const cluster = pickDestination(destinations, random).cluster;
    counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
  }
  return new Map([...counts].map(([cluster, count]) => [cluster, (100 * count) / picks]));
}

describe("pickDestination", () => {
  it("splits 90/10 within ±3 points over 10,000 picks of a routed decision", () => {
    const table = createRouteTable(
      proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [route("split", [], to(["v1", 90], ["v2", 10]))]))]),
    );
    const decision = routeRequest(table, request());
    expect(decision?.route.action.kind).toBe("route");
    if (decision?.route.action.kind !== "route") return;
    for (const seed of [1, 42, 20240601]) {
      const percent = share(decision.route.action.destinations, 10_000, seed);
      expect(Math.abs((percent.get("v1") ?? 0) - 90)).toBeLessThanOrEqual(3);
      expect(Math.abs((percent.get("v2") ?? 0) - 10)).toBeLessThanOrEqual(3);
    }
  });
  it("splits three ways, also for a list the table never saw", () => {
    const percent = share([{ cluster: "a", weight: 50 }, { cluster: "b", weight: 30 }, { cluster: "c", weight: 20 }], 10_000, 7);
    expect(Math.abs((percent.get("a") ?? 0) - 50)).toBeLessThanOrEqual(3);
    expect(Math.abs((percent.get("b") ?? 0) - 30)).toBeLessThanOrEqual(3);
    expect(Math.abs((percent.get("c") ?? 0) - 20)).toBeLessThanOrEqual(3);
  });
  it("splits a long list (cumulative weights prepared at table build, bisected) as weighted", () => {
    const destinations: WeightedDestination[] = Array.from({ length: 12 }, (_, i) => ({ cluster: `c${i}`, weight: i === 0 ? 45 : i === 11 ? 0 : 5 }));
    const table = createRouteTable(
      proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [route("many", [], { kind: "route", destinations })]))]),
    );
    const decision = routeRequest(table, request());
    expect(decision?.route.action).toEqual({ kind: "route", destinations });
    const percent = share(destinations, 20_000, 11);
    expect(Math.abs((percent.get("c0") ?? 0) - 45)).toBeLessThanOrEqual(3);
    for (let i = 1; i < 11; i++) expect(Math.abs((percent.get(`c${i}`) ?? 0) - 5)).toBeLessThanOrEqual(1.5);
    expect(percent.has("c11")).toBe(false);
    expect(pickDestination(destinations, () => 0.999999).cluster).toBe("c10");
    expect(pickDestination(destinations, () => 1).cluster).toBe("c10");
  });
  it("never picks a zero-weight destination", () => {
    const percent = share([{ cluster: "off", weight: 0 }, { cluster: "on", weight: 100 }, { cluster: "off2", weight: 0 }], 2_000, 3);
    expect([...percent.keys()]).toEqual(["on"]);
  });
  it("uses the boundaries of the random range correctly", () => {
    const destinations = [{ cluster: "a", weight: 90 }, { cluster: "b", weight: 10 }];
    expect(pickDestination(destinations, () => 0).cluster).toBe("a");
    expect(pickDestination(destinations, () => 0.8999).cluster).toBe("a");
    expect(pickDestination(destinations, () => 0.9).cluster).toBe("b");
    expect(pickDestination(destinations, () => 0.999999).cluster).toBe("b");
    expect(pickDestination(destinations, () => 1).cluster).toBe("b");
  });
  it("returns a single destination without drawing a number", () => {
    let draws = 0;
    const only = { cluster: "only", weight: 100 };
    expect(pickDestination([only], () => ++draws)).toBe(only);
    expect(draws).toBe(0);
  });
  it("refuses an empty list", () => {
    expect(() => pickDestination([], Math.random)).toThrow(TypeError);
  });
});

describe("seededRandom", () => {
  it("repeats its sequence for a seed and differs between seeds", () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const c = seededRandom(124);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });
  it("stays in [0, 1) and spreads evenly", () => {
    const random = seededRandom(99);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 10)]! += 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
  it("refuses a seed that is not a finite number", () => {
    expect(() => seededRandom(Number.NaN)).toThrow(TypeError);
  });
});
