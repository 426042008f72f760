/**
 * @module test/node/proxy-config/sidecar-scope
 * Sidecar scoping: which Sidecar applies (workloadSelector, then the namespace's, then the root
 * namespace's default), what its egress hosts import (`./*`, `ns/*`, any-namespace hosts, `~/*`, wildcards,
 * no egress), that out-of-scope services get neither virtual host nor cluster while destinations of
 * imported VirtualServices keep theirs, that exportTo still applies, gateways are not scoped, and the
 * recorded outboundTrafficPolicy.
 */
import { describe, expect, it } from "vitest";
import type { IstioObject, ServiceEndpoints } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { findSidecar, sidecarScopeFor } from "../../../edge-proxy/core/config/build/sidecar-scope.js";
import type { ProxyConfig } from "../../../edge-proxy/core/config/proxy-config.js";
import { build, cluster, gatewayProxy, object, sidecar, vs } from "./support.js";

const sidecarResource = (namespace: string, name: string, spec: unknown, created?: string) => object("Sidecar", namespace, name, spec, created);
const egress = (...hosts: string[]) => ({ egress: [{ hosts }] });

/** A VirtualService routing `host` (resolved in `namespace`) to itself. */
const route = (namespace: string, name: string, host: string, extra: Record<string, unknown> = {}) =>
  vs(namespace, name, { hosts: [host], http: [{ route: [{ destination: { host } }] }], ...extra });

const MESH: IstioObject[] = [
  route("default", "reviews", "reviews"),
  route("shop", "cart", "cart"),
  route("istio-system", "telemetry", "telemetry"),
  route("ext", "foo", "foo.com"),
  route("ext", "bar", "bar.com"),
  route("partner", "foo-partner", "api.foo.com"),
];

const ENDPOINTS: ServiceEndpoints[] = [
  { host: "reviews.default.svc.cluster.local", port: 9080, endpoints: [{ address: "10.0.0.1", port: 9080, labels: {} }] },
  { host: "cart.shop.svc.cluster.local", port: 8080, endpoints: [{ address: "10.0.1.1", port: 8080, labels: {} }] },
];

function virtualHostNames(config: ProxyConfig): string[] {
  return config.listeners.find((l) => l.port === 0)!.virtualHosts.map((vh) => vh.name);
}

function hostsOf(config: ProxyConfig): string[] {
  return config.clusters.map((c) => c.host).sort();
}

describe("egress hosts", () => {
  it("without a Sidecar, everything exportTo allows is visible", () => {
    const config = build({ resources: MESH, proxy: sidecar("default"), endpoints: ENDPOINTS });
    expect(virtualHostNames(config)).toEqual(["default/reviews", "ext/bar", "ext/foo", "istio-system/telemetry", "partner/foo-partner", "shop/cart"]);
  });

  it("./* and istio-system/*: the proxy's namespace and istio-system only; a service outside gets no virtual host and no cluster", () => {
    const config = build({ resources: [...MESH, sidecarResource("default", "default", egress("./*", "istio-system/*"))], proxy: sidecar("default"), endpoints: ENDPOINTS });
    expect(virtualHostNames(config)).toEqual(["default/reviews", "istio-system/telemetry"]);
    expect(hostsOf(config)).toEqual(["reviews.default.svc.cluster.local", "telemetry.istio-system.svc.cluster.local"]);
    expect(hostsOf(config)).not.toContain("cart.shop.svc.cluster.local");
    expect(cluster(config, "outbound|9080||reviews.default.svc.cluster.local").endpoints).toEqual([{ address: "10.0.0.1", port: 9080, labels: {} }]);
  });

  it("*/foo.com: that host in any namespace, nothing else", () => {
    const config = build({ resources: [...MESH, sidecarResource("default", "default", egress("*/foo.com"))], proxy: sidecar("default") });
    expect(virtualHostNames(config)).toEqual(["ext/foo"]);
    expect(hostsOf(config)).toEqual(["foo.com"]);
  });

  it("wildcards: */*.foo.com imports api.foo.com; an exact import overlaps a wildcard VirtualService host", () => {
    const wildcardVs = route("ext", "any-foo", "*.foo.com");
    const wide = build({ resources: [...MESH, wildcardVs, sidecarResource("default", "default", egress("*/*.foo.com"))], proxy: sidecar("default") });
    // `*.foo.com` does not cover the bare `foo.com`.
    expect(virtualHostNames(wide)).toEqual(["ext/any-foo", "partner/foo-partner"]);
    const exact = build({ resources: [...MESH, wildcardVs, sidecarResource("default", "default", egress("ext/api.foo.com"))], proxy: sidecar("default") });
    expect(virtualHostNames(exact)).toEqual(["ext/any-foo"]);
  });

  it("ns/* picks one namespace; ~/* imports nothing; a Sidecar without egress imports everything", () => {
    const shop = build({ resources: [...MESH, sidecarResource("default", "default", egress("shop/*"))], proxy: sidecar("default"), endpoints: ENDPOINTS });
    expect(virtualHostNames(shop)).toEqual(["shop/cart"]);
    expect(cluster(shop, "outbound|8080||cart.shop.svc.cluster.local").endpoints).toHaveLength(1);
    const none = build({ resources: [...MESH, sidecarResource("default", "default", egress("~/*"))], proxy: sidecar("default") });
    expect(none.listeners[0]!.virtualHosts).toEqual([]);
    expect(none.clusters).toEqual([]);
    const ingressOnly = build({
      resources: [...MESH, sidecarResource("default", "default", { ingress: [{ port: { number: 9080, protocol: "HTTP", name: "http" }, defaultEndpoint: "127.0.0.1:9080" }] })],
      proxy: sidecar("default"),
    });
    expect(virtualHostNames(ingressOnly)).toHaveLength(6);
  });

  it("destinations of an imported VirtualService keep their clusters even outside the egress hosts (Istio infers them)", () => {
    const toCart = vs("default", "checkout", { hosts: ["checkout"], http: [{ route: [{ destination: { host: "cart.shop.svc.cluster.local" } }] }] });
    const config = build({ resources: [...MESH, toCart, sidecarResource("default", "default", egress("./*"))], proxy: sidecar("default"), endpoints: ENDPOINTS });
    expect(virtualHostNames(config)).toEqual(["default/checkout", "default/reviews"]);
    expect(cluster(config, "outbound|8080||cart.shop.svc.cluster.local").endpoints).toEqual([{ address: "10.0.1.1", port: 8080, labels: {} }]);
  });

  it("exportTo still applies inside the imported namespaces", () => {
    const privateCart = route("shop", "cart", "cart", { exportTo: ["."] });
    const config = build({ resources: [privateCart, sidecarResource("default", "default", egress("*/*"))], proxy: sidecar("default") });
    expect(config.listeners[0]!.virtualHosts).toEqual([]);
  });
});

