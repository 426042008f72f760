/**
 * @module destination-rule
 * Validator of DestinationRule specs (networking.istio.io): the host (a service name, optionally
 * with a leading wildcard), the top-level and per-subset traffic policies (see
 * {@link ./traffic-policy.ts}), subsets (named with unique DNS-1123 labels, Kubernetes label
 * selectors), exportTo, and a matchLabels workload selector (no wildcards; it confines exportTo to
 * the rule's own namespace).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import type { SpecValidator } from "../types.js";
import { checkSchema, hostProblem } from "../primitives.js";
import { checkExportTo } from "./se-export-to.js";
import { checkTrafficPolicy, trafficPolicySchema } from "./traffic-policy.js";
import { arr, checkLabels, checkSelectorLabels, dnsLabelProblem, fieldError, isSet, matchLabelsSelectorSchema, obj, str } from "./we-common.js";

const subsetSchema = z.strictObject({
  name: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  trafficPolicy: trafficPolicySchema.optional(),
});

const destinationRuleSchema = z.strictObject({
  host: z.string(),
  trafficPolicy: trafficPolicySchema.optional(),
  subsets: z.array(subsetSchema).optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: matchLabelsSelectorSchema.optional(),
});

export const validateDestinationRule: SpecValidator = (spec, ctx) => {
  const out = checkSchema(destinationRuleSchema, spec, ["spec"]);
  const dr = obj(spec);
  if (!dr) return out;

  const host = str(dr.host);
  if (host !== undefined) {
    const problem = hostProblem(host);
    if (problem) out.push(fieldError(["spec", "host"], problem));
  }
  out.push(...checkTrafficPolicy(dr.trafficPolicy, ["spec", "trafficPolicy"]));
  out.push(...checkSubsets(dr.subsets));
  out.push(...checkSelectorLabels(obj(dr.workloadSelector)?.matchLabels, ["spec", "workloadSelector", "matchLabels"]));
  out.push(
    ...checkExportTo(dr.exportTo, ["spec", "exportTo"], {
      namespace: ctx.namespace,
      destinationRuleWithSelector: isSet(dr, "workloadSelector"),
    }),
  );
  return out;
};

function checkSubsets(raw: unknown): FieldError[] {
  const out: FieldError[] = [];
  const names = new Set<string>();
  arr(raw)?.forEach((entry, i) => {
    const subset = obj(entry);
    if (!subset) return;
    const at = ["spec", "subsets", i];
    const name = str(subset.name);
    if (name !== undefined) {
      if (name === "") out.push(fieldError([...at, "name"], "subset name cannot be empty"));
      else if (names.has(name)) out.push(fieldError([...at, "name"], `Duplicate value: "${name}": subset names must be unique`));
      else {
        const problem = dnsLabelProblem(name, "subset name");
        if (problem) out.push(fieldError([...at, "name"], problem));
      }
      names.add(name);
    }
    out.push(...checkLabels(subset.labels, [...at, "labels"]));
    out.push(...checkTrafficPolicy(subset.trafficPolicy, [...at, "trafficPolicy"]));
  });
  return out;
}
