/**
 * @module default-routes
 * Istio's default routing for a sidecar: every service the proxy can see (Kubernetes Services,
 * ServiceEntries visible by `exportTo`, registry services; narrowed by the Sidecar's egress hosts) that no
 * VirtualService routes gets, on each of its ports, a virtual host with one route to its cluster
 * (`outbound|<port>||<host>`) and Istio's default retry policy. A VirtualService for a host (or a wildcard
 * covering it) replaces its default routing. Gateways get none: they route only what is bound to them.
 * Ports are not told apart by protocol: a TCP-only port still gets an HTTP default route.
 */
import type { Route, VirtualHost } from "../proxy-config.js";
import type { ClusterRegistry } from "./clusters.js";
import { DEFAULT_RETRY_POLICY } from "./http-route.js";
import { hostCoveredBy } from "./istio-objects.js";
import type { ServiceIndex } from "./service-index.js";
import type { SidecarScope } from "./sidecar-scope.js";

/** Hosts that get default routes: concrete (no wildcard), visible in `scope`, and not covered by any VirtualService host. */
export function defaultRouteHosts(services: ServiceIndex, scope: SidecarScope | undefined, routedHosts: readonly string[], clusterDomain: string): string[] {
  return services
    .hosts()
    .filter((host) => !host.includes("*"))
    .filter((host) => !routedHosts.some((routed) => hostCoveredBy(host, routed)))
    .filter((host) => scope === undefined || importsHost(scope, services.namespaceOf(host, clusterDomain), host))
    .sort();
}

function importsHost(scope: SidecarScope, namespace: string | undefined, host: string): boolean {
  return scope.imports.some((i) => (i.namespace === "*" || i.namespace === namespace) && hostCoveredBy(host, i.host));
}

/** The default virtual hosts of `hosts`, by port: `<host>:<port>` with one route to the host's cluster on that port. */
export function defaultVirtualHosts(hosts: readonly string[], services: ServiceIndex, clusters: ClusterRegistry): Map<number, VirtualHost[]> {
  const byPort = new Map<number, VirtualHost[]>();
  for (const host of hosts) {
    for (const port of services.ports(host)) {
      const cluster = clusters.clusterFor({ host, port }, undefined);
      const route: Route = {
        name: "default",
        match: [],
        action: { kind: "route", destinations: [{ cluster, weight: 100 }] },
        retries: { attempts: DEFAULT_RETRY_POLICY.attempts, retryOn: [...DEFAULT_RETRY_POLICY.retryOn] },
      };
      const list = byPort.get(port) ?? [];
      list.push({ name: `${host}:${port}`, domains: [host], routes: [route] });
      byPort.set(port, list);
    }
  }
  return byPort;
}
