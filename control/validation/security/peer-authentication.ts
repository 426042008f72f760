/**
 * @module validation/security/peer-authentication
 * Istio's admission rules for PeerAuthentication (security.istio.io): the strict shape of
 * `selector`, `mtls` and `portLevelMtls`, the mTLS mode enum, port keys 1-65535, a non-empty
 * `portLevelMtls`, and that port-level settings need a workload selector. PeerAuthentication has no
 * `targetRef` in Istio's API, so one is refused as an unknown field.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { checkSchema } from "../primitives.js";
import type { SpecValidator } from "../types.js";
import { entries, fieldError, isRecord, neverThrows } from "./fields.js";
import { checkSelector, selectorSchema } from "./target-ref.js";

const MTLS_MODES = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"] as const;

const mtls = z.strictObject({ mode: z.enum(MTLS_MODES).optional() });

const peerAuthenticationSpec = z.strictObject({
  selector: selectorSchema.optional(),
  mtls: mtls.optional(),
  portLevelMtls: z.record(z.string(), mtls).optional(),
});

/** The problem with one `portLevelMtls` key, which must be a port number 1-65535. */
export function portKeyProblem(key: string): string | undefined {
  if (!/^[-+]?\d+$/.test(key)) {
    return `port "${key}" is not a number (type conversion error from string to int): port must be between 1-65535`;
  }
  const n = Number(key);
  if (n < 1 || n > 65535) return `port must be between 1-65535, got ${key}`;
  return undefined;
}

function checkPortLevelMtls(spec: Record<string, unknown>): FieldError[] {
  const ports = spec.portLevelMtls;
  if (!isRecord(ports)) return [];
  const out: FieldError[] = [];
  const keys = Object.keys(ports);
  if (keys.length === 0) {
    out.push(fieldError(["spec", "portLevelMtls"], "portLevelMtls should have at least 1 properties when set: omit it instead of leaving it empty"));
  }
  for (const key of keys) {
    const problem = portKeyProblem(key);
    if (problem) out.push(fieldError(["spec", "portLevelMtls", key], problem));
  }
  const selector = spec.selector;
  const labels = isRecord(selector) ? entries(selector.matchLabels) : [];
  if (labels.length === 0) {
    out.push(fieldError(["spec", "portLevelMtls"], "portLevelMtls requires selector: a mesh- or namespace-wide PeerAuthentication (no selector.matchLabels) cannot set port-level mTLS"));
  }
  return out;
}

export const validatePeerAuthentication: SpecValidator = neverThrows((spec) => {
  const errors = checkSchema(peerAuthenticationSpec, spec, ["spec"]);
  if (!isRecord(spec)) return errors;
  errors.push(...checkSelector(spec.selector, ["spec", "selector"]));
  errors.push(...checkPortLevelMtls(spec));
  return errors;
});
