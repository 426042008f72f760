/**
 * @module injection/workload-name
 * The name of the workload a pod belongs to, as Istio derives it for ISTIO_META_WORKLOAD_NAME and
 * the canonical-name label: the controlling owner's name, with a ReplicaSet's pod-template-hash
 * suffix removed (so a Deployment's pods say the Deployment); else the pod's own name.
 */
import type { PodView } from "./pod-view.js";

export function workloadName(pod: PodView): string {
  const owner = pod.ownerReferences.find((o) => o.controller === true) ?? pod.ownerReferences[0];
  const ownerName = typeof owner?.name === "string" ? owner.name : undefined;
  if (ownerName !== undefined) {
    const hash = pod.labels["pod-template-hash"];
    if (owner?.kind === "ReplicaSet" && hash && ownerName.endsWith(`-${hash}`)) return ownerName.slice(0, -(hash.length + 1));
    return ownerName;
  }
  return pod.name.replace(/-$/, "");
}
