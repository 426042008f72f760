/**
 * @module virtual-services
 * Which VirtualServices a proxy gets, with their names resolved as Istio resolves them before it
 * builds anything: hosts and destination hosts to FQDNs in the VirtualService's namespace, gateway
 * names (of the VirtualService and of each match) to `namespace/name`. A VirtualService applies
 * when its gateways (default `mesh`) meet the proxy's and its exportTo lets the proxy's namespace
 * see it; one without hosts is a delegate, used only through a root's `delegate`.
 */
import type { ProxyIdentity } from "../proxy-config.js";
import { type IstioObject, MESH_GATEWAY, compareByAge, isExportedTo, isNetworkingKind, objectId, resolveGatewayName, resolveHost } from "./istio-objects.js";
import { type Obj, obj, objList, strList, text } from "./raw.js";

export interface ResolvedVirtualService {
  /** `namespace/name`. */
  id: string;
  namespace: string;
  /** Hosts as FQDNs (or wildcards); empty for a delegate. */
  hosts: string[];
  /** `namespace/name` or `mesh`. */
  gateways: string[];
  exportTo: unknown;
  /** `spec.http`, copied, with hosts and gateway names resolved. */
  http: Obj[];
}

export function resolveVirtualService(o: IstioObject, clusterDomain: string): ResolvedVirtualService {
  const ns = o.metadata.namespace;
  const spec = obj(o.spec) ?? {};
  const gateways = strList(spec.gateways);
  const http = objList(structuredClone(spec.http ?? []));
  const host = (h: unknown) => {
    const d = obj(h);
    const name = text(d?.host);
    if (d && name !== undefined) d.host = resolveHost(name, ns, clusterDomain);
  };
  for (const route of http) {
    for (const dest of objList(route.route)) host(dest.destination);
    host(route.mirror);
    for (const m of objList(route.mirrors)) host(m.destination);
    for (const match of objList(route.match)) {
      if (Array.isArray(match.gateways)) match.gateways = strList(match.gateways).map((g) => resolveGatewayName(g, ns));
    }
  }
  return {
    id: objectId(o),
    namespace: ns,
    hosts: strList(spec.hosts).map((h) => resolveHost(h, ns, clusterDomain)),
    gateways: (gateways.length > 0 ? gateways : [MESH_GATEWAY]).map((g) => resolveGatewayName(g, ns)),
    exportTo: spec.exportTo,
    http,
  };
}

/** Every VirtualService of `resources`, resolved, oldest first. */
export function resolveVirtualServices(resources: readonly IstioObject[], clusterDomain: string): ResolvedVirtualService[] {
  return resources
    .filter((o) => isNetworkingKind(o, "VirtualService"))
    .sort(compareByAge)
    .map((o) => resolveVirtualService(o, clusterDomain));
}

/** Whether `vs` is a root or plain VirtualService that `proxy` routes with. */
export function appliesToProxy(vs: ResolvedVirtualService, proxy: ProxyIdentity): boolean {
  if (vs.hosts.length === 0) return false;
  if (!vs.gateways.some((g) => proxy.gateways.includes(g))) return false;
  return isExportedTo(vs.exportTo, vs.namespace, proxy.namespace);
}
