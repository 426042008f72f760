/**
 * @module injection/inject-manifest
 * kube-inject: injects every pod template of a multi-document YAML manifest (Pods, Deployments,
 * StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, and the items of a `List`) with the same
 * patch the webhook sends, and prints every document back. Documents of other kinds, and workloads
 * left alone, are printed exactly as they were written; injected ones are re-serialised (keeping the
 * comment that opened them).
 */
import { Document, parseAllDocuments } from "yaml";
import { BadRequest, ResourceInvalid } from "../errors.js";
import { isRecord, type Obj } from "../validation/raw-value.js";
import { AnnotationInvalid } from "./annotation-invalid.js";
import type { InjectionOptions } from "./injection-options.js";
import { injectPod } from "./inject-pod.js";
import { applyJsonPatch } from "./json-patch.js";

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** What happened to one workload of the manifest. */
export interface WorkloadInjection {
  /** Document index (0-based), and the item index inside a `List`. */
  document: number;
  item?: number;
  /** `deployment/reviews-v1`. */
  object: string;
  injected: boolean;
  reason?: string;
}

export interface ManifestInjection {
  /** Every document, `---`-separated. */
  text: string;
  workloads: WorkloadInjection[];
}

/**
 * Injects the workloads of `yamlText`. Throws BadRequest for a YAML syntax error and ResourceInvalid
 * (naming the document, the object and the annotation) for a bad injection annotation.
 */
export function injectManifest(yamlText: string, options: InjectionOptions): ManifestInjection {
  const docs = parseAllDocuments(yamlText, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  const pieces: string[] = [];
  const workloads: WorkloadInjection[] = [];
  list.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      const where = error.linePos?.[0] ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : "";
      throw new BadRequest(`malformed YAML in document ${index}${where}: ${error.message.split("\n")[0]}`);
    }
    // The document's exact text: from its start (the file's start for the first, so a header comment
    // stays) to the next document's start.
    const source = yamlText.slice(index === 0 ? 0 : doc.range[0], list[index + 1]?.range[0] ?? yamlText.length);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    let changed = false;
    const inject = (object: Obj, item?: number): Obj => {
      const result = injectObject(object, options, index, item);
      if (result === undefined) return object;
      workloads.push(result.report);
      changed ||= result.report.injected;
      return result.object;
    };
    let output: unknown = value;
    if (isRecord(value) && value.kind === "List" && Array.isArray(value.items)) {
      output = { ...value, items: value.items.map((item, i) => (isRecord(item) ? inject(item, i) : item)) };
    } else if (isRecord(value)) {
      output = inject(value);
    }
    if (!changed) {
      pieces.push(source);
      return;
    }
    const marker = /^---/.test(source.trimStart()) ? "---\n" : "";
    pieces.push(marker + reserialise(output, doc.commentBefore));
  });
  return { text: pieces.map((p, i) => (i < pieces.length - 1 && !p.endsWith("\n") ? `${p}\n` : p)).join(""), workloads };
}

function injectObject(object: Obj, options: InjectionOptions, document: number, item: number | undefined): { object: Obj; report: WorkloadInjection } | undefined {
  const kind = typeof object.kind === "string" ? object.kind : undefined;
  const path = kind === undefined ? undefined : TEMPLATE_PATHS[kind];
  if (kind === undefined || path === undefined) return undefined;
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : options.namespace;
  const objectName = `${kind.toLowerCase()}/${name}`;
  const report: WorkloadInjection = { document, ...(item !== undefined ? { item } : {}), object: objectName, injected: false };

  const template = path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), object);
  if (!isRecord(template)) return { object, report: { ...report, reason: `it has no pod template at ${path.join(".")}` } };
  const subject = kind === "Pod" ? `pod "${name}"` : `the pod template of ${objectName}`;
  let result;
  try {
    result = injectPod(template, { ...options, ...(namespace !== undefined ? { namespace } : {}), workloadName: kind === "Pod" ? (options.workloadName ?? name) : name }, subject);
  } catch (err) {
    if (!(err instanceof AnnotationInvalid)) throw err;
    const at = `document ${document}${item !== undefined ? ` item ${item}` : ""}`;
    throw new ResourceInvalid(`${at}: ${err.message}`, err.causes);
  }
  if (!result.injected) return { object, report: { ...report, ...(result.reason !== undefined ? { reason: result.reason } : {}) } };
  const injected = applyJsonPatch(template, result.patch);
  return { object: replaceAt(object, path, injected), report: { ...report, injected: true } };
}

/** An injected document as YAML, keeping the comment that opened the original. */
function reserialise(value: unknown, commentBefore: string | null | undefined): string {
  const doc = new Document(value);
  if (commentBefore) doc.commentBefore = commentBefore;
  return doc.toString({ lineWidth: 0 });
}

/** A copy of `object` with the value at `path` replaced. */
function replaceAt(object: Obj, path: readonly string[], value: Obj): Obj {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  return { ...object, [head]: replaceAt(object[head] as Obj, rest, value) };
}
