// Small builders for hand-made ProxyConfigs and requests in the routing tests.
import { PROXY_CONFIG_VERSION, type Listener, type ProxyConfig, type ProxyIdentity, type Route, type RouteAction, type RouteMatch, type VirtualHost, type WeightedDestination } from "../../../edge-proxy/core/config/proxy-config.js";
import type { RoutableRequest } from "../../../edge-proxy/core/routing/match-request.js";

export function proxyConfig(listeners: Listener[], proxy: Partial<ProxyIdentity> = {}): ProxyConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "productpage" }, gateways: ["mesh"], ...proxy },
    listeners,
    clusters: [],
  };
}

export const listener = (port: number, ...virtualHosts: VirtualHost[]): Listener => ({ port, virtualHosts });

export const virtualHost = (name: string, domains: string[], routes: Route[] = [route(`${name}/0`, [], to(`outbound|80||${name}`))]): VirtualHost => ({ name, domains, routes });

export function route(name: string, match: RouteMatch[], action: RouteAction): Route {
  return { name, match, action };
}

export function to(...clusters: (string | [string, number])[]): RouteAction {
  const destinations: WeightedDestination[] = clusters.map((c) => (typeof c === "string" ? { cluster: c, weight: 100 } : { cluster: c[0], weight: c[1] }));
  return { kind: "route", destinations };
}

export function request(overrides: Partial<RoutableRequest> = {}): RoutableRequest {
  return {
    authority: "reviews.default.svc.cluster.local",
    port: 9080,
    method: "GET",
    path: "/",
    scheme: "http",
    headers: {},
    source: { labels: { app: "productpage", version: "v1" }, namespace: "default" },
    ...overrides,
  };
}
