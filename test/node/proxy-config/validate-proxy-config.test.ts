/**
 * @module test/node/proxy-config/validate-proxy-config
 * What a proxy refuses before using a config: anything off the strict shape, and references that
 * do not hold (unknown clusters, weights not summing to 100, misnamed or duplicate clusters,
 * duplicate listener ports). Each error names the field.
 */
import { describe, expect, it } from "vitest";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "../../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";
import { build, sidecar, vs } from "./support.js";

function valid(): ProxyConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "productpage" }, gateways: ["mesh"] },
    listeners: [
      {
        port: 0,
        virtualHosts: [
          {
            name: "default/reviews",
            domains: ["reviews.default.svc.cluster.local"],
            routes: [
              {
                name: "default/reviews/0",
                match: [{ headers: { "end-user": { exact: "jason" }, "x-debug": {} } }],
                action: { kind: "route", destinations: [{ cluster: "outbound|9080|v1|reviews.default.svc.cluster.local", weight: 90 }, { cluster: "outbound|9080|v2|reviews.default.svc.cluster.local", weight: 10 }] },
                retries: { attempts: 2, retryOn: ["connect-failure"] },
                mirrors: [{ cluster: "outbound|9080|v2|reviews.default.svc.cluster.local", percentage: 10 }],
              },
              { name: "default/reviews/1", match: [], action: { kind: "direct", status: 503, body: "down" } },
            ],
          },
        ],
      },
    ],
    clusters: ["v1", "v2"].map((subset) => ({
      name: `outbound|9080|${subset}|reviews.default.svc.cluster.local`,
      host: "reviews.default.svc.cluster.local",
      port: 9080,
      subset,
      endpoints: [{ address: "10.0.0.1", port: 9080, labels: { version: subset } }],
      policy: { loadBalancer: { kind: "RING_HASH" as const, hashOn: { header: "x-user" }, minimumRingSize: 1024 } },
    })),
  };
}

function errorsOf(config: unknown) {
  const result = validateProxyConfig(config);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.errors;
}

const ROUTE = "listeners[0].virtualHosts[0].routes[0]";

describe("validateProxyConfig", () => {
  it("accepts a well-formed config and returns it", () => {
    const result = validateProxyConfig(valid());
    expect(result).toEqual({ ok: true, config: valid() });
  });

  it("accepts what the builder produces", () => {
    const config = build({ resources: [vs("default", "reviews", { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }] }] })], proxy: sidecar() });
    expect(validateProxyConfig(config).ok).toBe(true);
  });

  it("refuses what is not a config, and another version", () => {
    expect(errorsOf("nope")[0]?.field).toBe("<config>");
    expect(errorsOf({ ...valid(), version: "weft.dev/proxy/v2" }).map((e) => e.field)).toEqual(["version"]);
  });

  it("is strict: an unknown field anywhere is an error naming it", () => {
    const config = valid() as unknown as { listeners: { virtualHosts: { routes: Record<string, unknown>[] }[] }[] };
    config.listeners[0]!.virtualHosts[0]!.routes[0]!.shadow = true;
    const errors = errorsOf(config);
    expect(errors.map((e) => e.field)).toEqual([ROUTE]);
    expect(errors[0]?.message).toMatch(/shadow/);
  });

  it("refuses out-of-range values with their path", () => {
    const config = valid();
    config.clusters[0]!.port = 70000;
    const route = config.listeners[0]!.virtualHosts[0]!.routes[0]!;
    route.mirrors = [{ cluster: route.mirrors![0]!.cluster, percentage: 150 }];
    expect(errorsOf(config).map((e) => e.field).sort()).toEqual(["clusters[0].port", `${ROUTE}.mirrors[0].percentage`]);
  });

  it("refuses a destination or mirror naming a cluster that does not exist", () => {
    const config = valid();
    config.clusters = config.clusters.slice(0, 1);
    const errors = errorsOf(config);
    expect(errors.map((e) => e.field)).toEqual([`${ROUTE}.action.destinations[1].cluster`, `${ROUTE}.mirrors[0].cluster`]);
    expect(errors[0]?.message).toContain("outbound|9080|v2|reviews.default.svc.cluster.local");
  });

  it("refuses weights that do not sum to 100", () => {
    const config = valid();
    const action = config.listeners[0]!.virtualHosts[0]!.routes[0]!.action;
    if (action.kind !== "route") throw new Error("fixture");
    action.destinations[1]!.weight = 20;
    expect(errorsOf(config)).toEqual([{ field: `${ROUTE}.action.destinations`, message: "destination weights must sum to 100, got 110" }]);
  });

  it("refuses misnamed and duplicate clusters, and duplicate listener ports", () => {
    const config = valid();
    config.clusters.push({ ...config.clusters[0]! });
    config.clusters[1]!.name = "reviews-v2";
    config.listeners.push({ port: 0, virtualHosts: [] });
    // clusters[1] no longer says what it is; clusters[2] repeats clusters[0].
    expect(errorsOf(config).map((e) => e.field)).toEqual([
      "clusters[1].name",
      "clusters[2].name",
      `${ROUTE}.action.destinations[1].cluster`,
      `${ROUTE}.mirrors[0].cluster`,
      "listeners[1].port",
    ]);
  });

  it("refuses a route without destinations and a redirect code Envoy cannot send", () => {
    const config = valid();
    const routes = config.listeners[0]!.virtualHosts[0]!.routes;
    routes[0]!.action = { kind: "route", destinations: [] };
    routes[1]!.action = { kind: "redirect", uri: "/", code: 300 };
    expect(errorsOf(config).map((e) => e.field)).toEqual([`${ROUTE}.action.destinations`, "listeners[0].virtualHosts[0].routes[1].action.code"]);
  });
});
