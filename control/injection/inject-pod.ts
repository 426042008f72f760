/**
 * @module injection/inject-pod
 * Sidecar injection for one pod: decides whether to inject (idempotently: a pod carrying
 * `sidecar.istio.io/status` is left alone), checks the annotations, and answers with the RFC 6902
 * JSON Patch that adds `weft-init` (last among init containers, as in Istio's classic mode),
 * `weft-proxy` (last among containers, or first with holdApplicationUntilProxyStarts), their volumes,
 * Istio's labels and the status annotation. Pure: the webhook and kube-inject both use it.
 */
import { isRecord, type Obj } from "../validation/raw-value.js";
import * as A from "./annotation-names.js";
import { initContainer } from "./init-container.js";
import { decideInjection } from "./injection-policy.js";
import { PROXY_CONTAINER_NAME, type InjectionOptions } from "./injection-options.js";
import { readInjectionSettings } from "./injection-settings.js";
import { escapePointerToken, type JsonPatchOp } from "./json-patch.js";
import { readPod, type PodView } from "./pod-view.js";
import { proxyContainer, proxyVolumes } from "./proxy-container.js";
import { workloadName } from "./workload-name.js";

export interface PodInjection {
  /** Empty when nothing is injected. */
  patch: JsonPatchOp[];
  injected: boolean;
  /** Why the pod was left alone. */
  reason?: string;
}

/** The value of `sidecar.istio.io/status`: what was injected, so a second pass knows to stay away. */
export interface InjectionStatus {
  initContainers: string[];
  containers: string[];
  volumes: string[];
  imagePullSecrets: null;
  revision: string;
}

/**
 * Injects `pod` (a Pod or a pod template). Throws `AnnotationInvalid` when a honoured annotation is
 * bad; `subject` names the pod in that message (default `pod "NAME"`).
 */
export function injectPod(pod: unknown, options: InjectionOptions, subject?: string): PodInjection {
  if (!isRecord(pod)) throw new TypeError("injectPod needs a Pod object");
  const view = readPod(pod, options.namespace);
  const skip = (reason: string): PodInjection => ({ patch: [], injected: false, reason });
  if (view.annotations[A.STATUS] !== undefined) return skip(`the pod is already injected (it has the ${A.STATUS} annotation)`);
  if (view.containers.some((c) => c.name === PROXY_CONTAINER_NAME)) return skip(`the pod already has a container named ${PROXY_CONTAINER_NAME}`);
  if (view.containers.length === 0) return skip("the pod has no containers");
  const decision = decideInjection(view, options.defaultPolicy);
  if (!decision.inject) return skip(decision.reason);

  const settings = readInjectionSettings(view, options, subject ?? `pod "${view.name}"`);
  const workload = options.workloadName ?? workloadName(view);
  const initContainers = settings.interceptionMode === "NONE" ? [] : [initContainer(settings, options.image)];
  const volumes = proxyVolumes();
  const status: InjectionStatus = {
    initContainers: initContainers.map((c) => String(c.name)),
    containers: [PROXY_CONTAINER_NAME],
    volumes: volumes.map((v) => String(v.name)),
    imagePullSecrets: null,
    revision: "default",
  };

  const patch: JsonPatchOp[] = [];
  appendAll(patch, "/spec/initContainers", view.initContainers !== undefined, initContainers);
  const sidecar = proxyContainer(view, settings, options, workload);
  patch.push({ op: "add", path: settings.proxyConfig.holdApplicationUntilProxyStarts ? "/spec/containers/0" : "/spec/containers/-", value: sidecar });
  appendAll(patch, "/spec/volumes", view.volumes !== undefined, volumes);
  addMetadata(patch, view, podLabels(view, workload), podAnnotations(view, status));
  return { patch, injected: true };
}

/** Adds `values` at the end of the list at `path`, creating the list when the pod has none. */
function appendAll(patch: JsonPatchOp[], path: string, exists: boolean, values: readonly Obj[]): void {
  if (values.length === 0) return;
  if (!exists) {
    patch.push({ op: "add", path, value: values });
    return;
  }
  for (const value of values) patch.push({ op: "add", path: `${path}/-`, value });
}

function labelValue(text: string): string {
  return text.slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
}

/** Istio's labels, for those the pod does not set itself. */
function podLabels(pod: PodView, workload: string): Record<string, string> {
  const l = pod.labels;
  const wanted: Record<string, string> = {
    [A.TLS_MODE_LABEL]: "istio",
    [A.CANONICAL_NAME_LABEL]: labelValue(l["app.kubernetes.io/name"] ?? l.app ?? workload),
    [A.CANONICAL_REVISION_LABEL]: labelValue(l["app.kubernetes.io/version"] ?? l.version ?? "latest"),
  };
  return Object.fromEntries(Object.entries(wanted).filter(([key, value]) => l[key] === undefined && value !== ""));
}

function podAnnotations(pod: PodView, status: InjectionStatus): Record<string, string> {
  const added: Record<string, string> = {};
  const first = pod.containers[0]?.name;
  if (typeof first === "string") {
    if (pod.annotations[A.DEFAULT_CONTAINER] === undefined) added[A.DEFAULT_CONTAINER] = first;
    if (pod.annotations[A.DEFAULT_LOGS_CONTAINER] === undefined) added[A.DEFAULT_LOGS_CONTAINER] = first;
  }
  added[A.STATUS] = JSON.stringify(status);
  return added;
}

function addMetadata(patch: JsonPatchOp[], pod: PodView, labels: Record<string, string>, annotations: Record<string, string>): void {
  if (!pod.hasMetadata) {
    patch.push({ op: "add", path: "/metadata", value: { labels, annotations } });
    return;
  }
  addEntries(patch, "/metadata/labels", pod.hasLabels, labels);
  addEntries(patch, "/metadata/annotations", pod.hasAnnotations, annotations);
}

function addEntries(patch: JsonPatchOp[], path: string, exists: boolean, entries: Record<string, string>): void {
  if (Object.keys(entries).length === 0) return;
  if (!exists) {
    patch.push({ op: "add", path, value: entries });
    return;
  }
  for (const [key, value] of Object.entries(entries)) patch.push({ op: "add", path: `${path}/${escapePointerToken(key)}`, value });
}
