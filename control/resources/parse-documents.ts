/**
 * @module parse-documents
 * Reads a request body or a file into a list of documents: JSON (one object, an array, or a
 * Kubernetes `List`) or YAML (one or many `---`-separated documents). Syntax errors become a
 * `BadRequest` naming the document and line; empty YAML documents are skipped.
 */
import { parseAllDocuments } from "yaml";
import { BadRequest } from "../errors.js";
import { isRecord } from "../validation/raw-value.js";

export type BodyFormat = "json" | "yaml";

/** Parses `text` as `format`; returns the documents in order. */
export function parseDocuments(text: string, format: BodyFormat): unknown[] {
  return format === "json" ? parseJson(text) : parseYaml(text);
}

function parseJson(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`malformed JSON: ${(err as Error).message}`);
  }
  return unwrapList(value);
}

function parseYaml(text: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  // parseAllDocuments returns an EmptyStream (array-like) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  const out: unknown[] = [];
  list.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      const where = error.linePos?.[0] ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : "";
      throw new BadRequest(`malformed YAML in document ${index}${where}: ${error.message.split("\n")[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new BadRequest(`malformed YAML in document ${index}: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) return; // `---` with nothing after it, or only comments
    out.push(...unwrapList(value));
  });
  return out;
}

/** A Kubernetes `List` (what `kubectl get -o yaml` prints) or a JSON array stands for its items. */
function unwrapList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
    return value.items;
  }
  return [value];
}