describe("which Sidecar applies", () => {
  const rootDefault = sidecarResource("istio-system", "default", egress("./*", "istio-system/*"), "2024-01-01T00:00:00Z");
  const namespaceDefault = sidecarResource("default", "default", egress("./*"), "2024-01-02T00:00:00Z");
  const productpage = sidecarResource("default", "productpage", { workloadSelector: { labels: { app: "productpage" } }, ...egress("shop/*") }, "2024-01-03T00:00:00Z");

  it("the root namespace's default applies where a namespace has none, `.` meaning the proxy's namespace", () => {
    const config = build({ resources: [...MESH, rootDefault], proxy: sidecar("shop", { app: "cart" }) });
    expect(virtualHostNames(config)).toEqual(["istio-system/telemetry", "shop/cart"]);
    expect(sidecarScopeFor([rootDefault], sidecar("shop"), "istio-system")).toEqual({
      sidecar: "istio-system/default",
      imports: [{ namespace: "shop", host: "*" }, { namespace: "istio-system", host: "*" }],
    });
  });

  it("a workloadSelector Sidecar beats the namespace's, which beats the root's", () => {
    const resources = [...MESH, rootDefault, namespaceDefault, productpage];
    expect(virtualHostNames(build({ resources, proxy: sidecar("default", { app: "productpage" }) }))).toEqual(["shop/cart"]);
    expect(virtualHostNames(build({ resources, proxy: sidecar("default", { app: "reviews" }) }))).toEqual(["default/reviews"]);
    expect(findSidecar(resources, sidecar("default", { app: "productpage" }), "istio-system")?.metadata.name).toBe("productpage");
    expect(findSidecar(resources, sidecar("default", { app: "reviews" }), "istio-system")?.metadata.name).toBe("default");
    expect(findSidecar(resources, sidecar("ext"), "istio-system")?.metadata.namespace).toBe("istio-system");
  });

  it("the oldest of several selecting Sidecars wins; one in another namespace or with a selector in the root namespace does not apply", () => {
    const older = sidecarResource("default", "a", { workloadSelector: { labels: { app: "productpage" } }, ...egress("ext/*") }, "2023-01-01T00:00:00Z");
    const rootSelector = sidecarResource("istio-system", "selecting", { workloadSelector: { labels: { app: "productpage" } }, ...egress("~/*") });
    const elsewhere = sidecarResource("shop", "default", egress("~/*"));
    expect(findSidecar([productpage, older], sidecar("default", { app: "productpage" }), "istio-system")?.metadata.name).toBe("a");
    expect(findSidecar([rootSelector, elsewhere], sidecar("default", { app: "productpage" }), "istio-system")).toBeUndefined();
  });

  it("gateways are not scoped by Sidecars", () => {
    const gwVs = vs("default", "ingress", { hosts: ["shop.example.com"], gateways: ["default/public"], http: [{ route: [{ destination: { host: "cart.shop.svc.cluster.local" } }] }] });
    const config = build({ resources: [gwVs, sidecarResource("default", "default", egress("~/*"))], proxy: gatewayProxy("default", "default/public") });
    expect(virtualHostNames(config)).toEqual(["default/ingress"]);
    expect(sidecarScopeFor([sidecarResource("default", "default", egress("~/*"))], gatewayProxy("default", "default/public"), "istio-system")).toBeUndefined();
  });
});

describe("outboundTrafficPolicy", () => {
  it("is recorded when the applied Sidecar sets it (an unset mode is REGISTRY_ONLY, the enum's zero value); absent otherwise", () => {
    const allowAny = build({ resources: [sidecarResource("default", "default", { ...egress("./*"), outboundTrafficPolicy: { mode: "ALLOW_ANY" } })], proxy: sidecar("default") });
    expect(allowAny.outboundTrafficPolicy).toEqual({ mode: "ALLOW_ANY" });
    const registryOnly = build({ resources: [sidecarResource("default", "default", { outboundTrafficPolicy: {} })], proxy: sidecar("default") });
    expect(registryOnly.outboundTrafficPolicy).toEqual({ mode: "REGISTRY_ONLY" });
    expect(build({ resources: [sidecarResource("default", "default", egress("./*"))], proxy: sidecar("default") }).outboundTrafficPolicy).toBeUndefined();
  });
});
