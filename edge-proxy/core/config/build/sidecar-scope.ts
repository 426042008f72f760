/**
 * @module sidecar-scope
 * Which Sidecar resource applies to a sidecar proxy, and what its `egress[].hosts` let the proxy
 * import, as Istio's SidecarScope computes them:
 *
 * - the Sidecar: the oldest one in the proxy's namespace whose `workloadSelector.labels` ⊆ the
 *   proxy's labels; else the oldest one in its namespace without a selector; else the oldest one in
 *   the root namespace without a selector (the mesh default). Gateways are not scoped by Sidecars.
 * - hosts are `namespace/dnsName`: namespace `*` (any), `.` (the proxy's namespace, also for the
 *   root namespace's default), `~` (none) or a name; dnsName an FQDN, a `*.` wildcard, or `*`.
 *   A Sidecar without `egress` imports everything (Istio's default listener: any namespace, any host).
 * - a VirtualService in namespace N is imported when one of its hosts equals an entry for N or `*`,
 *   or, when either is a wildcard, overlaps it (Istio's VSMatches for Istio APIs). Services and
 *   DestinationRules follow: a proxy gets clusters only for the destinations of its imported
 *   VirtualServices, which Istio adds to the scope whatever the egress hosts say.
 */
import type { ProxyIdentity } from "../proxy-config.js";
import { type IstioObject, compareByAge, hostCoveredBy, isNetworkingKind, objectId } from "./istio-objects.js";
import { obj, objList, str, strList, stringMap } from "./raw.js";

/** One `egress[].hosts` entry, namespace resolved (`.` → the proxy's namespace). */
export interface EgressImport {
  /** A namespace, `*` for any, or `~` for none. */
  namespace: string;
  /** FQDN, `*.suffix` or `*`. */
  host: string;
}

export type OutboundTrafficMode = "ALLOW_ANY" | "REGISTRY_ONLY";

export interface SidecarScope {
  /** `namespace/name` of the Sidecar applied. */
  sidecar: string;
  imports: EgressImport[];
  /** The Sidecar's `outboundTrafficPolicy.mode` when it sets one (absent: the mesh default). */
  outboundTrafficPolicy?: OutboundTrafficMode;
}

const ALL_HOSTS = "*/*";

/** The Sidecar resource that applies to `proxy` (see the module header), or undefined. */
export function findSidecar(resources: readonly IstioObject[], proxy: ProxyIdentity, rootNamespace: string): IstioObject | undefined {
  const sidecars = resources.filter((o) => isNetworkingKind(o, "Sidecar")).sort(compareByAge);
  const selectorOf = (o: IstioObject) => stringMap(obj(obj(o.spec)?.workloadSelector)?.labels) ?? {};
  const inNamespace = sidecars.filter((o) => o.metadata.namespace === proxy.namespace);
  const selecting = inNamespace.find((o) => {
    const selector = selectorOf(o);
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => proxy.labels[k] === v);
  });
  if (selecting) return selecting;
  const namespaceDefault = inNamespace.find((o) => Object.keys(selectorOf(o)).length === 0);
  if (namespaceDefault) return namespaceDefault;
  return sidecars.find((o) => o.metadata.namespace === rootNamespace && Object.keys(selectorOf(o)).length === 0);
}

/** The scope of a sidecar proxy; undefined for a gateway, or when no Sidecar applies (everything exportTo allows is visible). */
export function sidecarScopeFor(resources: readonly IstioObject[], proxy: ProxyIdentity, rootNamespace: string): SidecarScope | undefined {
  if (proxy.kind !== "sidecar") return undefined;
  const sidecar = findSidecar(resources, proxy, rootNamespace);
  if (!sidecar) return undefined;
  const spec = obj(sidecar.spec) ?? {};
  const egress = objList(spec.egress);
  const hosts = egress.length === 0 ? [ALL_HOSTS] : egress.flatMap((listener) => strList(listener.hosts));
  const imports: EgressImport[] = [];
  for (const entry of hosts) {
    const parts = entry.split("/");
    // Istio skips an entry not of the form namespace/dnsName (validation refuses it anyway).
    if (parts.length !== 2 || !parts[0] || !parts[1]) continue;
    imports.push({ namespace: parts[0] === "." ? proxy.namespace : parts[0], host: parts[1] });
  }
  const scope: SidecarScope = { sidecar: objectId(sidecar), imports };
  const policy = obj(spec.outboundTrafficPolicy);
  if (policy) scope.outboundTrafficPolicy = str(policy.mode) === "ALLOW_ANY" ? "ALLOW_ANY" : "REGISTRY_ONLY";
  return scope;
}

function importsFor(scope: SidecarScope, namespace: string): EgressImport[] {
  return scope.imports.filter((i) => i.namespace === namespace || i.namespace === "*");
}

/** Whether the scope imports a VirtualService of `namespace` with these (resolved) hosts. */
export function importsVirtualService(scope: SidecarScope, vs: { namespace: string; hosts: readonly string[] }): boolean {
  const imports = importsFor(scope, vs.namespace);
  return vs.hosts.some((h) =>
    imports.some((i) => h === i.host || ((h.startsWith("*") || i.host.startsWith("*")) && (hostCoveredBy(h, i.host) || hostCoveredBy(i.host, h)))),
  );
}
