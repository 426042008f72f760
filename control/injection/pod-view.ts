/**
 * @module injection/pod-view
 * A typed read of the parts of an untrusted Pod (or pod template) the injector looks at. Values of the
 * wrong type read as absent; the API server has already checked the pod's shape.
 */
import { isRecord, type Obj } from "../validation/raw-value.js";

export interface PodView {
  /** `metadata.name`, else `generateName`, else "". */
  name: string;
  namespace: string | undefined;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  hostNetwork: boolean;
  containers: readonly Obj[];
  /** Undefined when the pod has no such list (the patch must then create it). */
  initContainers: readonly Obj[] | undefined;
  volumes: readonly Obj[] | undefined;
  ownerReferences: readonly Obj[];
  /** Whether `metadata`, `metadata.labels` and `metadata.annotations` exist as objects (else the patch creates them). */
  hasMetadata: boolean;
  hasLabels: boolean;
  hasAnnotations: boolean;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function records(value: unknown): Obj[] | undefined {
  return Array.isArray(value) ? value.filter(isRecord) : undefined;
}

/** Reads `pod`; `namespace` stands in when the pod's metadata names none. */
export function readPod(pod: Obj, namespace: string | undefined): PodView {
  const metadata = isRecord(pod.metadata) ? pod.metadata : {};
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const name = typeof metadata.name === "string" ? metadata.name : typeof metadata.generateName === "string" ? metadata.generateName : "";
  return {
    name,
    namespace: typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : namespace,
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
    hostNetwork: spec.hostNetwork === true,
    containers: records(spec.containers) ?? [],
    initContainers: records(spec.initContainers),
    volumes: records(spec.volumes),
    ownerReferences: records(metadata.ownerReferences) ?? [],
    hasMetadata: isRecord(pod.metadata),
    hasLabels: isRecord(metadata.labels),
    hasAnnotations: isRecord(metadata.annotations),
  };
}
