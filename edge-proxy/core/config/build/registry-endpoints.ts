/**
 * @module registry-endpoints
 * The service registry's endpoints, per service host and port, from every source Weft has (Istio's
 * ServiceEntry and Kubernetes controllers, folded into one pure function):
 *
 * - a ServiceEntry's `workloadSelector` selects WorkloadEntries and registered workloads in its
 *   namespace; each endpoint's port is the workload's port named like the ServiceEntry port, else
 *   that port's `targetPort`, else its number;
 * - a Kubernetes Service's `selector` (Services synced from a cluster, or stored as objects) selects
 *   registered workloads and WorkloadEntries in its namespace; the endpoint port is the numeric
 *   `targetPort` (a WorkloadEntry's port named like the Service port first), a named `targetPort`
 *   looked up in the workload's named ports (absent: no endpoint), or the port itself;
 * - a Kubernetes EndpointSlice (`kubernetes.io/service-name` label) gives its Service's ready
 *   endpoints, ports matched by name; an address a registered workload has takes that workload's labels.
 *
 * A ServiceEntry's static `endpoints` are not repeated here: the builder's service index reads them
 * from the ServiceEntry itself (with their weights, and per the proxy's `exportTo` view).
 * Endpoints are de-duplicated by (host, port, address, endpoint port), the first source winning, and
 * the output is sorted, so equal input in any order gives equal output. Web APIs only.
 */
import { type IstioObject, type ServiceEndpoints, compareByAge, isKubernetesService, isNetworkingKind } from "./istio-objects.js";
import { type Obj, num, obj, objList, str, strList, stringMap, text } from "./raw.js";

/** A workload that registered itself (a row of the registry's `workloads`). */
export interface RegisteredWorkload {
  namespace: string;
  name: string;
  serviceAccount: string;
  address: string;
  labels: Record<string, string>;
  ports: { port: number; name?: string; protocol?: string }[];
}

/** A Kubernetes object a cluster sync posted: `object` is the object as Kubernetes served it. */
export interface KubeObject {
  kind: "Service" | "EndpointSlice";
  namespace: string;
  name: string;
  object: unknown;
}

export interface ServiceEndpointsInput {
  /** Stored objects: ServiceEntries, WorkloadEntries and `v1` Services are read. */
  resources: readonly IstioObject[];
  workloads: readonly RegisteredWorkload[];
  kube: readonly KubeObject[];
  /** Kubernetes Services' hosts are `<name>.<namespace>.svc.<clusterDomain>`. */
  clusterDomain: string;
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

type Endpoint = ServiceEndpoints["endpoints"][number];

/** A workload as a selector sees it: where it is, its labels, and the port for a service port. */
interface Candidate {
  /** A WorkloadEntry's `ports` map overrides a Kubernetes Service's numeric targetPort (Istio's port map); a Pod's named ports do not. */
  entry: boolean;
  namespace: string;
  address: string;
  labels: Record<string, string>;
  /** The port a named port (`http`) maps to, when the workload declares it. */
  namedPort(name: string): number | undefined;
}

interface ServiceView {
  namespace: string;
  name: string;
  spec: Obj;
}

/** Every registry endpoint of every service, sorted by host, port, then address and endpoint port. */
export function serviceEndpointsFrom(input: ServiceEndpointsInput): ServiceEndpoints[] {
  const out = new EndpointCollector();
  const workloads = [...input.workloads].sort((a, b) => compareText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)).map(registeredCandidate);
  const entries = input.resources.filter((o) => isNetworkingKind(o, "WorkloadEntry")).sort(compareByAge).flatMap(workloadEntryCandidate);
  const services = kubernetesServices(input);
  // Selectors look within one namespace; the order decides which of two candidates at one address is kept.
  const entriesFirst = byNamespace([...entries, ...workloads]);
  const workloadsFirst = byNamespace([...workloads, ...entries]);

  for (const se of input.resources.filter((o) => isNetworkingKind(o, "ServiceEntry")).sort(compareByAge)) {
    const spec = obj(se.spec) ?? {};
    const selector = stringMap(obj(spec.workloadSelector)?.labels);
    if (selector === undefined) continue;
    const selected = (entriesFirst.get(se.metadata.namespace) ?? []).filter((w) => selects(selector, w.labels));
    for (const port of objList(spec.ports)) {
      const number = num(port.number);
      if (number === undefined) continue;
      const name = str(port.name) ?? "";
      const fallback = num(port.targetPort) ?? number;
      for (const host of strList(spec.hosts)) {
        for (const w of selected) out.add(host, number, { address: w.address, port: w.namedPort(name) ?? fallback, labels: w.labels });
      }
    }
  }

  for (const svc of services.values()) {
    const selector = stringMap(svc.spec.selector) ?? {};
    if (Object.keys(selector).length === 0 || str(svc.spec.type) === "ExternalName") continue;
    const host = serviceHost(svc, input.clusterDomain);
    const selected = (workloadsFirst.get(svc.namespace) ?? []).filter((w) => selects(selector, w.labels));
    for (const port of objList(svc.spec.ports)) {
      const number = num(port.port);
      if (number === undefined) continue;
      for (const w of selected) {
        const target = targetPortOf(port, w);
        if (target !== undefined) out.add(host, number, { address: w.address, port: target, labels: w.labels });
      }
    }
  }

  const byAddress = new Map<string, Candidate[]>();
  for (const w of workloads) pushTo(byAddress, w.address, w);
  for (const slice of input.kube.filter((k) => k.kind === "EndpointSlice").sort(compareKube)) {
    addEndpointSlice(out, slice, services, byAddress, input.clusterDomain);
  }
  return out.result();
}

