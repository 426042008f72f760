/**
 * @module workload-entry
 * Validator of WorkloadEntry specs (networking.istio.io): a single non-Kubernetes workload (a VM,
 * a bare-metal host) that ServiceEntries can select. The rules live in {@link ./we-entry.ts}, shared
 * with ServiceEntry endpoints and WorkloadGroup templates.
 */
import type { SpecValidator } from "../types.js";
import { checkSchema } from "../primitives.js";
import { checkWorkloadEntry, workloadEntrySchema } from "./we-entry.js";

export const validateWorkloadEntry: SpecValidator = (spec) => {
  return [
    ...checkSchema(workloadEntrySchema, spec, ["spec"]),
    ...checkWorkloadEntry(spec, ["spec"], { requireAddress: true, address: "ip-or-fqdn" }),
  ];
};
