/**
 * @module http/read-body
 * Reads a request body: decides its format from the Content-Type (JSON or YAML), refusing other
 * media types with a named error, decodes it as UTF-8 text, and checks small request objects
 * against their schema.
 */
import type { z } from "zod";
import { ResourceInvalid, UnsupportedMediaType } from "../errors.js";
import { parseDocuments, type BodyFormat } from "../resources/parse-documents.js";
import { zodIssuesToFieldErrors } from "../validation/primitives.js";

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

/**
 * The documents in a request's body. Decoded from bytes as UTF-8, since workerd's Request.text()
 * warns on media types such as application/yaml.
 */
export async function readDocuments(request: Request, accepted: "document" | "merge-patch"): Promise<unknown[]> {
  const format = bodyFormat(request.headers.get("content-type") ?? undefined, accepted);
  return parseDocuments(new TextDecoder().decode(await request.arrayBuffer()), format);
}

/** Reads one request object (an empty body is `{}`) and checks it; ResourceInvalid names every bad field. */
export async function readRequestObject<T>(request: Request, schema: z.ZodType<T>, what: string): Promise<T> {
  const [doc] = await readDocuments(request, "document");
  const parsed = schema.safeParse(doc ?? {}, { reportInput: true });
  if (parsed.success) return parsed.data;
  const causes = zodIssuesToFieldErrors(parsed.error.issues, []);
  throw new ResourceInvalid(`${what} is invalid: ${causes.map((e) => `${e.field}: ${e.message}`).join(", ")}`, causes);
}
