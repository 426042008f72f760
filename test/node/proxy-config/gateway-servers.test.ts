/**
 * @module test/node/proxy-config/gateway-servers
 * A gateway proxy's listeners from its Gateway resources: one per server port, a VirtualService's
 * hosts intersected with the server's (wildcards either side, namespace parts), only VirtualServices
 * bound to the server's Gateway, httpsRedirect → requireTls, TLS recorded on HTTPS listeners, and the
 * Gateways a gateway's labels select.
 */
import { describe, expect, it } from "vitest";
import { gatewaysSelecting, intersectHosts, parseServerHost } from "../../../edge-proxy/core/config/build/gateway-servers.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";
import { proxyIdentityOf } from "../../../control/distribution/build-config.js";
import type { ProxyRegistration } from "../../../control/distribution/contracts.js";
import { build, gatewayProxy, listener, object, vs } from "./support.js";

const gateway = (namespace: string, name: string, servers: unknown[], selector: Record<string, string> = { istio: "ingressgateway" }, created?: string) =>
  object("Gateway", namespace, name, { selector, servers }, created);
const http = (port: number, hosts: string[], tls?: unknown) => ({ port: { number: port, name: `http-${port}`, protocol: "HTTP" }, hosts, ...(tls ? { tls } : {}) });
const https = (port: number, hosts: string[], tls: unknown) => ({ port: { number: port, name: `https-${port}`, protocol: "HTTPS" }, hosts, tls });
const to = (host: string) => [{ route: [{ destination: { host, port: { number: 80 } } }] }];

const domainsOn = (config: ReturnType<typeof build>, port: number) =>
  Object.fromEntries(listener(config, port).virtualHosts.map((vh) => [vh.name + (vh.requireTls ? " (tls)" : ""), vh.domains]));

