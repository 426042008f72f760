/**
 * @module injection/injection-policy
 * Whether a pod gets a sidecar, as istiod's `injectRequired` decides: never for host-network pods or
 * pods in the system namespaces; else the pod's `sidecar.istio.io/inject` (the label wins over the
 * annotation of the same name; values other than "true"/"false" count as unset, as in Istio); else
 * the default policy.
 */
import { INJECT } from "./annotation-names.js";
import type { InjectionOptions } from "./injection-options.js";
import type { PodView } from "./pod-view.js";

/** Namespaces istiod never injects into, whatever the pod or the policy says. */
export const IGNORED_NAMESPACES: readonly string[] = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

export interface InjectionDecision {
  inject: boolean;
  /** Why, in a phrase: `label sidecar.istio.io/inject is "false"`. */
  reason: string;
}

/** Decides for `pod` under `defaultPolicy`. */
export function decideInjection(pod: PodView, defaultPolicy: InjectionOptions["defaultPolicy"]): InjectionDecision {
  if (pod.hostNetwork) return { inject: false, reason: "the pod uses the host network" };
  if (pod.namespace !== undefined && IGNORED_NAMESPACES.includes(pod.namespace)) {
    return { inject: false, reason: `namespace "${pod.namespace}" is never injected` };
  }
  const fromLabel = pod.labels[INJECT];
  const [source, value] = fromLabel !== undefined ? ["label", fromLabel] : ["annotation", pod.annotations[INJECT]];
  if (value === "true") return { inject: true, reason: `${source} ${INJECT} is "true"` };
  if (value === "false") return { inject: false, reason: `${source} ${INJECT} is "false"` };
  return defaultPolicy === "enabled"
    ? { inject: true, reason: "the injection policy is enabled" }
    : { inject: false, reason: `the injection policy is disabled and the pod does not set ${INJECT}=true` };
}