/** Kubernetes Services by `namespace/name`: synced ones first, then stored `v1` Service objects. */
function kubernetesServices(input: ServiceEndpointsInput): Map<string, ServiceView> {
  const byKey = new Map<string, ServiceView>();
  const add = (view: ServiceView) => {
    const key = `${view.namespace}/${view.name}`;
    if (!byKey.has(key)) byKey.set(key, view);
  };
  for (const k of input.kube.filter((k) => k.kind === "Service").sort(compareKube)) {
    add({ namespace: k.namespace, name: k.name, spec: obj(obj(k.object)?.spec) ?? {} });
  }
  for (const o of input.resources.filter(isKubernetesService).sort(compareByAge)) {
    add({ namespace: o.metadata.namespace, name: o.metadata.name, spec: obj(o.spec) ?? {} });
  }
  return byKey;
}

/**
 * The endpoint port for a Service port on workload `w`: the numeric targetPort (a WorkloadEntry's
 * port named like the Service port overrides it, as Istio's port map does), a named targetPort looked
 * up in the workload's ports (none: the workload does not serve this port), or the port itself.
 */
function targetPortOf(port: Obj, w: Candidate): number | undefined {
  const name = str(port.name) ?? "";
  const target = port.targetPort;
  if (typeof target === "string" && target !== "") {
    const byNumber = /^\d+$/.test(target) ? Number(target) : undefined;
    return byNumber ?? w.namedPort(target);
  }
  return (w.entry ? w.namedPort(name) : undefined) ?? num(target) ?? num(port.port);
}

function addEndpointSlice(
  out: EndpointCollector,
  slice: KubeObject,
  services: Map<string, ServiceView>,
  workloadsByAddress: Map<string, Candidate[]>,
  clusterDomain: string,
): void {
  const o = obj(slice.object) ?? {};
  const serviceName = text(stringMap(obj(o.metadata)?.labels)?.[SERVICE_NAME_LABEL]);
  if (serviceName === undefined) return;
  const service = services.get(`${slice.namespace}/${serviceName}`);
  const host = serviceHost({ namespace: slice.namespace, name: serviceName }, clusterDomain);
  const slicePorts = objList(o.ports).flatMap((p) => (num(p.port) !== undefined ? [{ name: str(p.name) ?? "", port: num(p.port)! }] : []));
  // Service port → the slice's port of the same name; without the Service, each slice port stands for itself.
  const mapping: [number, number][] = service
    ? objList(service.spec.ports).flatMap((sp) => {
        const number = num(sp.port);
        const match = slicePorts.find((p) => p.name === (str(sp.name) ?? ""));
        return number !== undefined && match ? [[number, match.port] as [number, number]] : [];
      })
    : slicePorts.map((p) => [p.port, p.port]);
  for (const endpoint of objList(o.endpoints)) {
    // Kubernetes: an unknown (absent) ready condition is to be read as ready.
    if (obj(endpoint.conditions)?.ready === false) continue;
    for (const address of strList(endpoint.addresses)) {
      const owners = workloadsByAddress.get(address) ?? [];
      const owner = owners.find((w) => w.namespace === slice.namespace) ?? owners[0];
      for (const [servicePort, port] of mapping) out.add(host, servicePort, { address, port, labels: owner?.labels ?? {} });
    }
  }
}

function registeredCandidate(w: RegisteredWorkload): Candidate {
  return {
    entry: false,
    namespace: w.namespace,
    address: w.address,
    labels: stringMap(w.labels) ?? {},
    namedPort: (name) => (name === "" ? undefined : w.ports.find((p) => p.name === name)?.port),
  };
}

function workloadEntryCandidate(o: IstioObject): Candidate[] {
  const spec = obj(o.spec) ?? {};
  const address = text(spec.address);
  if (address === undefined) return [];
  const ports = obj(spec.ports) ?? {};
  return [{ entry: true, namespace: o.metadata.namespace, address, labels: stringMap(spec.labels) ?? {}, namedPort: (name) => (name === "" ? undefined : num(ports[name])) }];
}

function byNamespace(candidates: readonly Candidate[]): Map<string, Candidate[]> {
  const out = new Map<string, Candidate[]>();
  for (const c of candidates) pushTo(out, c.namespace, c);
  return out;
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function serviceHost(svc: { namespace: string; name: string }, clusterDomain: string): string {
  return `${svc.name}.${svc.namespace}.svc.${clusterDomain}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKube(a: KubeObject, b: KubeObject): number {
  return compareText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`);
}

/** Endpoints grouped by host and port, the first of each (address, port) kept. */
class EndpointCollector {
  private readonly services = new Map<string, { host: string; port: number; endpoints: Map<string, Endpoint> }>();

  add(host: string, port: number, endpoint: Endpoint): void {
    if (!Number.isInteger(endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) return;
    const key = `${host}|${port}`;
    let service = this.services.get(key);
    if (!service) {
      service = { host, port, endpoints: new Map() };
      this.services.set(key, service);
    }
    const id = `${endpoint.address}|${endpoint.port}`;
    if (!service.endpoints.has(id)) service.endpoints.set(id, { address: endpoint.address, port: endpoint.port, labels: { ...endpoint.labels } });
  }

  result(): ServiceEndpoints[] {
    return [...this.services.values()]
      .sort((a, b) => compareText(a.host, b.host) || a.port - b.port)
      .map(({ host, port, endpoints }) => ({
        host,
        port,
        endpoints: [...endpoints.values()].sort((a, b) => compareText(a.address, b.address) || a.port - b.port),
      }));
  }
}