describe("gateway servers", () => {
  it("gives one listener per server port, each with the VirtualService hosts its server serves", () => {
    const config = build({
      resources: [
        gateway("edge", "public", [http(80, ["shop.example.com", "api.example.com"]), https(443, ["shop.example.com"], { mode: "SIMPLE", credentialName: "shop-cert" }), http(8080, ["admin.example.com"])]),
        vs("edge", "shop", { hosts: ["shop.example.com", "api.example.com", "admin.example.com"], gateways: ["public"], http: to("web.shop.svc.cluster.local") }),
      ],
      proxy: gatewayProxy("edge", "edge/public"),
    });
    expect(config.listeners.map((l) => l.port)).toEqual([80, 443, 8080]);
    expect(domainsOn(config, 80)).toEqual({ "edge/shop": ["api.example.com", "shop.example.com"] });
    expect(domainsOn(config, 443)).toEqual({ "edge/shop": ["shop.example.com"] });
    expect(domainsOn(config, 8080)).toEqual({ "edge/shop": ["admin.example.com"] });
    expect(listener(config, 443).tls).toEqual({ mode: "SIMPLE", credentialName: "shop-cert" });
    expect(listener(config, 80).tls).toBeUndefined();
  });

  it("intersects hosts with wildcards either side, keeping the more specific name", () => {
    const server = (hosts: string[]) => ({ gateway: "edge/public", port: 80, hosts: hosts.map((h) => parseServerHost(h, "edge")), httpsRedirect: false });
    const shop = { namespace: "shop", hosts: ["shop.example.com", "*.api.example.com", "other.test"] };
    expect(intersectHosts(server(["*.example.com"]), shop)).toEqual(["*.api.example.com", "shop.example.com"]);
    expect(intersectHosts(server(["*"]), shop)).toEqual(["*.api.example.com", "other.test", "shop.example.com"]);
    expect(intersectHosts(server(["v1.api.example.com"]), shop)).toEqual(["v1.api.example.com"]);
    expect(intersectHosts(server(["example.com"]), shop)).toEqual([]);
    expect(intersectHosts(server(["*.com"]), { namespace: "shop", hosts: ["*"] })).toEqual(["*.com"]);
  });

  it("limits server hosts to the namespaces their namespace part names", () => {
    const server = (hosts: string[]) => ({ gateway: "edge/public", port: 80, hosts: hosts.map((h) => parseServerHost(h, "edge")), httpsRedirect: false });
    const inShop = { namespace: "shop", hosts: ["shop.example.com"] };
    const inEdge = { namespace: "edge", hosts: ["shop.example.com"] };
    expect(intersectHosts(server(["shop/*"]), inShop)).toEqual(["shop.example.com"]);
    expect(intersectHosts(server(["shop/*"]), inEdge)).toEqual([]);
    expect(intersectHosts(server(["./*.example.com"]), inEdge)).toEqual(["shop.example.com"]);
    expect(intersectHosts(server(["./*.example.com"]), inShop)).toEqual([]);
    expect(intersectHosts(server(["*/shop.example.com"]), inShop)).toEqual(["shop.example.com"]);
  });

  it("applies namespace parts end to end, and a server host without a VirtualService gets nothing", () => {
    const config = build({
      resources: [
        gateway("istio-system", "ingress", [http(80, ["shop/*", "./internal.example.com", "nobody.example.com"])]),
        vs("shop", "web", { hosts: ["shop.example.com"], gateways: ["istio-system/ingress"], http: to("web.shop.svc.cluster.local") }),
        vs("other", "web", { hosts: ["other.example.com"], gateways: ["istio-system/ingress"], http: to("web.other.svc.cluster.local") }),
        vs("istio-system", "internal", { hosts: ["internal.example.com"], gateways: ["ingress"], http: to("internal.istio-system.svc.cluster.local") }),
      ],
      proxy: gatewayProxy("istio-system", "istio-system/ingress"),
    });
    expect(domainsOn(config, 80)).toEqual({ "istio-system/internal": ["internal.example.com"], "shop/web": ["shop.example.com"] });
    expect(config.clusters.map((c) => c.host)).toEqual(["internal.istio-system.svc.cluster.local", "web.shop.svc.cluster.local"]);
  });

  it("excludes a VirtualService bound to another gateway of the same proxy from this gateway's servers", () => {
    const config = build({
      resources: [
        gateway("edge", "public", [http(80, ["*"])]),
        gateway("edge", "admin", [http(9000, ["*"])]),
        vs("edge", "shop", { hosts: ["shop.example.com"], gateways: ["public"], http: to("web.shop.svc.cluster.local") }),
        vs("edge", "console", { hosts: ["console.example.com"], gateways: ["admin"], http: to("console.ops.svc.cluster.local") }),
      ],
      proxy: gatewayProxy("edge", "edge/public", "edge/admin"),
    });
    expect(domainsOn(config, 80)).toEqual({ "edge/shop": ["shop.example.com"] });
    expect(domainsOn(config, 9000)).toEqual({ "edge/console": ["console.example.com"] });
    expect(config.listeners.map((l) => l.port)).toEqual([80, 9000]);
  });

  it("marks the virtual hosts of an httpsRedirect server requireTls, and only those", () => {
    const config = build({
      resources: [
        gateway("edge", "public", [http(80, ["shop.example.com"], { httpsRedirect: true }), http(8080, ["shop.example.com"]), https(443, ["shop.example.com"], { mode: "MUTUAL" })]),
        vs("edge", "shop", { hosts: ["shop.example.com"], gateways: ["public"], http: to("web.shop.svc.cluster.local") }),
      ],
      proxy: gatewayProxy("edge", "edge/public"),
    });
    expect(domainsOn(config, 80)).toEqual({ "edge/shop (tls)": ["shop.example.com"] });
    expect(listener(config, 80).virtualHosts[0]?.routes).toHaveLength(1);
    expect(domainsOn(config, 8080)).toEqual({ "edge/shop": ["shop.example.com"] });
    expect(domainsOn(config, 443)).toEqual({ "edge/shop": ["shop.example.com"] });
    expect(listener(config, 443).tls).toEqual({ mode: "MUTUAL" });
  });

  it("keeps only the routes that can match on a server's port, and serves no HTTP on TCP or passthrough servers", () => {
    const config = build({
      resources: [
        gateway("edge", "public", [
          http(80, ["*"]),
          http(81, ["*"]),
          https(443, ["*"], { mode: "PASSTHROUGH" }),
          { port: { number: 3306, name: "mysql", protocol: "TCP" }, hosts: ["*"] },
        ]),
        vs("edge", "shop", {
          hosts: ["shop.example.com"],
          gateways: ["public"],
          http: [
            { name: "on-81", match: [{ port: 81 }], route: [{ destination: { host: "a.shop.svc.cluster.local" } }] },
            { name: "any", route: [{ destination: { host: "b.shop.svc.cluster.local" } }] },
          ],
        }),
      ],
      proxy: gatewayProxy("edge", "edge/public"),
    });
    expect(config.listeners.map((l) => l.port)).toEqual([80, 81]);
    expect(listener(config, 80).virtualHosts[0]?.routes.map((r) => r.name)).toEqual(["any"]);
    expect(listener(config, 81).virtualHosts[0]?.routes.map((r) => r.name)).toEqual(["on-81", "any"]);
  });

  it("validates the new fields strictly", () => {
    const config = build({
      resources: [gateway("edge", "public", [http(80, ["*"], { httpsRedirect: true }), https(443, ["*"], { mode: "SIMPLE" })]), vs("edge", "shop", { hosts: ["shop.example.com"], gateways: ["public"], http: to("web.shop.svc.cluster.local") })],
      proxy: gatewayProxy("edge", "edge/public"),
    });
    const bad = structuredClone(config) as any;
    bad.listeners[1].tls = { mode: "OPTIONAL", sni: "x" };
    bad.listeners[0].virtualHosts[0].requireTls = "yes";
    const result = validateProxyConfig(bad);
    expect(result.ok ? [] : result.errors.map((e) => e.field).sort()).toEqual(["listeners[0].virtualHosts[0].requireTls", "listeners[1].tls", "listeners[1].tls.mode"]);
  });

  it("serves a gateway name without a Gateway resource as before: every host, on port 0", () => {
    const config = build({
      resources: [gateway("edge", "public", [http(80, ["shop.example.com"])]), vs("edge", "legacy", { hosts: ["legacy.example.com"], gateways: ["unmanaged"], http: to("web.shop.svc.cluster.local") })],
      proxy: gatewayProxy("edge", "edge/public", "edge/unmanaged"),
    });
    expect(config.listeners.map((l) => l.port)).toEqual([0, 80]);
    expect(domainsOn(config, 0)).toEqual({ "edge/legacy": ["legacy.example.com"] });
    expect(domainsOn(config, 80)).toEqual({});
  });

  it("combines the routes of VirtualServices sharing a domain on one server, catch-all last", () => {
    const config = build({
      resources: [
        gateway("edge", "public", [http(80, ["*.example.com"])]),
        vs("edge", "a", { hosts: ["shop.example.com"], gateways: ["public"], http: [{ name: "a-all", route: [{ destination: { host: "a.shop.svc.cluster.local" } }] }] }, "2024-01-01T00:00:00Z"),
        vs("edge", "b", { hosts: ["shop.example.com"], gateways: ["public"], http: [{ name: "b-api", match: [{ uri: { prefix: "/api" } }], route: [{ destination: { host: "b.shop.svc.cluster.local" } }] }] }, "2024-01-02T00:00:00Z"),
      ],
      proxy: gatewayProxy("edge", "edge/public"),
    });
    const [vh] = listener(config, 80).virtualHosts;
    expect(vh?.name).toBe("edge/a,edge/b");
    expect(vh?.routes.map((r) => r.name)).toEqual(["b-api", "a-all"]);
  });
});

