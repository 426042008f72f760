/**
 * @module virtual-hosts
 * Turns the proxy's VirtualServices (routes compiled) into virtual hosts and listeners.
 *
 * Domains: a VirtualService's hosts, resolved (FQDNs, wildcards, `*`); completing the short names
 * an application puts in its Host header (`reviews`, `reviews.default`) is the proxy's job, which
 * knows its namespace. When two VirtualServices claim a domain, a sidecar keeps the oldest one's
 * (Istio skips the duplicate domain); a gateway concatenates their routes, catch-all routes last
 * (Istio's CombineVHostRoutes). Domains with the same VirtualServices behind them share one virtual host,
 * named after them (`ns/a`, or `ns/a,ns/b` when merged).
 *
 * Listeners (sidecars, and gateways named without a Gateway resource): port 0 (any port) holds every
 * virtual host and route; each port a route match names also gets a listener holding only what can
 * match on that port. A proxy uses the listener of the destination port when there is one, else
 * port 0. A gateway's Gateway servers give listeners per server port (./gateway-servers.ts).
 */
import type { Listener, ProxyIdentity, Route, VirtualHost } from "../proxy-config.js";
import { isCatchAllMatch } from "./http-match.js";

export interface CompiledVirtualService {
  id: string;
  hosts: string[];
  routes: Route[];
}

export interface VirtualHostOptions {
  proxy: ProxyIdentity;
  /** Domains whose virtual hosts answer plain HTTP with a redirect to https (a Gateway server's httpsRedirect). */
  requireTls?: ReadonlySet<string>;
}

/** `virtualServices` oldest first; returns virtual hosts sorted by name. */
export function buildVirtualHosts(virtualServices: readonly CompiledVirtualService[], opts: VirtualHostOptions): VirtualHost[] {
  const byDomain = new Map<string, { owners: string[]; routes: Route[] }>();
  for (const vs of virtualServices) {
    if (vs.routes.length === 0) continue;
    for (const domain of new Set(vs.hosts)) {
      const existing = byDomain.get(domain);
      if (!existing) byDomain.set(domain, { owners: [vs.id], routes: vs.routes });
      else if (opts.proxy.kind === "gateway" && !existing.owners.includes(vs.id)) {
        existing.owners.push(vs.id);
        existing.routes = combineRoutes(existing.routes, vs.routes);
      }
    }
  }
  const hosts = new Map<string, VirtualHost>();
  for (const [domain, { owners, routes }] of byDomain) {
    const name = owners.join(",");
    // Domains that must redirect to https cannot share a virtual host with those that need not.
    const requireTls = opts.requireTls?.has(domain) === true;
    const key = requireTls ? `${name}|tls` : name;
    const host = hosts.get(key);
    if (host) host.domains.push(domain);
    else hosts.set(key, requireTls ? { name, domains: [domain], routes, requireTls } : { name, domains: [domain], routes });
  }
  return [...hosts.values()]
    .map((h) => ({ ...h, domains: h.domains.sort() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.requireTls === b.requireTls ? 0 : a.requireTls ? 1 : -1));
}

function isCatchAllRoute(route: Route): boolean {
  return route.match.length === 0 || route.match.every(isCatchAllMatch);
}

/** Istio's CombineVHostRoutes: both route lists in order, with every catch-all route moved to the end. */
function combineRoutes(first: readonly Route[], second: readonly Route[]): Route[] {
  const all = [...first, ...second];
  return [...all.filter((r) => !isCatchAllRoute(r)), ...all.filter(isCatchAllRoute)];
}

export function buildListeners(virtualHosts: readonly VirtualHost[]): Listener[] {
  const ports = new Set<number>();
  for (const vh of virtualHosts) for (const r of vh.routes) for (const m of r.match) if (m.port !== undefined) ports.add(m.port);
  const listeners: Listener[] = [{ port: 0, virtualHosts: [...virtualHosts] }];
  for (const port of [...ports].sort((a, b) => a - b)) {
    const hosts = virtualHosts.flatMap((vh) => {
      const routes = routesForPort(vh.routes, port);
      return routes.length > 0 ? [{ ...vh, routes }] : [];
    });
    listeners.push({ port, virtualHosts: hosts });
  }
  return listeners;
}

/** The routes as seen on `port`: matches naming another port removed, routes left without any dropped. */
export function routesForPort(routes: readonly Route[], port: number): Route[] {
  return routes.flatMap((r) => routeForPort(r, port));
}

/** The route as seen on `port`: only the matches that can hold there; nothing when none can. */
function routeForPort(route: Route, port: number): Route[] {
  if (route.match.length === 0) return [route];
  const match = route.match.filter((m) => m.port === undefined || m.port === port);
  if (match.length === 0) return [];
  return [match.length === route.match.length ? route : { ...route, match }];
}
