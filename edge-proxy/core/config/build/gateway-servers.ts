/**
 * @module gateway-servers
 * What a gateway proxy serves, from the networking.istio.io Gateway resources it runs (Istio's
 * MergeGateways and buildGatewayHTTPRouteConfig, HTTP only): each HTTP-capable server becomes a
 * listener on its port; a VirtualService bound to the server's Gateway contributes its routes there
 * only for its hosts that intersect the server's hosts (wildcards either side; the server host's
 * namespace part limits which VirtualServices may), under the more specific of the two names. A
 * server host no VirtualService meets gets nothing (Istio answers 404). `httpsRedirect` marks the
 * server's virtual hosts `requireTls`; an HTTPS server's TLS settings are recorded on the listener.
 * Also which Gateways a gateway's own labels select (`gatewaysSelecting`).
 */
import type { Listener, ListenerTls, ProxyIdentity, VirtualHost } from "../proxy-config.js";
import { type IstioObject, compareByAge, hostCoveredBy, isNetworkingKind, objectId } from "./istio-objects.js";
import { obj, objList, strList, text } from "./raw.js";
import { type CompiledVirtualService, buildVirtualHosts, routesForPort } from "./virtual-hosts.js";

/** One host of a Gateway server: `namespace/host`, or `host` (any namespace). */
export interface ServerHost {
  /** The namespace whose VirtualServices may use it; `*` any; `./` already resolved to the Gateway's. */
  namespace: string;
  host: string;
}

/** A Gateway server that routes HTTP (protocol HTTP, HTTP2, GRPC, GRPC-WEB, or HTTPS terminating TLS). */
export interface GatewayServer {
  /** `namespace/name` of its Gateway. */
  gateway: string;
  port: number;
  hosts: ServerHost[];
  /** HTTPS and TLS servers only. */
  tls?: ListenerTls;
  /** Plain HTTP answered with a redirect to https (`tls.httpsRedirect`). */
  httpsRedirect: boolean;
}

/** A VirtualService for the proxy, routes compiled, with what server matching needs. */
export interface GatewayVirtualService extends CompiledVirtualService {
  namespace: string;
  /** `namespace/name` or `mesh`. */
  gateways: string[];
}

const HTTP_PROTOCOLS = new Set(["HTTP", "HTTP2", "GRPC", "GRPC-WEB"]);
const TLS_MODES = new Set<ListenerTls["mode"]>(["SIMPLE", "MUTUAL", "ISTIO_MUTUAL", "PASSTHROUGH", "AUTO_PASSTHROUGH"]);

/**
 * `namespace/name` of every Gateway whose non-empty `spec.selector` is a subset of `labels`, in any
 * namespace (Istio with PILOT_SCOPE_GATEWAY_TO_NAMESPACE off), sorted.
 */
export function gatewaysSelecting(resources: readonly IstioObject[], labels: Readonly<Record<string, string>>): string[] {
  const ids = new Set<string>();
  for (const o of resources) {
    if (!isNetworkingKind(o, "Gateway")) continue;
    const selector = obj(obj(o.spec)?.selector);
    if (!selector) continue;
    const entries = Object.entries(selector);
    if (entries.length === 0) continue;
    if (entries.every(([key, value]) => typeof value === "string" && Object.hasOwn(labels, key) && labels[key] === value)) ids.add(objectId(o));
  }
  return [...ids].sort();
}

/** The Gateway resources among `resources` named by `gateways` (`namespace/name`), oldest first. */
export function gatewayResources(resources: readonly IstioObject[], gateways: readonly string[]): IstioObject[] {
  const wanted = new Set(gateways);
  return resources.filter((o) => isNetworkingKind(o, "Gateway") && wanted.has(objectId(o))).sort(compareByAge);
}

/** The HTTP servers of `gateways` (already ordered), in order; TCP, TLS and passthrough servers carry no HTTP routes and are left out. */
export function httpServersOf(gateways: readonly IstioObject[]): GatewayServer[] {
  const servers: GatewayServer[] = [];
  for (const gw of gateways) {
    const namespace = gw.metadata.namespace;
    for (const server of objList(obj(gw.spec)?.servers)) {
      const port = obj(server.port);
      const number = port?.number;
      if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > 65535) continue;
      const protocol = (text(port?.protocol) ?? "").toUpperCase();
      const tls = obj(server.tls);
      const out: GatewayServer = { gateway: objectId(gw), port: number, hosts: strList(server.hosts).map((h) => parseServerHost(h, namespace)), httpsRedirect: tls?.httpsRedirect === true };
      if (protocol === "HTTPS") {
        const mode = tlsMode(text(tls?.mode));
        // Passthrough hands the TLS stream on untouched: only TLS routes apply, never HTTP ones.
        if (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") continue;
        out.tls = { mode };
        const credentialName = text(tls?.credentialName);
        if (credentialName !== undefined) out.tls.credentialName = credentialName;
      } else if (!HTTP_PROTOCOLS.has(protocol)) continue;
      servers.push(out);
    }
  }
  return servers;
}

