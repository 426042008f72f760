/**
 * @module validation/security/fields
 * Small building blocks shared by the security and telemetry validators: zod pieces for the
 * string rules Istio's CRDs state (non-empty strings, HTTP header names, durations of at least
 * 1ms), guards for walking an untrusted spec after the schema pass, and the wrapper that keeps a
 * validator from ever throwing.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { formatFieldPath } from "../field-path.js";
import { parseDurationMs } from "../primitives.js";
import type { SpecValidator } from "../types.js";

export type Path = ReadonlyArray<PropertyKey>;

/** Builds a field error from a path such as `["spec", "rules", 0, "from"]`. */
export function fieldError(path: Path, message: string): FieldError {
  return { field: formatFieldPath(path), message };
}

export { isRecord } from "../raw-value.js";
import { isRecord } from "../raw-value.js";

/** The entries of `value` if it is an array, else none (the schema pass reports the wrong type). */
export function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The own entries of `value` if it is a plain object, else none. */
export function entries(value: unknown): Array<[string, unknown]> {
  return isRecord(value) ? Object.entries(value) : [];
}

/** The strings of a list, with their indexes; non-strings are left to the schema pass. */
export function strings(value: unknown): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  items(value).forEach((v, i) => {
    if (typeof v === "string") out.push([i, v]);
  });
  return out;
}

/** True when `key` is present in `obj` with any value other than undefined (null counts as set). */
export function has(obj: Record<string, unknown>, key: string): boolean {
  return obj[key] !== undefined;
}

/** True when a list field is given at all: anything but absent or `[]` (wrong types are the schema's to report). */
export function listIsSet(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/** True when `value` is a list with at least one entry. */
export function nonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** The CRD's `minLength: 1`, in words that name the value. */
export function emptyMessage(what: string): string {
  return `${what} must not be empty: should be at least 1 chars long`;
}

/** A string of at least one character (`minLength: 1`), optionally at most `max`. */
export function nonEmpty(what: string, max?: number) {
  const base = z.string().min(1, emptyMessage(what));
  return max === undefined ? base : base.max(max, `${what} must be at most ${max} characters long`);
}

/** A list of non-empty strings (Istio refuses empty match values everywhere). */
export function nonEmptyStrings(what: string) {
  return z.array(nonEmpty(what));
}

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

/** An HTTP header name as Istio accepts it for JWT locations and outputs: `^[-_A-Za-z0-9]+$`. */
export function headerNameProblem(name: string): string | undefined {
  if (name === "") return emptyMessage("header name");
  if (!HEADER_NAME.test(name)) {
    return `header name "${name}" should match ${HEADER_NAME.source}: only letters, digits, '-' and '_' are allowed`;
  }
  return undefined;
}

/** A required-when-present header name string. */
export const headerName = z.string().superRefine((name, ctx) => {
  const problem = headerNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A Go-style duration of at least 1ms, worded as Istio's CRDs word it. */
export const durationAtLeast1ms = z.string().superRefine((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `must be a valid duration greater than 1ms: "${text}" is not a duration (write e.g. 100ms, 1.5s or 1h30m)`,
    });
  } else if (ms < 1) {
    ctx.addIssue({ code: "custom", message: `must be a valid duration greater than 1ms, got "${text}"` });
  }
});

/** Refuses lists longer than the CRD's `maxItems` (checked outside zod so item errors still show). */
export function checkMaxItems(value: unknown, max: number, path: Path): FieldError[] {
  if (Array.isArray(value) && value.length > max) {
    return [fieldError(path, `must have at most ${max} items, got ${value.length}`)];
  }
  return [];
}

/** Wraps a validator so that an unexpected exception becomes a field error instead of escaping. */
export function neverThrows(validate: SpecValidator): SpecValidator {
  return (spec, ctx) => {
    try {
      return validate(spec, ctx);
    } catch (err) {
      return [{ field: "spec", message: `could not be validated: ${err instanceof Error ? err.message : String(err)}` }];
    }
  };
}
