/**
 * @module service-index
 * What the builder knows about services, for one proxy: each host's ports (from the registry,
 * visible ServiceEntries and Kubernetes Services), the namespace a host belongs to (for
 * DestinationRule lookup), and the endpoints of a host and port — the registry's when it has
 * them, else a ServiceEntry's static endpoints (or, for DNS resolution without endpoints, the
 * host itself).
 */
import type { Endpoint } from "../proxy-config.js";
import { type IstioObject, type ServiceEndpoints, compareByAge, isExportedTo, isKubernetesService, isNetworkingKind } from "./istio-objects.js";
import { type Obj, num, obj, objList, str, strList, stringMap, text } from "./raw.js";

/** Used when a destination names no port and the service's port is unknown or ambiguous. */
export const FALLBACK_PORT = 80;

interface ServiceEntryView {
  namespace: string;
  hosts: string[];
  spec: Obj;
}

export class ServiceIndex {
  private readonly registry: ServiceEndpoints[];
  private readonly serviceEntries: ServiceEntryView[];
  /** host → ports of Kubernetes Services. */
  private readonly kubePorts = new Map<string, number[]>();

  constructor(resources: readonly IstioObject[], registry: readonly ServiceEndpoints[], proxyNamespace: string, clusterDomain: string) {
    this.registry = [...registry];
    this.serviceEntries = resources
      .filter((o) => isNetworkingKind(o, "ServiceEntry") && isExportedTo(obj(o.spec)?.exportTo, o.metadata.namespace, proxyNamespace))
      .sort(compareByAge)
      .map((o) => ({ namespace: o.metadata.namespace, hosts: strList(obj(o.spec)?.hosts), spec: obj(o.spec) ?? {} }));
    for (const svc of resources.filter(isKubernetesService)) {
      const host = `${svc.metadata.name}.${svc.metadata.namespace}.svc.${clusterDomain}`;
      const ports = objList(obj(svc.spec)?.ports).flatMap((p) => (num(p.port) !== undefined ? [num(p.port)!] : []));
      this.kubePorts.set(host, [...(this.kubePorts.get(host) ?? []), ...ports]);
    }
  }

  /** Every port the registry, ServiceEntries or Kubernetes Services give `host`, ascending. */
  ports(host: string): number[] {
    const ports = new Set<number>(this.kubePorts.get(host) ?? []);
    for (const s of this.registry) if (s.host === host) ports.add(s.port);
    for (const se of this.entriesFor(host)) for (const p of objList(se.spec.ports)) if (num(p.number) !== undefined) ports.add(num(p.number)!);
    return [...ports].sort((a, b) => a - b);
  }

  /** Every host a Kubernetes Service, a visible ServiceEntry or the registry names, sorted. */
  hosts(): string[] {
    const hosts = new Set<string>(this.kubePorts.keys());
    for (const s of this.registry) hosts.add(s.host);
    for (const se of this.serviceEntries) for (const h of se.hosts) hosts.add(h);
    return [...hosts].sort();
  }

  /** The service's port when it has exactly one, else undefined. */
  uniquePort(host: string): number | undefined {
    const ports = this.ports(host);
    return ports.length === 1 ? ports[0] : undefined;
  }

  /** The namespace `host` belongs to: a Kubernetes FQDN's, else the oldest ServiceEntry's declaring it. */
  namespaceOf(host: string, clusterDomain: string): string | undefined {
    const suffix = `.svc.${clusterDomain}`;
    if (host.endsWith(suffix)) {
      const parts = host.slice(0, -suffix.length).split(".");
      if (parts.length === 2 && parts[1]) return parts[1];
    }
    return this.entriesFor(host)[0]?.namespace;
  }

  /** The endpoints of `host:port`, before any subset filter, sorted by address then port. */
  endpoints(host: string, port: number): Endpoint[] {
    const fromRegistry = this.registry.filter((s) => s.host === host && s.port === port);
    const out: Endpoint[] =
      fromRegistry.length > 0
        ? fromRegistry.flatMap((s) => s.endpoints.map((e) => ({ address: e.address, port: e.port, labels: stringMap(e.labels) ?? {} })))
        : this.entriesFor(host).flatMap((se) => serviceEntryEndpoints(se.spec, host, port));
    return out.sort((a, b) => (a.address !== b.address ? (a.address < b.address ? -1 : 1) : a.port - b.port));
  }

  private entriesFor(host: string): ServiceEntryView[] {
    return this.serviceEntries.filter((se) => se.hosts.includes(host));
  }
}

/**
 * A ServiceEntry's endpoints for one of its ports: static endpoints (STATIC, or DNS with endpoints)
 * at the endpoint's named port, else the port's targetPort, else the port itself; for DNS without
 * endpoints, the host itself. NONE (passthrough to the original destination) and DYNAMIC_DNS have none.
 */
function serviceEntryEndpoints(spec: Obj, host: string, port: number): Endpoint[] {
  const servicePort = objList(spec.ports).find((p) => num(p.number) === port);
  if (!servicePort) return [];
  const resolution = str(spec.resolution) ?? "NONE";
  const portName = str(servicePort.name) ?? "";
  const defaultPort = num(servicePort.targetPort) ?? port;
  const declared = objList(spec.endpoints);
  if (resolution === "STATIC" || ((resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && declared.length > 0)) {
    return declared.flatMap((e) => {
      const address = text(e.address);
      if (address === undefined) return [];
      const endpoint: Endpoint = { address, port: num(obj(e.ports)?.[portName]) ?? defaultPort, labels: stringMap(e.labels) ?? {} };
      const weight = num(e.weight);
      if (weight !== undefined && weight > 0) endpoint.weight = weight;
      return [endpoint];
    });
  }
  if ((resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && !host.includes("*")) {
    return [{ address: host, port: defaultPort, labels: {} }];
  }
  return [];
}
