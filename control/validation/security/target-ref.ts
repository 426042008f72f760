/**
 * @module validation/security/target-ref
 * How a policy says what it applies to: the workload `selector` and the Gateway-API style
 * `targetRef` / `targetRefs` (Istio's PolicyTargetReference). Gives the structural schemas and the
 * semantic checks shared by AuthorizationPolicy, RequestAuthentication and Telemetry (and the
 * selector part by PeerAuthentication): label rules, group/kind patterns and supported kinds,
 * same-namespace references, and "only one of targetRefs or selector".
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { labelProblem } from "../primitives.js";
import type { SpecContext } from "../types.js";
import { checkMaxItems, emptyMessage, entries, fieldError, isRecord, items, type Path } from "./fields.js";

/** `selector: { matchLabels: {...} }`; label rules are checked by {@link checkSelector}. */
export const selectorSchema = z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() });

/** One PolicyTargetReference; patterns and supported kinds are checked by {@link checkTargetRef}. */
export const targetRefSchema = z.strictObject({
  group: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});

/** The `targetRef` and `targetRefs` fields, to spread into a kind's spec schema. */
export const targetRefFields = {
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
};

const GROUP_PATTERN = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND_PATTERN = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const MAX_TARGET_REFS = 16;

/** The resources a policy may attach to, as `group/kind` (the core group is ""). */
const SUPPORTED_TARGETS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: "gateway.networking.k8s.io", kind: "Gateway" },
  { group: "gateway.networking.k8s.io", kind: "GatewayClass" },
  { group: "", kind: "Service" },
  { group: "networking.istio.io", kind: "ServiceEntry" },
];
const SUPPORTED_TEXT = "Gateway (gateway.networking.k8s.io), GatewayClass (gateway.networking.k8s.io), Service (core group \"\"), ServiceEntry (networking.istio.io)";

/** Label keys and values of `spec.selector.matchLabels`. */
export function checkSelector(selector: unknown, path: Path): FieldError[] {
  if (!isRecord(selector)) return [];
  const out: FieldError[] = [];
  for (const [key, value] of entries(selector.matchLabels)) {
    if (typeof value !== "string") continue;
    const at = [...path, "matchLabels", key];
    if (key === "") out.push(fieldError(at, "key must not be empty: label keys need a name"));
    else {
      const problem = labelProblem(key, value);
      if (problem) out.push(fieldError(at, problem));
    }
  }
  return out;
}

/** The group, kind, name and namespace of one reference. */
export function checkTargetRef(ref: unknown, path: Path, ctx: SpecContext): FieldError[] {
  if (!isRecord(ref)) return [];
  const out: FieldError[] = [];
  const { group, kind, name, namespace } = ref;
  let shapeOk = typeof kind === "string";

  if (typeof group === "string") {
    if (group.length > 253) {
      out.push(fieldError([...path, "group"], `group must be at most 253 characters long`));
      shapeOk = false;
    } else if (!GROUP_PATTERN.test(group)) {
      out.push(fieldError([...path, "group"], `group "${group}" should match ${GROUP_PATTERN.source}: empty for the core group, else a DNS subdomain such as gateway.networking.k8s.io`));
      shapeOk = false;
    }
  } else if (group !== undefined) shapeOk = false;

  if (typeof kind === "string") {
    if (kind === "") {
      out.push(fieldError([...path, "kind"], emptyMessage("kind")));
      shapeOk = false;
    } else if (kind.length > 63) {
      out.push(fieldError([...path, "kind"], `kind must be at most 63 characters long`));
      shapeOk = false;
    } else if (!KIND_PATTERN.test(kind)) {
      out.push(fieldError([...path, "kind"], `kind "${kind}" should match ${KIND_PATTERN.source}: a resource kind such as Service or Gateway`));
      shapeOk = false;
    }
  }

  if (shapeOk && typeof kind === "string") {
    const g = typeof group === "string" ? group : "";
    const canonical = g === "core" ? "" : g;
    if (!SUPPORTED_TARGETS.some((t) => t.group === canonical && t.kind === kind)) {
      out.push(fieldError([...path, "kind"], `unsupported target ${kind} in group "${g}": targetRef must be to one of ${SUPPORTED_TEXT}`));
    }
  }

  if (typeof name === "string") {
    if (name === "") out.push(fieldError([...path, "name"], emptyMessage("name")));
    else if (name.length > 253) out.push(fieldError([...path, "name"], `name must be at most 253 characters long`));
  }

  if (typeof namespace === "string" && namespace !== "" && namespace !== ctx.namespace) {
    out.push(fieldError([...path, "namespace"], `cross namespace referencing is not currently supported: namespace "${namespace}" differs from the policy's own namespace "${ctx.namespace}"`));
  }
  return out;
}

/**
 * Everything about attachment in one pass: the selector's labels, each reference, the 16-reference
 * limit, and that at most one of `selector`, `targetRef` and `targetRefs` is set.
 */
export function checkPolicyAttachment(spec: Record<string, unknown>, ctx: SpecContext): FieldError[] {
  const out: FieldError[] = [];
  out.push(...checkSelector(spec.selector, ["spec", "selector"]));
  out.push(...checkTargetRef(spec.targetRef, ["spec", "targetRef"], ctx));
  items(spec.targetRefs).forEach((ref, i) => out.push(...checkTargetRef(ref, ["spec", "targetRefs", i], ctx)));
  out.push(...checkMaxItems(spec.targetRefs, MAX_TARGET_REFS, ["spec", "targetRefs"]));

  const set = (["selector", "targetRef", "targetRefs"] as const).filter((k) => spec[k] !== undefined);
  if (set.length > 1) {
    out.push(fieldError(["spec"], `only one of targetRefs or selector can be set: found ${set.join(", ")}`));
  }
  return out;
}
