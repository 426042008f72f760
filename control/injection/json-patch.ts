/**
 * @module injection/json-patch
 * The JSON Patch (RFC 6902) operations the injector emits, JSON Pointer (RFC 6901) escaping, and a
 * small applier for the `add`, `replace` and `remove` operations, so kube-inject can apply to a
 * manifest exactly the patch the webhook would send.
 */
import { isRecord } from "../validation/raw-value.js";

export type JsonPatchOp =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

/** One reference token of a JSON Pointer: `~` becomes `~0`, `/` becomes `~1`. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapePointerToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Applies `ops` in order to a deep copy of `document` and returns the copy. */
export function applyJsonPatch<T>(document: T, ops: readonly JsonPatchOp[]): T {
  let root: unknown = structuredClone(document);
  for (const op of ops) {
    if (op.path === "") {
      if (op.op === "remove") throw new TypeError("JSON Patch: cannot remove the whole document");
      root = structuredClone(op.value);
      continue;
    }
    if (!op.path.startsWith("/")) throw new TypeError(`JSON Patch: path "${op.path}" must start with "/"`);
    const tokens = op.path.slice(1).split("/").map(unescapePointerToken);
    const last = tokens.pop()!;
    let parent: unknown = root;
    for (const token of tokens) {
      parent = Array.isArray(parent) ? parent[Number(token)] : isRecord(parent) ? parent[token] : undefined;
      if (parent === undefined) throw new TypeError(`JSON Patch: path "${op.path}" does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new TypeError(`JSON Patch: bad array index in "${op.path}"`);
      if (op.op === "add") parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === "replace") parent[index] = structuredClone(op.value);
      else parent.splice(index, 1);
    } else if (isRecord(parent)) {
      if (op.op === "remove") delete parent[last];
      else parent[last] = structuredClone(op.value);
    } else {
      throw new TypeError(`JSON Patch: the parent of "${op.path}" is not an object or array`);
    }
  }
  return root as T;
}
