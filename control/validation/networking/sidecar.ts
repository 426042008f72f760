/**
 * @module sidecar
 * Validator of Sidecar specs (networking.istio.io): the workload selector (labels, no wildcards,
 * not empty), ingress and egress listeners (see {@link ./sidecar-listeners.ts}), the
 * outboundTrafficPolicy (REGISTRY_ONLY or ALLOW_ANY; an egressProxy only with ALLOW_ANY, to an FQDN
 * on a non-zero port) and the inbound connection pool. A Sidecar must configure something: egress
 * is optional (it is inherited from the namespace or mesh default) but an empty spec is refused.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import type { SpecValidator } from "../types.js";
import { checkSchema } from "../primitives.js";
import { checkEgress, checkIngress, egressListenerSchema, ingressListenerSchema } from "./sidecar-listeners.js";
import { checkConnectionPool, connectionPoolSchema } from "./traffic-policy.js";
import { checkSelectorLabels, dnsLabelProblem, fieldError, fqdnProblem, intRange, isSet, labelsSelectorSchema, obj, str, type Path } from "./we-common.js";

const egressProxySchema = z.strictObject({
  host: z.string(),
  subset: z.string().optional(),
  port: z.strictObject({ number: intRange(0, 65535, "port number").optional() }).optional(),
});

const sidecarSchema = z.strictObject({
  workloadSelector: labelsSelectorSchema.optional(),
  ingress: z.array(ingressListenerSchema).optional(),
  egress: z.array(egressListenerSchema).optional(),
  inboundConnectionPool: connectionPoolSchema.optional(),
  outboundTrafficPolicy: z
    .strictObject({
      mode: z.enum(["REGISTRY_ONLY", "ALLOW_ANY"]).optional(),
      egressProxy: egressProxySchema.optional(),
    })
    .optional(),
});

const PARTS = ["ingress", "egress", "outboundTrafficPolicy", "inboundConnectionPool"];

export const validateSidecar: SpecValidator = (spec) => {
  const out = checkSchema(sidecarSchema, spec, ["spec"]);
  const sidecar = obj(spec);
  if (!sidecar) return out;

  if (!PARTS.some((p) => isSet(sidecar, p))) {
    out.push(fieldError(["spec"], `empty configuration provided: set at least one of ${PARTS.join(", ")}`));
  }
  const selector = obj(sidecar.workloadSelector);
  if (selector) {
    const labels = obj(selector.labels);
    if (!labels || Object.keys(labels).length === 0) {
      out.push(fieldError(["spec", "workloadSelector", "labels"], "workloadSelector cannot have empty labels"));
    }
    out.push(...checkSelectorLabels(labels, ["spec", "workloadSelector", "labels"]));
  }
  out.push(...checkIngress(sidecar.ingress, ["spec", "ingress"]));
  out.push(...checkConnectionPool(sidecar.inboundConnectionPool, ["spec", "inboundConnectionPool"]));
  out.push(...checkEgress(sidecar.egress, ["spec", "egress"]));
  out.push(...checkOutboundTrafficPolicy(sidecar.outboundTrafficPolicy, ["spec", "outboundTrafficPolicy"]));
  return out;
};

function checkOutboundTrafficPolicy(raw: unknown, path: Path): FieldError[] {
  const policy = obj(raw);
  const proxy = obj(policy?.egressProxy);
  if (!policy || !proxy) return [];
  const out: FieldError[] = [];
  const mode = typeof policy.mode === "string" ? policy.mode : "REGISTRY_ONLY";
  if (mode !== "ALLOW_ANY") {
    out.push(fieldError([...path, "egressProxy"], `egressProxy must be set only with ALLOW_ANY outboundTrafficPolicy mode, got ${mode}`));
  }
  const at = [...path, "egressProxy"];
  const host = str(proxy.host);
  const hostProblem = host === undefined ? undefined : fqdnProblem(host);
  if (hostProblem) out.push(fieldError([...at, "host"], hostProblem));
  const portNumber = obj(proxy.port)?.number;
  if (portNumber === undefined || portNumber === 0) {
    out.push(fieldError([...at, "port", "number"], "egressProxy port must be non-zero"));
  }
  const subset = str(proxy.subset);
  const subsetProblem = subset ? dnsLabelProblem(subset, "subset name") : undefined;
  if (subsetProblem) out.push(fieldError([...at, "subset"], subsetProblem));
  return out;
}
