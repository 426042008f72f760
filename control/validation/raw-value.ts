/**
 * @module raw-value
 * Safe reads of untrusted, already-parsed JSON values, for the semantic checks that run after (or
 * despite) a failed schema check: each returns the value when it has the expected type, else undefined.
 */
import { num, obj, str, type Obj } from "../../edge-proxy/core/config/build/raw.js";

export type { Obj };

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Obj {
  return obj(value) !== undefined;
}

/** A plain object, else undefined (the proxy config builder's reader: one definition for both). */
export const asObject = obj;

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

export const asString = str;

/** A finite number. */
export const asNumber = num;
