// Virtual host selection: Envoy/Istio domain precedence, Host header forms, short names, listener ports,
// and lookup work that does not grow with the number of virtual hosts.
import { describe, expect, it } from "vitest";
import { findVirtualHost, type LookupProbe } from "../../../edge-proxy/core/routing/find-virtual-host.js";
import { routeRequest } from "../../../edge-proxy/core/routing/match-request.js";
import { createRouteTable } from "../../../edge-proxy/core/routing/route-table.js";
import { RouteTableError } from "../../../edge-proxy/core/routing/routing-error.js";
import { listener, proxyConfig, request, virtualHost } from "./build-config.js";

const table = createRouteTable(
  proxyConfig([
    listener(
      9080,
      virtualHost("default/catch-all", ["*"]),
      virtualHost("default/wild-short", ["*.example.com"]),
      virtualHost("default/wild-long", ["*.api.example.com"]),
      virtualHost("default/exact-api", ["v1.api.example.com"]),
      virtualHost("default/reviews", ["reviews.default.svc.cluster.local"]),
      virtualHost("other/ratings", ["ratings.other.svc.cluster.local"]),
      virtualHost("default/mesh-wild", ["*.mesh.svc.cluster.local"]),
    ),
  ]),
);
const hostFor = (authority: string, port = 9080) => findVirtualHost(table, authority, port)?.virtualHost.name;

describe("domain precedence", () => {
  it("prefers an exact domain over any wildcard, even one listed earlier", () => {
    expect(hostFor("v1.api.example.com")).toBe("default/exact-api");
  });
  it("prefers the longer wildcard suffix", () => {
    expect(hostFor("v2.api.example.com")).toBe("default/wild-long");
    expect(hostFor("deep.v2.api.example.com")).toBe("default/wild-long");
    expect(hostFor("www.example.com")).toBe("default/wild-short");
  });
  it("never lets a wildcard match its bare suffix", () => {
    expect(hostFor("api.example.com")).toBe("default/wild-short");
    expect(hostFor("example.com")).toBe("default/catch-all");
  });
  it("uses * last", () => {
    expect(hostFor("unknown.internal")).toBe("default/catch-all");
  });
  it("keeps the first virtual host when two claim one domain and reports the second", () => {
    const t = createRouteTable(proxyConfig([listener(80, virtualHost("a/first", ["x.io"]), virtualHost("b/second", ["x.io", "y.io"]))]));
    expect(findVirtualHost(t, "x.io", 80)?.virtualHost.name).toBe("a/first");
    expect(findVirtualHost(t, "y.io", 80)?.virtualHost.name).toBe("b/second");
    expect(t.shadowedDomains).toEqual(["listener 80: x.io of b/second is served by a/first"]);
  });
});

describe("Host header forms", () => {
  it("ignores the port, case and a trailing dot", () => {
    expect(hostFor("reviews.default.svc.cluster.local:9080")).toBe("default/reviews");
    expect(hostFor("Reviews.DEFAULT.svc.Cluster.Local")).toBe("default/reviews");
    expect(hostFor("reviews.default.svc.cluster.local.")).toBe("default/reviews");
    expect(hostFor("REVIEWS.default.svc.cluster.local.:9080")).toBe("default/reviews");
    expect(hostFor("WWW.Example.COM:443")).toBe("default/wild-short");
  });
  it("reads a bracketed IPv6 authority with a port", () => {
    const t = createRouteTable(proxyConfig([listener(80, virtualHost("default/v6", ["[::1]"]))]));
    expect(findVirtualHost(t, "[::1]:80", 80)?.virtualHost.name).toBe("default/v6");
  });
  it("normalises configured domains the same way", () => {
    const t = createRouteTable(proxyConfig([listener(80, virtualHost("default/upper", ["Shop.Example.COM."]))]));
    expect(findVirtualHost(t, "shop.example.com", 80)?.virtualHost.name).toBe("default/upper");
  });
});

