/**
 * @module build-proxy-config
 * Builds the config one proxy receives (see ../proxy-config.ts) from the mesh's Istio resources:
 * the VirtualServices bound to the proxy's gateways, visible from its namespace (`exportTo`) and,
 * for a sidecar, imported by the Sidecar that applies to it (./sidecar-scope.ts), delegates
 * expanded, become virtual hosts and routes (for a gateway, per server of its Gateway resources:
 * ./gateway-servers.ts); every destination and mirror they name becomes a
 * cluster with its endpoints and its DestinationRule's traffic policy; the security policies
 * selecting the proxy's workload become its inbound config (./inbound.ts). A pure function of its
 * input: the same resources, in any order, give byte-identical JSON. Web APIs only.
 */
import { PROXY_CONFIG_VERSION, type Listener, type ProxyConfig, type ProxyIdentity, type TrustConfig, type VirtualHost } from "../proxy-config.js";
import { ClusterRegistry } from "./clusters.js";
import { expandDelegates } from "./delegate.js";
import { DestinationRuleIndex } from "./destination-rules.js";
import { translateHttpRoute } from "./http-route.js";
import { DEFAULT_TRUST_DOMAIN, buildInbound } from "./inbound.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_ROOT_NAMESPACE, type IstioObject, type ServiceEndpoints, objectId } from "./istio-objects.js";
import { type Obj, obj, objList, text } from "./raw.js";
import { defaultRouteHosts, defaultVirtualHosts } from "./default-routes.js";
import { ServiceIndex } from "./service-index.js";
import { importsVirtualService, sidecarScopeFor } from "./sidecar-scope.js";
import { type GatewayVirtualService, buildGatewayListeners, gatewayResources, httpServersOf } from "./gateway-servers.js";
import { buildListeners, buildVirtualHosts } from "./virtual-hosts.js";
import { appliesToProxy, resolveVirtualServices } from "./virtual-services.js";

export type { IstioObject, ServiceEndpoints } from "./istio-objects.js";

export interface BuildProxyConfigInput {
  /** The mesh's stored resources (any kinds; VirtualService, DestinationRule, ServiceEntry and Kubernetes Service are read). */
  resources: IstioObject[];
  proxy: ProxyIdentity;
  /** The registry's endpoints per service host and port. */
  endpoints?: ServiceEndpoints[];
  /** Kubernetes cluster domain short names resolve under. Default `cluster.local`. */
  clusterDomain?: string;
  /** Istio's root namespace, holding mesh-wide DestinationRules and security policies. Default `istio-system`. */
  rootNamespace?: string;
  /** The mesh's certificate trust (CA roots, revoked serials); copied to the output when given. */
  trust?: TrustConfig;
}

export function buildProxyConfig(input: BuildProxyConfigInput): ProxyConfig {
  const clusterDomain = input.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const rootNamespace = input.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const proxy = normalizeProxy(input.proxy);
  const scope = sidecarScopeFor(input.resources, proxy, rootNamespace);

  const all = resolveVirtualServices(input.resources, clusterDomain);
  const applied = all
    .filter((vs) => appliesToProxy(vs, proxy) && (scope === undefined || importsVirtualService(scope, vs)))
    .map((vs) => ({ vs, routes: expandDelegates(vs, all) }));
  // A sidecar routes every service it can see that no VirtualService routes (Istio's default routes).
  const defaults =
    proxy.kind === "sidecar"
      ? defaultRouteHosts(new ServiceIndex(input.resources, input.endpoints ?? [], proxy.namespace, clusterDomain), scope, applied.flatMap((a) => a.vs.hosts), clusterDomain)
      : [];
  // Only the hosts routes send to get clusters: the rest of the registry is not this proxy's concern.
  const wanted = destinationHosts(applied.flatMap((a) => a.routes));
  for (const host of defaults) wanted.add(host);
  const endpoints = (input.endpoints ?? []).filter((s) => wanted.has(s.host));
  const services = new ServiceIndex(input.resources, endpoints, proxy.namespace, clusterDomain);
  const rules = new DestinationRuleIndex(input.resources, { proxy, rootNamespace, clusterDomain });
  const clusters = new ClusterRegistry(services, rules, clusterDomain);
  const compiled: GatewayVirtualService[] = applied.map(({ vs, routes }) => ({
    id: vs.id,
    namespace: vs.namespace,
    gateways: vs.gateways,
    hosts: vs.hosts,
    routes: routes.map((route, i) => translateHttpRoute(route, { fallbackName: `${vs.id}/${i}`, clusters })),
  }));
  const listeners =
    proxy.kind === "gateway"
      ? gatewayListeners(input.resources, compiled, proxy)
      : withDefaultHosts(buildListeners(buildVirtualHosts(compiled, { proxy })), defaultVirtualHosts(defaults, services, clusters));
  // Routes of a VirtualService that lost all its domains (to an older one, or to a Gateway's server hosts) reach nothing: leave their clusters out.
  const used = new Set(
    listeners.flatMap((l) =>
      l.virtualHosts.flatMap((vh) =>
        vh.routes.flatMap((r) => [...(r.action.kind === "route" ? r.action.destinations.map((d) => d.cluster) : []), ...(r.mirrors ?? []).map((m) => m.cluster)]),
      ),
    ),
  );

  const config: ProxyConfig = {
    version: PROXY_CONFIG_VERSION,
    proxy,
    listeners,
    clusters: clusters.build(used),
    inbound: buildInbound(input.resources, proxy, { rootNamespace, clusterDomain, trustDomain: input.trust?.trustDomain ?? DEFAULT_TRUST_DOMAIN }),
  };
  if (input.trust) config.trust = normalizeTrust(input.trust);
  if (scope?.outboundTrafficPolicy) config.outboundTrafficPolicy = { mode: scope.outboundTrafficPolicy };
  return config;
}

