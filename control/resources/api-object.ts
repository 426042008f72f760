/**
 * @module api-object
 * Renders a stored object in Kubernetes shape for the version a client asked for. Istio's versions
 * share one schema, so conversion only changes `apiVersion`; the spec is returned exactly as written.
 */
import type { KindInfo } from "./kinds.js";
import type { StoredResource } from "../store/resource-store.js";

export interface ApiObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: unknown;
}

/** The stored object as `group/version`. */
export function toApiObject(r: StoredResource, version: string): ApiObject {
  const metadata: ApiObject["metadata"] = {
    name: r.name,
    namespace: r.namespace,
    uid: r.uid,
    resourceVersion: String(r.resourceVersion),
    generation: r.generation,
    creationTimestamp: r.creationTimestamp,
  };
  if (Object.keys(r.labels).length > 0) metadata.labels = r.labels;
  if (Object.keys(r.annotations).length > 0) metadata.annotations = r.annotations;
  return { apiVersion: `${r.group}/${version}`, kind: r.kind, metadata, spec: JSON.parse(r.spec) as unknown };
}

/** `virtualservices.networking.istio.io "reviews"`, as Kubernetes names an object in messages. */
export function describeObject(kind: KindInfo, name: string): string {
  return `${kind.plural}.${kind.group} "${name}"`;
}