describe("short names", () => {
  it("completes a bare name with the proxy's namespace", () => {
    expect(hostFor("reviews")).toBe("default/reviews");
    expect(hostFor("reviews:9080")).toBe("default/reviews");
  });
  it("completes name.namespace and name.namespace.svc", () => {
    expect(hostFor("reviews.default")).toBe("default/reviews");
    expect(hostFor("reviews.default.svc")).toBe("default/reviews");
    expect(hostFor("ratings.other")).toBe("other/ratings");
    expect(hostFor("ratings.other.svc:9080")).toBe("other/ratings");
  });
  it("does not complete a bare name into another namespace", () => {
    expect(hostFor("ratings")).toBe("default/catch-all");
  });
  it("resolves in the proxy's namespace", () => {
    const t = createRouteTable(proxyConfig([listener(9080, virtualHost("other/ratings", ["ratings.other.svc.cluster.local"]))], { namespace: "other" }));
    expect(findVirtualHost(t, "ratings", 9080)?.virtualHost.name).toBe("other/ratings");
    expect(findVirtualHost(t, "reviews", 9080)).toBeUndefined();
  });
  it("uses the configured cluster domain", () => {
    const t = createRouteTable(proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.corp.internal"]))]), { clusterDomain: "corp.internal" });
    expect(findVirtualHost(t, "reviews", 9080)?.virtualHost.name).toBe("default/reviews");
    expect(findVirtualHost(t, "reviews.default", 9080)?.virtualHost.name).toBe("default/reviews");
  });
  it("lets a completed short name fall under a mesh wildcard", () => {
    expect(hostFor("details.mesh")).toBe("default/mesh-wild");
  });
  it("never lets a short name displace a configured exact domain", () => {
    const t = createRouteTable(
      proxyConfig([listener(80, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"]), virtualHost("external/reviews", ["reviews"]))]),
    );
    expect(findVirtualHost(t, "reviews", 80)?.virtualHost.name).toBe("external/reviews");
    expect(findVirtualHost(t, "reviews.default", 80)?.virtualHost.name).toBe("default/reviews");
  });
});

describe("listener ports", () => {
  const t = createRouteTable(
    proxyConfig([
      listener(9080, virtualHost("default/reviews-9080", ["reviews.default.svc.cluster.local"])),
      listener(0, virtualHost("default/reviews-any", ["reviews.default.svc.cluster.local"]), virtualHost("default/details-any", ["details.default.svc.cluster.local"])),
    ]),
  );
  it("uses the port's own listener first", () => {
    expect(findVirtualHost(t, "reviews", 9080)?.virtualHost.name).toBe("default/reviews-9080");
    expect(findVirtualHost(t, "reviews", 9080)?.listenerPort).toBe(9080);
  });
  it("falls back to the any-port listener", () => {
    expect(findVirtualHost(t, "reviews", 8080)?.virtualHost.name).toBe("default/reviews-any");
    expect(findVirtualHost(t, "details", 9080)?.virtualHost.name).toBe("default/details-any");
    expect(findVirtualHost(t, "details", 9080)?.listenerPort).toBe(0);
  });
  it("finds nothing when no listener has the host", () => {
    expect(findVirtualHost(t, "nowhere.example.com", 9080)).toBeUndefined();
    expect(routeRequest(t, request({ authority: "nowhere.example.com" }))).toBeUndefined();
    const only9080 = createRouteTable(proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"]))]));
    expect(findVirtualHost(only9080, "reviews", 8080)).toBeUndefined();
  });
});

describe("domain errors", () => {
  it.each([
    ["a middle wildcard", "api.*.example.com"],
    ["a suffix wildcard without a dot", "*-bar.example.com"],
    ["a prefix wildcard", "example.*"],
    ["a port", "reviews:9080"],
    ["an empty domain", ""],
    ["two wildcards", "*.*.example.com"],
  ])("refuses %s by name", (_label, domain) => {
    const build = () => createRouteTable(proxyConfig([listener(80, virtualHost("default/bad", [domain]))]));
    expect(build).toThrow(RouteTableError);
    try {
      build();
    } catch (error) {
      expect((error as RouteTableError).code).toBe("ERR_ROUTE_DOMAIN_INVALID");
      expect((error as RouteTableError).message).toContain("default/bad");
    }
  });
});

describe("lookup cost does not depend on the number of virtual hosts", () => {
  function tableOf(hosts: number) {
    const virtualHosts = [];
    for (let i = 0; i < hosts; i++) {
      const domains = [`svc-${i}.ns-${i % 7}.svc.cluster.local`];
      // Same-length tenant names, so both tables have the same longest suffix.
      if (i % 10 === 0) domains.push(`*.tenant-${String(i).padStart(5, "0")}.example.com`);
      virtualHosts.push(virtualHost(`ns-${i % 7}/svc-${i}`, domains));
    }
    virtualHosts.push(virtualHost("default/catch-all", ["*"]));
    return createRouteTable(proxyConfig([listener(80, ...virtualHosts)], { namespace: "ns-0" }));
  }
  const lookups = ["svc-7.ns-0.svc.cluster.local", "svc-7.ns-0:80", "SVC-7", "a.b.tenant-00000.example.com", "missing.example.org", "missing", "x.y.z.w.v.u.example.net"];

  function probesPerLookup(hosts: number): number[] {
    const t = tableOf(hosts);
    return lookups.map((authority) => {
      const probe: LookupProbe = { indexProbes: 0, matchesExamined: 0 };
      const found = findVirtualHost(t, authority, 80, probe);
      expect(found).toBeDefined();
      return probe.indexProbes;
    });
  }

  it("examines the same few candidates with 10 and with 10,000 virtual hosts", () => {
    const small = probesPerLookup(10);
    const large = probesPerLookup(10_000);
    expect(large).toEqual(small);
    for (const probes of large) expect(probes).toBeLessThanOrEqual(8);
    // Exact and short-name hits take a single probe.
    expect(large.slice(0, 3)).toEqual([1, 1, 1]);
  });

  it("examines only the chosen virtual host's matches", () => {
    const t = tableOf(10_000);
    const probe: LookupProbe = { indexProbes: 0, matchesExamined: 0 };
    const decision = routeRequest(t, request({ authority: "svc-9999.ns-3.svc.cluster.local", port: 80 }), probe);
    expect(decision?.virtualHost.name).toBe("ns-3/svc-9999");
    expect(probe).toEqual({ indexProbes: 1, matchesExamined: 1 });
  });
});

describe("remembered lookups", () => {
  it("answers a repeated authority as the first time, per port and per form, also past the memory's bound", () => {
    const first = ["V1.API.example.com", "v1.api.example.com:9080", "reviews", "nope.internal"].map((a) => hostFor(a));
    expect(first).toEqual(["default/exact-api", "default/exact-api", "default/reviews", "default/catch-all"]);
    // Twenty thousand distinct authorities: the memory is emptied on the way, answers stay the same.
    for (let i = 0; i < 20_000; i++) expect(hostFor(`h${i}.example.com`)).toBe("default/wild-short");
    expect(["V1.API.example.com", "v1.api.example.com:9080", "reviews", "nope.internal"].map((a) => hostFor(a))).toEqual(first);
    // Another port has its own answers (no listener on 8080 here).
    expect(hostFor("reviews", 8080)).toBeUndefined();
    expect(hostFor("reviews")).toBe("default/reviews");
  });
});