/** Istio's ServerTLSSettings mode: PASSTHROUGH when unset (the enum's zero value); OPTIONAL_MUTUAL recorded as MUTUAL. */
function tlsMode(mode: string | undefined): ListenerTls["mode"] {
  if (mode === "OPTIONAL_MUTUAL") return "MUTUAL";
  return mode !== undefined && TLS_MODES.has(mode as ListenerTls["mode"]) ? (mode as ListenerTls["mode"]) : "PASSTHROUGH";
}

/** `ns/host` (`.` is the Gateway's namespace) or `host` (any namespace). */
export function parseServerHost(raw: string, gatewayNamespace: string): ServerHost {
  const slash = raw.indexOf("/");
  if (slash < 0) return { namespace: "*", host: raw };
  const ns = raw.slice(0, slash);
  return { namespace: ns === "." ? gatewayNamespace : ns, host: raw.slice(slash + 1) };
}

/**
 * The domains `vs` gets on `server` (Istio's pickMatchingGatewayHosts): for each VirtualService host
 * meeting a server host its namespace part admits (one covering the other), the more specific of the
 * two. Sorted, unique.
 */
export function intersectHosts(server: GatewayServer, vs: Pick<GatewayVirtualService, "namespace" | "hosts">): string[] {
  const domains = new Set<string>();
  for (const sh of server.hosts) {
    if (sh.namespace !== "*" && sh.namespace !== vs.namespace) continue;
    for (const vsHost of vs.hosts) {
      if (hostCoveredBy(vsHost, sh.host)) domains.add(vsHost);
      else if (hostCoveredBy(sh.host, vsHost)) domains.add(sh.host);
    }
  }
  return [...domains].sort();
}

/**
 * One listener per server port (sorted by port): on each, the virtual hosts of the VirtualServices
 * bound to a server's Gateway, limited to the intersecting domains and to the routes that can match
 * on that port. Several servers on one port share the listener: its TLS kind is the first server's
 * (a later server of the other kind is ignored, as Istio refuses the conflict); a domain several
 * servers give requires TLS when any of them redirects.
 */
export function buildGatewayListeners(virtualServices: readonly GatewayVirtualService[], servers: readonly GatewayServer[], proxy: ProxyIdentity): Listener[] {
  type Port = { tls: GatewayServer["tls"]; hosts: Map<string, Set<string>>; redirect: Set<string> };
  const ports = new Map<number, Port>();
  for (const server of servers) {
    let port = ports.get(server.port);
    if (!port) {
      port = { tls: server.tls, hosts: new Map(), redirect: new Set() };
      ports.set(server.port, port);
    } else if ((port.tls === undefined) !== (server.tls === undefined)) continue;
    for (const vs of virtualServices) {
      if (!vs.gateways.includes(server.gateway)) continue;
      const domains = intersectHosts(server, vs);
      if (domains.length === 0) continue;
      const hosts = port.hosts.get(vs.id) ?? new Set<string>();
      for (const d of domains) {
        hosts.add(d);
        if (server.httpsRedirect) port.redirect.add(d);
      }
      port.hosts.set(vs.id, hosts);
    }
  }
  const listeners: Listener[] = [];
  for (const [number, port] of [...ports].sort((a, b) => a[0] - b[0])) {
    // Oldest first, as given: buildVirtualHosts lets the order decide how routes combine.
    const onPort: CompiledVirtualService[] = virtualServices.flatMap((vs) => {
      const hosts = port.hosts.get(vs.id);
      if (!hosts) return [];
      const routes = routesForPort(vs.routes, number);
      return routes.length > 0 ? [{ id: vs.id, hosts: [...hosts].sort(), routes }] : [];
    });
    const virtualHosts: VirtualHost[] = buildVirtualHosts(onPort, { proxy, requireTls: port.redirect });
    const listener: Listener = { port: number, virtualHosts };
    if (port.tls) listener.tls = { ...port.tls };
    listeners.push(listener);
  }
  return listeners;
}
