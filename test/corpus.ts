// Loads the Istio corpus (../shared/istio-corpus, beside the checkout) as one entry per YAML
// document: its text (with Istio's `_err` key removed), the value it parses to, and the expected
// error for the invalid ones. Runs in Node; the Worker tests receive the entries as a binding.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { isMap, parseAllDocuments } from "yaml";

export interface CorpusDocument {
  /** Path inside the corpus, e.g. samples/bookinfo/networking/virtual-service-all-v1.yaml. */
  file: string;
  index: number;
  /** The document's YAML, `_err` removed. */
  yaml: string;
  /** What the document parses to (after removing `_err`). */
  value: unknown;
  /** Istio's expected error for an invalid document. */
  err?: string;
}

export const CORPUS_DIR = join(import.meta.dirname, "..", "..", "shared", "istio-corpus");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

export function loadCorpus(): CorpusDocument[] {
  if (!existsSync(CORPUS_DIR)) {
    throw new Error(`the Istio corpus is missing: expected it at ${CORPUS_DIR} (shared/ beside the checkout)`);
  }
  const out: CorpusDocument[] = [];
  for (const path of yamlFiles(join(CORPUS_DIR, "samples")).sort()) {
    const docs = parseAllDocuments(readFileSync(path, "utf8"));
    const list = Array.isArray(docs) ? docs : [];
    list.forEach((doc, index) => {
      let err: string | undefined;
      if (isMap(doc.contents) && doc.has("_err")) {
        err = String(doc.get("_err"));
        doc.delete("_err");
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return; // an empty document (a trailing `---`)
      const entry: CorpusDocument = { file: relative(CORPUS_DIR, path), index, yaml: String(doc), value };
      if (err !== undefined) entry.err = err;
      out.push(entry);
    });
  }
  return out;
}

/** One corpus object of a given kind, as the validator tests use it. */
export interface CorpusObject {
  /** `<file relative to samples/> <metadata.name>`, e.g. `bookinfo/networking/virtual-service-all-v1.yaml productpage`. */
  label: string;
  /** Path inside the corpus (starting with `samples/`), as in {@link CorpusDocument}. */
  file: string;
  index: number;
  /** `metadata.name`, or "" when there is none. */
  name: string;
  /** `metadata.namespace`, or "default". */
  namespace: string;
  spec: unknown;
  /** Istio's expected error for an invalid document. */
  err: string | undefined;
}

let corpusCache: CorpusDocument[] | undefined;

/**
 * Every corpus document whose `kind` is `kind` and, when `group` is given, whose `apiVersion` is in that
 * API group (e.g. "networking.istio.io", to leave out a Gateway API Gateway). The corpus is parsed once per module.
 */
export function corpusObjects(kind: string, group?: string): CorpusObject[] {
  corpusCache ??= loadCorpus();
  return corpusCache.flatMap(({ file, index, value, err }) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
    const o = value as { apiVersion?: unknown; kind?: unknown; spec?: unknown; metadata?: { name?: string; namespace?: string } };
    if (o.kind !== kind) return [];
    if (group !== undefined && !String(o.apiVersion).startsWith(`${group}/`)) return [];
    return [{
      label: `${relative("samples", file)} ${o.metadata?.name}`,
      file,
      index,
      name: o.metadata?.name ?? "",
      namespace: o.metadata?.namespace ?? "default",
      spec: o.spec,
      err,
    }];
  });
}
