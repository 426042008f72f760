/**
 * @module field-path
 * Turns a path of keys and indexes into the field notation Kubernetes uses in
 * `Status.details.causes[].field`: `spec.http[0].match[1].headers[x-user].exact`.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats `["spec", "http", 0, "route"]` as `spec.http[0].route`. */
export function formatFieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else {
      const name = String(key);
      if (IDENTIFIER.test(name)) out += out === "" ? name : `.${name}`;
      else out += `[${name}]`;
    }
  }
  return out;
}

/** Joins a prefix such as `spec.http[0]` with a relative path. */
export function joinFieldPath(prefix: string, ...rest: PropertyKey[]): string {
  const tail = formatFieldPath(rest);
  if (prefix === "") return tail;
  if (tail === "") return prefix;
  return tail.startsWith("[") ? prefix + tail : `${prefix}.${tail}`;
}
