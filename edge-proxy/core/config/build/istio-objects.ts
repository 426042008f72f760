/**
 * @module istio-objects
 * The builder's input vocabulary and Istio's naming rules over it: which objects are which kind,
 * the order Istio gives them (oldest first), who may see them (`exportTo`), and how short names
 * resolve (hosts to FQDNs in the object's namespace, gateway names to `namespace/name`).
 */
import { strList } from "./raw.js";

/** A stored Istio object (or a Kubernetes Service) as the builder reads it. */
export interface IstioObject {
  kind: string;
  apiVersion?: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    /** RFC 3339; orders objects as Istio does (oldest first). Optional: name, then namespace, break ties. */
    creationTimestamp?: string;
  };
  /** Validated upstream (control/validation); read defensively here. */
  spec: any;
}

/** The registry's view of one service port: its FQDN, the service port, and the workloads behind it. */
export interface ServiceEndpoints {
  /** FQDN, e.g. `reviews.default.svc.cluster.local`. */
  host: string;
  /** The service port. */
  port: number;
  endpoints: { address: string; port: number; labels: Record<string, string> }[];
}

export const NETWORKING_GROUP = "networking.istio.io";
/** Istio's default mesh root namespace, where mesh-wide DestinationRules live. */
export const DEFAULT_ROOT_NAMESPACE = "istio-system";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
/** The implicit gateway of every sidecar. */
export const MESH_GATEWAY = "mesh";

/** True for an object of `kind` in networking.istio.io (any version; a missing apiVersion is accepted). */
export function isNetworkingKind(o: IstioObject, kind: string): boolean {
  return o.kind === kind && (o.apiVersion === undefined || o.apiVersion.startsWith(`${NETWORKING_GROUP}/`));
}

/** A core Kubernetes Service (`v1`), used only for its ports. */
export function isKubernetesService(o: IstioObject): boolean {
  return o.kind === "Service" && (o.apiVersion === undefined || o.apiVersion === "v1");
}

/** `namespace/name`. */
export function objectId(o: IstioObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

/**
 * Istio's config order: creation time, then name, then namespace (pilot's sortConfigByCreationTime).
 * Where Istio lets the oldest object win, so does the builder, and the order never depends on input order.
 */
export function compareByAge(a: IstioObject, b: IstioObject): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
  if (a.metadata.namespace !== b.metadata.namespace) return a.metadata.namespace < b.metadata.namespace ? -1 : 1;
  return 0;
}

/**
 * Whether an object in `objectNamespace` with this `exportTo` is visible from `namespace`. No
 * exportTo means everywhere (Istio's default `*`); `.` is the object's own namespace; `~` is no one.
 */
export function isExportedTo(exportTo: unknown, objectNamespace: string, namespace: string): boolean {
  const entries = strList(exportTo);
  if (entries.length === 0) return true;
  return entries.some((e) => e === "*" || (e === "." ? objectNamespace : e) === namespace);
}

function isIpAddress(host: string): boolean {
  return host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * Istio's ResolveShortnameToFQDN: a name without dots is a Kubernetes service in `namespace`
 * (`reviews` → `reviews.<namespace>.svc.<clusterDomain>`); FQDNs, wildcards and IPs stay as written.
 */
export function resolveHost(host: string, namespace: string, clusterDomain: string): string {
  if (host === "*" || host.includes(".") || isIpAddress(host)) return host;
  return `${host}.${namespace}.svc.${clusterDomain}`;
}

/**
 * Istio's ResolveGatewayName: `mesh` stays; `gw` and `./gw` are `<namespace>/gw`; `ns/gw` stays;
 * the legacy `gw.ns.svc.cluster.local` form becomes `ns/gw`.
 */
export function resolveGatewayName(ref: string, namespace: string): string {
  if (ref === MESH_GATEWAY) return ref;
  const slash = ref.indexOf("/");
  if (slash >= 0) return ref.slice(0, slash) === "." ? `${namespace}/${ref.slice(slash + 1)}` : ref;
  const dot = ref.indexOf(".");
  if (dot < 0) return `${namespace}/${ref}`;
  const rest = ref.slice(dot + 1);
  const nextDot = rest.indexOf(".");
  return `${nextDot < 0 ? rest : rest.slice(0, nextDot)}/${ref.slice(0, dot)}`;
}

/** Whether every name `host` covers is covered by `pattern` (`*.a.com` covers `b.a.com` and `*.b.a.com`; `*` covers all). */
export function hostCoveredBy(host: string, pattern: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.startsWith("*")) return host === pattern;
  const suffix = pattern.slice(1);
  if (host.startsWith("*")) return host.length >= pattern.length && host.slice(1).endsWith(suffix);
  return host.endsWith(suffix);
}
