/**
 * @module validation/types
 * The contract every kind's validator keeps: take the raw `spec` (already parsed from JSON or YAML,
 * untrusted), return every problem found with its full field path (starting at `spec`).
 * An empty list means valid. Validators never throw on bad input.
 */
import type { FieldError } from "../errors.js";

export interface SpecContext {
  /** The object's metadata.namespace (after defaulting). */
  namespace: string;
  /** The object's metadata.name. */
  name: string;
}

export type SpecValidator = (spec: unknown, ctx: SpecContext) => FieldError[];
