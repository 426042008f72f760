/**
 * @module cli/printer-columns
 * The columns `weft get` prints for each kind: NAME, then the `additionalPrinterColumns` Istio's CRDs
 * declare (HOSTS of a VirtualService, MODE of a PeerAuthentication...), with AGE where Istio puts it.
 */
import type { KindInfo } from "../control/resources/kinds.js";
import { isRecord } from "../control/validation/raw-value.js";
import { humanAge } from "./human-age.js";

export interface PrinterColumn {
  header: string;
  cell(object: Record<string, unknown>, now: Date): string;
}

const AGE: PrinterColumn = { header: "AGE", cell: (o, now) => humanAge(metadataOf(o).creationTimestamp, now) };

/** A `.spec` field printed as kubectl prints a CRD column: scalars as they are, lists and maps as JSON. */
function specColumn(header: string, ...path: string[]): PrinterColumn {
  return {
    header,
    cell(object) {
      let value: unknown = object.spec;
      for (const key of path) value = isRecord(value) ? value[key] : undefined;
      if (value === undefined || value === null) return "";
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    },
  };
}

const EXTRA_COLUMNS: Readonly<Record<string, readonly PrinterColumn[]>> = {
  VirtualService: [specColumn("GATEWAYS", "gateways"), specColumn("HOSTS", "hosts"), AGE],
  DestinationRule: [specColumn("HOST", "host"), AGE],
  ServiceEntry: [specColumn("HOSTS", "hosts"), specColumn("LOCATION", "location"), specColumn("RESOLUTION", "resolution"), AGE],
  WorkloadEntry: [AGE, specColumn("ADDRESS", "address")],
  PeerAuthentication: [specColumn("MODE", "mtls", "mode"), AGE],
  AuthorizationPolicy: [specColumn("ACTION", "action"), AGE],
};

const NAME: PrinterColumn = { header: "NAME", cell: (o) => stringField(metadataOf(o).name) };
const NAMESPACE: PrinterColumn = { header: "NAMESPACE", cell: (o) => stringField(metadataOf(o).namespace) };

/** The columns for `kind`; NAMESPACE first when listing across namespaces (`-A`). */
export function printerColumns(kind: KindInfo, allNamespaces: boolean): PrinterColumn[] {
  const columns = [NAME, ...(EXTRA_COLUMNS[kind.kind] ?? [AGE])];
  return allNamespaces ? [NAMESPACE, ...columns] : columns;
}

function metadataOf(object: Record<string, unknown>): Record<string, unknown> {
  return isRecord(object.metadata) ? object.metadata : {};
}

function stringField(value: unknown): string {
  return typeof value === "string" ? value : "";
}
