/**
 * @module cli/ca-output
 * Printing for the `weft ca` commands: timestamps and fingerprints the way their tables show them,
 * and `-o json|yaml` of a listing exactly as the API returns it (`{"items": [...]}`).
 */
import { stringify } from "yaml";
import { UsageError } from "./errors.js";

export type ListFormat = "table" | "json" | "yaml";
const LIST_FORMATS = ["json", "yaml"] as const;

/** How many hex digits of a SHA-256 fingerprint tables show (enough to be unique, short enough to type). */
export const SHORT_FINGERPRINT_LENGTH = 16;

/** The `-o` value of a `weft ca` listing; a `UsageError` for `helpTopic` when it is not json or yaml. */
export function listFormat(value: string | undefined, helpTopic: string): ListFormat {
  if (value === undefined) return "table";
  if ((LIST_FORMATS as readonly string[]).includes(value)) return value as ListFormat;
  throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: ${LIST_FORMATS.join(",")}`, helpTopic);
}

/** The lines of `{items}` as JSON (indented like `weft get -o json`) or YAML. */
export function formatItems(items: readonly unknown[], format: "json" | "yaml"): string[] {
  const value = { items };
  const text = format === "json" ? JSON.stringify(value, null, 4) : stringify(value, { indentSeq: false }).trimEnd();
  return text.split("\n");
}

/** An RFC 3339 timestamp to the second (`2035-11-24T18:58:03Z`); `<unknown>` when it is not a date. */
export function timestamp(value: unknown): string {
  if (typeof value !== "string") return "<unknown>";
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return "<unknown>";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The first 16 hex digits of a fingerprint. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, SHORT_FINGERPRINT_LENGTH);
}

/**
 * A hex reference as people paste it (`AB:CD:...`, `0xabcd`, `serial=ABCD`, spaces) made into the
 * lowercase digits the API uses; undefined when what is left is not hex.
 */
export function normalizeHex(reference: string): string | undefined {
  const digits = reference
    .trim()
    .replace(/^(?:serial|sha256 fingerprint)=/i, "")
    .replace(/^0x/i, "")
    .replace(/[:\s]/g, "")
    .toLowerCase();
  return /^[0-9a-f]+$/.test(digits) ? digits : undefined;
}
