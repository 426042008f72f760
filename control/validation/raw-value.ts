/**
 * @module raw-value
 * Safe reads of untrusted, already-parsed JSON values, for the semantic checks that run after (or
 * despite) a failed schema check: each returns the value when it has the expected type, else undefined.
 */

export type Obj = Record<string, unknown>;

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A finite number. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
