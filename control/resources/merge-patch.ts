/**
 * @module merge-patch
 * JSON Merge Patch (RFC 7386): objects merge key by key, `null` removes a key, anything else replaces.
 */
import { isRecord } from "../validation/raw-value.js";

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