describe("Gateways selected by a gateway's labels", () => {
  const resources = [
    gateway("istio-system", "public", [http(80, ["*"])], { istio: "ingressgateway" }),
    gateway("shop", "web", [http(80, ["*"])], { istio: "ingressgateway", tier: "edge" }),
    gateway("shop", "other", [http(80, ["*"])], { istio: "eastwest" }),
    gateway("shop", "none", [http(80, ["*"])], {}),
  ];

  it("are those whose non-empty selector is a subset of the labels, any namespace, sorted", () => {
    expect(gatewaysSelecting(resources, { istio: "ingressgateway", tier: "edge", app: "x" })).toEqual(["istio-system/public", "shop/web"]);
    expect(gatewaysSelecting(resources, { istio: "ingressgateway" })).toEqual(["istio-system/public"]);
    expect(gatewaysSelecting(resources, {})).toEqual([]);
  });

  it("fill in a gateway registration without gateways; registered gateways and sidecars are kept", () => {
    const registration = (extra: Partial<ProxyRegistration>): ProxyRegistration => ({
      id: "ingress-1.istio-system",
      namespace: "istio-system",
      name: "ingress-1",
      serviceAccount: "ingress",
      address: "10.9.0.1",
      labels: { istio: "ingressgateway", tier: "edge" },
      ports: [],
      kind: "gateway",
      gateways: [],
      registeredBy: "admin",
      registeredAt: "2024-01-01T00:00:00Z",
      lastSeenAt: "2024-01-01T00:00:00Z",
      expiresAt: "2030-01-01T00:00:00Z",
      ...extra,
    });
    expect(proxyIdentityOf(registration({}), resources).gateways).toEqual(["istio-system/public", "shop/web"]);
    expect(proxyIdentityOf(registration({ gateways: ["shop/other"] }), resources).gateways).toEqual(["shop/other"]);
    expect(proxyIdentityOf(registration({ kind: "sidecar" }), resources).gateways).toEqual(["mesh"]);
  });
});
