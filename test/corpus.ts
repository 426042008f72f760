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
