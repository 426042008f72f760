/**
 * @module http/read-body
 * Decides how to read a request body from its Content-Type (JSON or YAML), refusing other media
 * types with a named error.
 */
import { UnsupportedMediaType } from "../errors.js";
import type { BodyFormat } from "../resources/parse-documents.js";

const YAML_TYPES = new Set(["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/apply-patch+yaml"]);
const JSON_TYPES = new Set(["application/json", ""]);

/** The body format for a Content-Type header, or throws UnsupportedMediaType. */
export function bodyFormat(contentType: string | undefined, accepted: "document" | "merge-patch"): BodyFormat {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (accepted === "merge-patch") {
    if (type === "application/merge-patch+json") return "json";
    throw new UnsupportedMediaType(
      `PATCH takes Content-Type application/merge-patch+json (JSON merge patch, RFC 7386); got "${type || "none"}"`,
    );
  }
  if (JSON_TYPES.has(type)) return "json";
  if (YAML_TYPES.has(type)) return "yaml";
  throw new UnsupportedMediaType(`Content-Type "${type}" is not supported: send application/json or application/yaml`);
}
