/**
 * @module resource-service
 * The resource API's operations over the store: create, replace, merge-patch, delete and bulk apply,
 * with Kubernetes semantics for uid, generation, resourceVersion preconditions and conflicts.
 * HTTP-free: the routes parse requests and call these.
 */
import { BadRequest, ResourceAlreadyExists, ResourceConflict, ResourceInvalid, ResourceNotFound, type FieldError } from "../errors.js";
import type { KindInfo } from "./kinds.js";
import { canonicalJson } from "./canonical-json.js";
import { applyMergePatch } from "./merge-patch.js";
import { describeObject, toApiObject } from "./api-object.js";
import { validateResource, type ValidatedResource } from "../validation/validate-resource.js";
import {
  WriteRaced,
  commitWrites,
  getResource,
  getResources,
  type ResourceKey,
  type StoredResource,
  type WeftDatabase,
  type WriteOp,
} from "../store/resource-store.js";

export interface ResourceServiceDeps {
  db: WeftDatabase;
  /** The clock, injected so tests can freeze it. */
  now: () => Date;
  /** A fresh object uid. */
  newUid: () => string;
  /** Told after every committed write, so config delivery rebuilds proxies' configs; must not delay the write. */
  announceWrite?: () => void;
}

/** Retries for writes that carried no resourceVersion of their own and lost a race. */
const RACE_RETRIES = 3;

/** Commits `ops` (see commitWrites), then announces the write. The one place every resource write goes through. */
async function commit(deps: ResourceServiceDeps, ops: WriteOp[]): Promise<number[]> {
  const revisions = await commitWrites(deps.db, ops, deps.now().toISOString());
  deps.announceWrite?.();
  return revisions;
}

export type ApplyAction = "created" | "configured" | "unchanged";

export interface ApplyItem {
  index: number;
  kind: KindInfo;
  version: string;
  namespace: string;
  name: string;
  action: ApplyAction;
  resourceVersion: number;
}

function keyOf(v: { kind: KindInfo; namespace: string; name: string }): ResourceKey {
  return { group: v.kind.group, kind: v.kind.kind, namespace: v.namespace, name: v.name };
}

/** Throws ResourceInvalid naming the object and every cause. */
export function invalid(kindName: string, group: string, name: string, causes: FieldError[]): never {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  throw new ResourceInvalid(`${kindName}.${group} "${name || "<unnamed>"}" is invalid: ${summary}`, causes);
}

/** Validates one document for a route that names its kind and namespace in the URL. */
export function validateForRoute(doc: unknown, kind: KindInfo, namespace: string, name?: string): ValidatedResource {
  const result = validateResource(doc, { defaultNamespace: namespace });
  const docName = typeof (doc as { metadata?: { name?: unknown } })?.metadata?.name === "string" ? (doc as { metadata: { name: string } }).metadata.name : name ?? "";
  if (!result.ok) invalid(kind.kind, kind.group, docName, result.errors);
  const v = result.value;
  if (v.kind !== kind) {
    throw new BadRequest(`the body's kind ${v.kind.kind}.${v.kind.group} does not match the URL's ${kind.plural}.${kind.group}`);
  }
  if (v.namespace !== namespace) {
    throw new BadRequest(`the namespace of the provided object ("${v.namespace}") does not match the namespace sent on the request ("${namespace}")`);
  }
  if (name !== undefined && v.name !== name) {
    throw new BadRequest(`the name of the object ("${v.name}") does not match the name on the URL ("${name}")`);
  }
  return v;
}

function sameContent(stored: StoredResource, v: ValidatedResource): boolean {
  return (
    canonicalJson(JSON.parse(stored.spec)) === canonicalJson(v.spec) &&
    canonicalJson(stored.labels) === canonicalJson(v.labels) &&
    canonicalJson(stored.annotations) === canonicalJson(v.annotations)
  );
}

