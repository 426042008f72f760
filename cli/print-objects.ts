/**
 * @module cli/print-objects
 * Prints fetched objects for `weft get`: a kubectl-style table, or YAML/JSON (a `List` when more than
 * one object could have been returned, the object itself when one was asked for by name).
 */
import { stringify } from "yaml";
import type { KindInfo } from "../control/resources/kinds.js";
import { formatTable } from "./print-table.js";
import { printerColumns } from "./printer-columns.js";

export type OutputFormat = "table" | "wide" | "yaml" | "json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["json", "wide", "yaml"];

/** Lines for `objects` in `format`; `asList` wraps them in a `List` for yaml and json. */
export function formatObjects(
  kind: KindInfo,
  objects: readonly Record<string, unknown>[],
  options: { format: OutputFormat; asList: boolean; allNamespaces: boolean; now: Date },
): string[] {
  if (options.format === "table" || options.format === "wide") {
    const columns = printerColumns(kind, options.allNamespaces);
    return formatTable(
      columns.map((c) => c.header),
      objects.map((o) => columns.map((c) => c.cell(o, options.now))),
    );
  }
  const withType = objects.map((o) => ({ apiVersion: `${kind.group}/${kind.versions[0]}`, kind: kind.kind, ...o }));
  const value = options.asList || withType.length !== 1 ? { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: withType } : withType[0];
  const text = options.format === "json" ? JSON.stringify(value, null, 4) : stringify(value, { indentSeq: false }).trimEnd();
  return text.split("\n");
}
