/**
 * @module raw
 * Safe reads of Istio specs. The control plane's validators guarantee the specs are well-formed
 * Istio, but the builder still reads them defensively: a value of an unexpected type reads as absent.
 */

export type Obj = Record<string, unknown>;

export function obj(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The plain objects of a list, skipping anything else. */
export function objList(value: unknown): Obj[] {
  return list(value).flatMap((v) => (obj(v) ? [v as Obj] : []));
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function strList(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === "string");
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A string → string map, keys sorted so equal maps serialise identically. */
export function stringMap(value: unknown): Record<string, string> | undefined {
  const o = obj(value);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const key of Object.keys(o).sort()) {
    const v = o[key];
    if (typeof v === "string") out[key] = v;
  }
  return out;
}