function newResource(deps: ResourceServiceDeps, v: ValidatedResource): Omit<StoredResource, "resourceVersion"> {
  return {
    ...keyOf(v),
    uid: deps.newUid(),
    labels: v.labels,
    annotations: v.annotations,
    spec: JSON.stringify(v.spec),
    generation: 1,
    creationTimestamp: deps.now().toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

function updatedResource(stored: StoredResource, v: ValidatedResource): Omit<StoredResource, "resourceVersion"> {
  const specChanged = canonicalJson(JSON.parse(stored.spec)) !== canonicalJson(v.spec);
  return {
    ...keyOf(v),
    uid: stored.uid,
    labels: v.labels,
    annotations: v.annotations,
    spec: JSON.stringify(v.spec),
    generation: specChanged ? stored.generation + 1 : stored.generation,
    creationTimestamp: stored.creationTimestamp,
  };
}

function conflict(kind: KindInfo, name: string): ResourceConflict {
  return new ResourceConflict(
    `Operation cannot be fulfilled on ${describeObject(kind, name)}: the object has been modified; please apply your changes to the latest version and try again`,
  );
}

function withRevision(r: Omit<StoredResource, "resourceVersion">, revision: number): StoredResource {
  return { ...r, resourceVersion: revision };
}

/** Creates the object; 409 AlreadyExists if present. */
export async function createResource(deps: ResourceServiceDeps, v: ValidatedResource): Promise<StoredResource> {
  if (v.resourceVersion !== undefined) {
    invalid(v.kind.kind, v.kind.group, v.name, [{ field: "metadata.resourceVersion", message: "must not be set on objects to be created" }]);
  }
  const resource = newResource(deps, v);
  try {
    const [revision] = await commit(deps, [{ type: "create", resource }]);
    return withRevision(resource, revision!);
  } catch (err) {
    if (err instanceof WriteRaced) throw new ResourceAlreadyExists(`${describeObject(v.kind, v.name)} already exists`);
    throw err;
  }
}

/** Replaces an existing object (PUT). A given resourceVersion must be the current one. */
export async function replaceResource(deps: ResourceServiceDeps, v: ValidatedResource): Promise<StoredResource> {
  for (let attempt = 0; ; attempt++) {
    const stored = await getResource(deps.db, keyOf(v));
    if (!stored) throw new ResourceNotFound(`${describeObject(v.kind, v.name)} not found`);
    const expected = v.resourceVersion !== undefined ? Number(v.resourceVersion) : stored.resourceVersion;
    if (expected !== stored.resourceVersion) throw conflict(v.kind, v.name);
    if (sameContent(stored, v)) return stored;
    const resource = updatedResource(stored, v);
    try {
      const [revision] = await commit(deps, [{ type: "update", resource, expectResourceVersion: expected }]);
      return withRevision(resource, revision!);
    } catch (err) {
      if (!(err instanceof WriteRaced)) throw err;
      if (v.resourceVersion !== undefined || attempt >= RACE_RETRIES) throw conflict(v.kind, v.name);
    }
  }
}

/** Applies a JSON merge patch to the object as served in `version`, validates and writes the result. */
export async function patchResource(
  deps: ResourceServiceDeps,
  kind: KindInfo,
  version: string,
  namespace: string,
  name: string,
  patch: unknown,
): Promise<StoredResource> {
  for (let attempt = 0; ; attempt++) {
    const stored = await getResource(deps.db, { group: kind.group, kind: kind.kind, namespace, name });
    if (!stored) throw new ResourceNotFound(`${describeObject(kind, name)} not found`);
    const current = toApiObject(stored, version);
    const merged = applyMergePatch(current, patch);
    const v = validateForRoute(merged, kind, namespace, name);
    const pinned = v.resourceVersion !== undefined && v.resourceVersion !== current.metadata.resourceVersion;
    if (pinned) throw conflict(kind, name);
    if (sameContent(stored, v)) return stored;
    const resource = updatedResource(stored, v);
    const patchPinsVersion = typeof (patch as { metadata?: { resourceVersion?: unknown } })?.metadata?.resourceVersion === "string";
    try {
      const [revision] = await commit(deps, [{ type: "update", resource, expectResourceVersion: stored.resourceVersion }]);
      return withRevision(resource, revision!);
    } catch (err) {
      if (!(err instanceof WriteRaced)) throw err;
      if (patchPinsVersion || attempt >= RACE_RETRIES) throw conflict(kind, name);
    }
  }
}

/** Deletes the object; 404 if absent. Returns the object as it was. */
export async function deleteResource(deps: ResourceServiceDeps, kind: KindInfo, namespace: string, name: string): Promise<StoredResource> {
  for (let attempt = 0; ; attempt++) {
    const stored = await getResource(deps.db, { group: kind.group, kind: kind.kind, namespace, name });
    if (!stored) throw new ResourceNotFound(`${describeObject(kind, name)} not found`);
    try {
      const [revision] = await commit(deps, [{ type: "delete", resource: stored, expectResourceVersion: stored.resourceVersion }]);
      return { ...stored, resourceVersion: revision! };
    } catch (err) {
      if (!(err instanceof WriteRaced) || attempt >= RACE_RETRIES) throw err instanceof WriteRaced ? conflict(kind, name) : err;
    }
  }
}

/** A refused document in a bulk apply. */
export interface DocumentError extends FieldError {
  document: number;
  object?: string;
}

/**
 * Bulk apply (`kubectl apply -f`): validates every document first; if any is invalid, throws
 * ResourceInvalid listing every error with its document index and stores nothing. Otherwise
 * writes all changes in one transaction.
 */
export async function applyResources(
  deps: ResourceServiceDeps,
  docs: unknown[],
  opts: { defaultNamespace: string; dryRun: boolean },
): Promise<{ revision: number | undefined; items: ApplyItem[] }> {
  const errors: DocumentError[] = [];
  const valid: { index: number; v: ValidatedResource }[] = [];
  const seen = new Map<string, number>();
  docs.forEach((doc, index) => {
    const result = validateResource(doc, { defaultNamespace: opts.defaultNamespace });
    const object = describeDoc(doc);
    if (!result.ok) {
      for (const e of result.errors) errors.push({ ...e, document: index, ...(object ? { object } : {}) });
      return;
    }
    const v = result.value;
    const id = `${v.kind.group}/${v.kind.kind}/${v.namespace}/${v.name}`;
    const first = seen.get(id);
    if (first !== undefined) {
      errors.push({ document: index, field: "metadata.name", message: `duplicates document ${first}: ${v.kind.kind} ${v.namespace}/${v.name} appears twice`, ...(object ? { object } : {}) });
      return;
    }
    seen.set(id, index);
    valid.push({ index, v });
  });
  if (docs.length === 0) throw new BadRequest("no documents to apply");
  if (errors.length > 0) {
    const bad = new Set(errors.map((e) => e.document)).size;
    throw new ResourceInvalid(
      `${errors.length} error(s) in ${bad} of ${docs.length} document(s); nothing was stored: ` +
        errors.map((e) => `document ${e.document}: ${e.field}: ${e.message}`).join("; "),
      errors,
    );
  }

  for (let attempt = 0; ; attempt++) {
    const stored = await getResources(deps.db, valid.map(({ v }) => keyOf(v)));
    const ops: WriteOp[] = [];
    const items: ApplyItem[] = [];
    const opIndex: number[] = [];
    valid.forEach(({ index, v }, i) => {
      const current = stored[i];
      const item: ApplyItem = { index, kind: v.kind, version: v.version, namespace: v.namespace, name: v.name, action: "unchanged", resourceVersion: current?.resourceVersion ?? 0 };
      if (!current) {
        item.action = "created";
        ops.push({ type: "create", resource: newResource(deps, v) });
        opIndex.push(items.length);
      } else if (!sameContent(current, v)) {
        item.action = "configured";
        ops.push({ type: "update", resource: updatedResource(current, v), expectResourceVersion: current.resourceVersion });
        opIndex.push(items.length);
      }
      items.push(item);
    });
    if (opts.dryRun || ops.length === 0) return { revision: undefined, items };
    try {
      const revisions = await commit(deps, ops);
      revisions.forEach((rev, i) => (items[opIndex[i]!]!.resourceVersion = rev));
      return { revision: revisions[revisions.length - 1], items };
    } catch (err) {
      if (!(err instanceof WriteRaced) || attempt >= RACE_RETRIES) {
        throw err instanceof WriteRaced ? new ResourceConflict("objects changed while the apply ran; nothing was stored, try again") : err;
      }
    }
  }
}

function describeDoc(doc: unknown): string | undefined {
  const d = doc as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } } | null;
  if (typeof d?.kind !== "string") return undefined;
  const group = typeof d.apiVersion === "string" ? d.apiVersion.split("/")[0] : "";
  const name = typeof d.metadata?.name === "string" ? d.metadata.name : "<unnamed>";
  return `${d.kind.toLowerCase()}${group && group !== d.apiVersion ? "." + group : ""}/${name}`;
}
