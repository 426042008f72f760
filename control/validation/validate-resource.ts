/**
 * @module validate-resource
 * Validates one whole submitted document: apiVersion and kind (refusing unsupported Istio kinds by
 * name), Kubernetes metadata, unknown top-level fields, then the kind's own spec validator.
 * The same function serves the HTTP API, bulk apply, the admission webhook and `weft validate`.
 */
import type { FieldError } from "../errors.js";
import { KINDS, UNSUPPORTED_KINDS, kindByName, type KindInfo } from "../resources/kinds.js";
import { isRecord } from "./raw-value.js";
import { labelProblem } from "./primitives.js";

/** A document that passed validation, in the shape the store keeps. */
export interface ValidatedResource {
  kind: KindInfo;
  /** The version the caller wrote in `apiVersion`. */
  version: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: unknown;
  /** `metadata.resourceVersion` as given, for optimistic concurrency. */
  resourceVersion?: string;
}

export type ValidationResult = { ok: true; value: ValidatedResource } | { ok: false; errors: FieldError[] };

const TOP_LEVEL = new Set(["apiVersion", "kind", "metadata", "spec", "status"]);
/** ObjectMeta fields a client may send (server-set ones are accepted and ignored, as Kubernetes does). */
const METADATA_FIELDS = new Set([
  "name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp",
  "generateName", "managedFields", "finalizers", "ownerReferences", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink",
]);
const ISTIO_GROUPS = new Set(KINDS.map((k) => k.group));
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface ValidateOptions {
  /** Namespace used when the document names none (the URL's, or the CLI's `-n`). */
  defaultNamespace?: string;
}

/** Validates `doc`; returns every problem found, or the normalized resource. */
export function validateResource(doc: unknown, opts: ValidateOptions = {}): ValidationResult {
  const errors: FieldError[] = [];
  if (!isRecord(doc)) {
    return { ok: false, errors: [{ field: "<document>", message: `must be an object with apiVersion, kind, metadata and spec, got ${describe(doc)}` }] };
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key)) errors.push({ field: key, message: `unknown field "${key}"` });
  }

  const kindInfo = resolveKind(doc, errors);
  const version = typeof doc.apiVersion === "string" ? doc.apiVersion.split("/")[1] ?? "" : "";
  const meta = validateMetadata(doc.metadata, errors, opts.defaultNamespace);

  if (doc.spec === undefined || doc.spec === null) {
    errors.push({ field: "spec", message: "Required value" });
  } else if (kindInfo && meta) {
    errors.push(...kindInfo.validate(doc.spec, { name: meta.name, namespace: meta.namespace }));
  }
  if (errors.length > 0 || !kindInfo || !meta) return { ok: false, errors };
  const value: ValidatedResource = {
    kind: kindInfo,
    version,
    name: meta.name,
    namespace: meta.namespace,
    labels: meta.labels,
    annotations: meta.annotations,
    spec: doc.spec,
  };
  if (meta.resourceVersion !== undefined) value.resourceVersion = meta.resourceVersion;
  return { ok: true, value };
}

function resolveKind(doc: Record<string, unknown>, errors: FieldError[]): KindInfo | undefined {
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== "string" || apiVersion === "") {
    errors.push({ field: "apiVersion", message: apiVersion === undefined ? "Required value" : "must be a string such as networking.istio.io/v1" });
  }
  if (typeof kind !== "string" || kind === "") {
    errors.push({ field: "kind", message: kind === undefined ? "Required value" : "must be a string such as VirtualService" });
  }
  if (typeof apiVersion !== "string" || typeof kind !== "string" || apiVersion === "" || kind === "") return undefined;

  const unsupported = UNSUPPORTED_KINDS[kind];
  if (unsupported !== undefined) {
    errors.push({ field: "kind", message: `${kind} is not supported by Weft: ${unsupported}` });
    return undefined;
  }
  const [group, version, extra] = apiVersion.split("/");
  if (version === undefined || extra !== undefined || !ISTIO_GROUPS.has(group ?? "")) {
    errors.push({
      field: "apiVersion",
      message: `${kind} of apiVersion "${apiVersion}" is not an Istio kind Weft stores; Weft serves ${[...ISTIO_GROUPS].join(", ")}`,
    });
    return undefined;
  }
  const info = kindByName(group!, kind);
  if (!info) {
    const known = KINDS.filter((k) => k.group === group).map((k) => k.kind);
    errors.push({ field: "kind", message: `unknown kind "${kind}" in ${group}: supported kinds are ${known.join(", ")}` });
    return undefined;
  }
  if (!info.versions.includes(version)) {
    errors.push({ field: "apiVersion", message: `version "${version}" of ${group} is not served: use one of ${info.versions.join(", ")}` });
    return undefined;
  }
  return info;
}

interface Meta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion?: string;
}

function validateMetadata(metadata: unknown, errors: FieldError[], defaultNamespace: string | undefined): Meta | undefined {
  if (!isRecord(metadata)) {
    errors.push({ field: "metadata", message: metadata === undefined ? "Required value" : `must be an object, got ${describe(metadata)}` });
    return undefined;
  }
  const before = errors.length;
  for (const key of Object.keys(metadata)) {
    if (!METADATA_FIELDS.has(key)) errors.push({ field: `metadata.${key}`, message: `unknown field "${key}"` });
  }
  const { name, namespace } = metadata;
  if (name === undefined || name === "") {
    errors.push({ field: "metadata.name", message: "Required value: name is required" });
  } else if (typeof name !== "string" || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errors.push({ field: "metadata.name", message: `invalid name ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  }
  const ns = namespace ?? defaultNamespace ?? "default";
  if (typeof ns !== "string" || ns.length > 63 || !DNS1123_LABEL.test(ns)) {
    errors.push({ field: "metadata.namespace", message: `invalid namespace ${JSON.stringify(ns)}: a lowercase RFC 1123 label of at most 63 characters` });
  }
  const labels = stringMap(metadata.labels, "metadata.labels", errors, (k, v) => labelProblem(k, v));
  const annotations = stringMap(metadata.annotations, "metadata.annotations", errors, (k) =>
    labelProblem(k, "") ? `invalid annotation key "${k}"` : undefined,
  );
  const rv = metadata.resourceVersion;
  if (rv !== undefined && (typeof rv !== "string" || !/^\d+$/.test(rv))) {
    errors.push({ field: "metadata.resourceVersion", message: `must be a string of digits as the server returned it, got ${JSON.stringify(rv)}` });
  }
  if (errors.length > before) return undefined;
  const meta: Meta = { name: name as string, namespace: ns as string, labels, annotations };
  if (typeof rv === "string") meta.resourceVersion = rv;
  return meta;
}

function stringMap(
  value: unknown,
  field: string,
  errors: FieldError[],
  check: (key: string, value: string) => string | undefined,
): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    errors.push({ field, message: `must be a map of strings, got ${describe(value)}` });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      errors.push({ field: `${field}[${k}]`, message: `must be a string, got ${describe(v)}` });
      continue;
    }
    const problem = check(k, v);
    if (problem) errors.push({ field: `${field}[${k}]`, message: problem });
    out[k] = v;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  return typeof value;
}