/**
 * A gateway's listeners: one per port of the HTTP servers of its Gateway resources (./gateway-servers.ts).
 * A gateway name with no Gateway resource keeps the VirtualServices bound to it whole: all their hosts
 * on port 0 (and match ports), as when Gateway resources were not consulted; on a shared port the
 * servers' virtual hosts come first.
 */
function gatewayListeners(resources: readonly IstioObject[], virtualServices: readonly GatewayVirtualService[], proxy: ProxyIdentity): Listener[] {
  const gateways = gatewayResources(resources, proxy.gateways);
  const served = new Set(gateways.map(objectId));
  const listeners = new Map(buildGatewayListeners(virtualServices, httpServersOf(gateways), proxy).map((l) => [l.port, l]));
  const unserved = proxy.gateways.filter((g) => !served.has(g));
  if (unserved.length > 0 || listeners.size === 0) {
    const whole = virtualServices.filter((vs) => vs.gateways.some((g) => unserved.includes(g)));
    for (const l of buildListeners(buildVirtualHosts(whole, { proxy }))) {
      const own = listeners.get(l.port);
      if (own) own.virtualHosts = [...own.virtualHosts, ...l.virtualHosts];
      else listeners.set(l.port, l);
    }
  }
  return [...listeners.values()].sort((a, b) => a.port - b.port);
}

/** Adds the default virtual hosts to the listener of their port (made when missing), listeners sorted by port. */
function withDefaultHosts(listeners: Listener[], defaults: ReadonlyMap<number, VirtualHost[]>): Listener[] {
  const byPort = new Map(listeners.map((l) => [l.port, l]));
  for (const [port, hosts] of defaults) {
    const listener = byPort.get(port);
    if (listener) listener.virtualHosts = [...listener.virtualHosts, ...hosts];
    else byPort.set(port, { port, virtualHosts: [...hosts] });
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

/** The (resolved) hosts of every destination and mirror of `routes`. */
function destinationHosts(routes: readonly Obj[]): Set<string> {
  const hosts = new Set<string>();
  const add = (dest: unknown) => {
    const host = text(obj(dest)?.host);
    if (host !== undefined) hosts.add(host);
  };
  for (const route of routes) {
    for (const r of objList(route.route)) add(r.destination);
    add(route.mirror);
    for (const m of objList(route.mirrors)) add(m.destination);
  }
  return hosts;
}

/** A copy of the trust with roots de-duplicated (order kept) and revoked serials lower case, unique and sorted. */
function normalizeTrust(trust: TrustConfig): TrustConfig {
  return {
    trustDomain: trust.trustDomain,
    roots: [...new Set(trust.roots)],
    revokedSerials: [...new Set(trust.revokedSerials.map((s) => s.toLowerCase()))].sort(),
  };
}

/** A copy of the identity with labels and gateways in a stable order. */
function normalizeProxy(proxy: ProxyIdentity): ProxyIdentity {
  const labels: Record<string, string> = {};
  for (const key of Object.keys(proxy.labels).sort()) labels[key] = proxy.labels[key] ?? "";
  const out: ProxyIdentity = { kind: proxy.kind, namespace: proxy.namespace, labels, gateways: [...new Set(proxy.gateways)].sort() };
  if (proxy.workload !== undefined) out.workload = proxy.workload;
  if (proxy.serviceAccount !== undefined) out.serviceAccount = proxy.serviceAccount;
  return out;
}
