// A tiny RFC 6902 applier for the tests, written apart from the injector's own, so a patch is checked
// by an independent reading of the RFC: `add` inserts into arrays (`-` appends) and sets object
// members; the parent must exist; JSON Pointer tokens are unescaped (~1 → /, ~0 → ~).
export type Op = { op: string; path: string; value?: unknown };

export function applyPatch<T>(doc: T, ops: readonly Op[]): T {
  const root = JSON.parse(JSON.stringify(doc)) as any;
  for (const { op, path, value } of ops) {
    if (op !== "add") throw new Error(`unexpected op ${op}`);
    const tokens = path.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
    const key = tokens.pop()!;
    let parent = root;
    for (const t of tokens) {
      if (parent === null || typeof parent !== "object" || !(t in parent)) throw new Error(`missing parent for ${path}`);
      parent = parent[t];
    }
    if (Array.isArray(parent)) {
      const i = key === "-" ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length)) throw new Error(`bad index in ${path}`);
      parent.splice(i, 0, value);
    } else {
      if (parent === null || typeof parent !== "object") throw new Error(`parent of ${path} is not an object`);
      parent[key] = value;
    }
  }
  return root as T;
}
