/**
 * @module cli/resource-ref
 * Names and URLs of resources as the CLI prints and requests them: `virtualservice.networking.istio.io/reviews`
 * and `/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews`.
 */
import { kindByName, qualifiedName, type KindInfo } from "../control/resources/kinds.js";
import { isRecord } from "../control/validation/raw-value.js";

export const DEFAULT_NAMESPACE = "default";

/** The URL path of a kind's collection (all namespaces when `namespace` is undefined) or of one object. */
export function resourcePath(kind: KindInfo, namespace: string | undefined, name?: string): string {
  const base = `/apis/${kind.group}/${kind.versions[0]}`;
  const collection = namespace === undefined ? `${base}/${kind.plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** `apiVersion` and `kind` → the kind Weft serves, if it is one. */
export function kindOf(apiVersion: unknown, kindName: unknown): KindInfo | undefined {
  if (typeof apiVersion !== "string" || typeof kindName !== "string") return undefined;
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return kindByName(group, kindName);
}

/** `virtualservice.networking.istio.io/reviews` for a kind and a name. */
export function objectRef(kindInfo: KindInfo, name: string): string {
  return `${qualifiedName(kindInfo)}/${name}`;
}

/** Names a parsed document as well as it can, for messages: `virtualservice.networking.istio.io/reviews`, `service/x`, `<unnamed>`. */
export function describeDocument(doc: unknown): string {
  if (!isRecord(doc)) return "<not an object>";
  const name = isRecord(doc.metadata) && typeof doc.metadata.name === "string" && doc.metadata.name !== "" ? doc.metadata.name : "<unnamed>";
  const info = kindOf(doc.apiVersion, doc.kind);
  if (info) return objectRef(info, name);
  if (typeof doc.kind === "string" && doc.kind !== "") {
    const group = typeof doc.apiVersion === "string" && doc.apiVersion.includes("/") ? `.${doc.apiVersion.split("/")[0]}` : "";
    return `${doc.kind.toLowerCase()}${group}/${name}`;
  }
  return name;
}
