/**
 * @module se-export-to
 * Istio's `exportTo` rules, shared by ServiceEntry and DestinationRule: each entry is `.` (this
 * namespace), `*` (everyone) or a namespace name; `~` (no one) only on a ServiceEntry and only alone;
 * no duplicates (`.` and the object's own namespace count as the same); `*` only alone; and a
 * DestinationRule with a workload selector may export only to its own namespace.
 */
import type { FieldError } from "../../errors.js";
import { arr, dnsLabelProblem, fieldError, type Path } from "./we-common.js";

export interface ExportToOptions {
  /** The object's namespace, which `.` stands for. */
  namespace: string;
  /** ServiceEntry allows `~`. */
  serviceEntry?: boolean;
  /** A DestinationRule with a workloadSelector cannot be exported beyond its namespace. */
  destinationRuleWithSelector?: boolean;
}

export function checkExportTo(raw: unknown, path: Path, opts: ExportToOptions): FieldError[] {
  const entries = arr(raw);
  if (!entries || entries.length === 0) return [];
  const out: FieldError[] = [];
  // key (with "." resolved to the namespace) -> the entry as written
  const seen = new Map<string, string>();
  entries.forEach((entry, i) => {
    if (typeof entry !== "string") return; // the schema reports the type
    const key = entry === "." ? opts.namespace : entry;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      out.push(
        fieldError(
          [...path, i],
          earlier !== entry
            ? `Duplicate value: "${entry}": duplicate entries in exportTo: "." and the current namespace "${opts.namespace}" are the same`
            : `Duplicate value: "${entry}": duplicate entries in exportTo`,
        ),
      );
      return;
    }
    if (entry === "~" && opts.serviceEntry) {
      seen.set(key, entry);
      return;
    }
    if (entry !== "." && entry !== "*") {
      const problem = dnsLabelProblem(entry, "exportTo entry");
      if (problem) {
        out.push(fieldError([...path, i], `${problem}; only ".", "*"${opts.serviceEntry ? ', "~"' : ""} or a namespace name is allowed`));
        return;
      }
    }
    seen.set(key, entry);
  });

  if (opts.destinationRuleWithSelector && seen.size > 0) {
    if (!seen.has(opts.namespace)) {
      out.push(fieldError(path, `destination rule with workload selector cannot have exportTo beyond current namespace "${opts.namespace}"`));
    } else if (seen.size > 1) {
      out.push(fieldError(path, "destination rule with workload selector cannot have multiple entries in exportTo"));
    }
  }
  if (seen.has("*") && entries.length > 1) {
    out.push(fieldError(path, 'cannot have both public ("*") and non-public exportTo values for a resource'));
  }
  if (opts.serviceEntry && seen.has("~") && entries.length > 1) {
    out.push(fieldError(path, 'cannot export service entry to no one ("~") and someone'));
  }
  return out;
}
