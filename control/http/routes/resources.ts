/**
 * @module http/routes/resources
 * Kubernetes-shaped routes for Istio objects:
 * `/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}]` with GET (get, list, watch), POST,
 * PUT, PATCH (merge patch) and DELETE.
 */
import { Hono, type Context } from "hono";
import { BadRequest, ResourceNotFound } from "../../errors.js";
import { kindByPlural, type KindInfo } from "../../resources/kinds.js";
import { parseLabelSelector } from "../../resources/label-selector.js";
import { toApiObject } from "../../resources/api-object.js";
import { createResource, deleteResource, patchResource, replaceResource, validateForRoute } from "../../resources/resource-service.js";
import { getResource, listResources } from "../../store/resource-store.js";
import { requireRole } from "../auth.js";
import { readDocuments } from "../read-body.js";
import type { ControlPlaneEnv } from "../context.js";
import { watchResponse } from "./watch.js";

type Ctx = Context<ControlPlaneEnv>;

/** Resolves the URL's group, version and plural, or 404s naming what is not served. */
export function resolveKind(c: Ctx): { kind: KindInfo; version: string } {
  const { group, version, plural } = c.req.param() as { group: string; version: string; plural: string };
  const kind = kindByPlural(group, plural);
  if (!kind) throw new ResourceNotFound(`the server could not find the requested resource: no resource "${plural}" in group "${group}"`);
  if (!kind.versions.includes(version)) {
    throw new ResourceNotFound(`the server could not find the requested resource: ${group} serves ${kind.plural} in versions ${kind.versions.join(", ")}, not ${version}`);
  }
  return { kind, version };
}

async function readSingleDocument(c: Ctx, accepted: "document" | "merge-patch"): Promise<unknown> {
  const docs = await readDocuments(c.req.raw, accepted);
  if (docs.length !== 1) throw new BadRequest(`expected exactly one object in the body, got ${docs.length}; use POST /v1/apply for several`);
  return docs[0];
}

async function list(c: Ctx, namespace: string | undefined) {
  const { kind, version } = resolveKind(c);
  const selector = parseLabelSelector(c.req.query("labelSelector") ?? "");
  if (c.req.query("watch") === "true" || c.req.query("watch") === "1") {
    return watchResponse(c, kind, version, namespace, selector);
  }
  const { revision, items } = await listResources(c.env.deps.db, { group: kind.group, kind: kind.kind, ...(namespace ? { namespace } : {}) });
  return c.json({
    apiVersion: `${kind.group}/${version}`,
    kind: `${kind.kind}List`,
    metadata: { resourceVersion: String(revision) },
    items: items.filter((r) => selector(r.labels)).map((r) => toApiObject(r, version)),
  });
}

export function resourceRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  const collection = "/apis/:group/:version/namespaces/:namespace/:plural";
  const item = `${collection}/:name`;

  app.get("/apis/:group/:version/:plural", (c) => list(c, undefined));
  app.get(collection, (c) => list(c, c.req.param("namespace")));

  app.post(collection, async (c) => {
    requireRole(c.get("role"), "admin", "create objects");
    const { kind, version } = resolveKind(c);
    const v = validateForRoute(await readSingleDocument(c, "document"), kind, c.req.param("namespace"));
    const stored = await createResource(c.env.deps, v);
    return c.json(toApiObject(stored, version), 201);
  });

  app.get(item, async (c) => {
    const { kind, version } = resolveKind(c);
    const { namespace, name } = c.req.param();
    const stored = await getResource(c.env.deps.db, { group: kind.group, kind: kind.kind, namespace, name });
    if (!stored) throw new ResourceNotFound(`${kind.plural}.${kind.group} "${name}" not found`);
    return c.json(toApiObject(stored, version));
  });

  app.put(item, async (c) => {
    requireRole(c.get("role"), "admin", "update objects");
    const { kind, version } = resolveKind(c);
    const { namespace, name } = c.req.param();
    const v = validateForRoute(await readSingleDocument(c, "document"), kind, namespace, name);
    return c.json(toApiObject(await replaceResource(c.env.deps, v), version));
  });

  app.patch(item, async (c) => {
    requireRole(c.get("role"), "admin", "patch objects");
    const { kind, version } = resolveKind(c);
    const { namespace, name } = c.req.param();
    const patch = await readSingleDocument(c, "merge-patch");
    return c.json(toApiObject(await patchResource(c.env.deps, kind, version, namespace, name, patch), version));
  });

  app.delete(item, async (c) => {
    requireRole(c.get("role"), "admin", "delete objects");
    const { kind, version } = resolveKind(c);
    const { namespace, name } = c.req.param();
    return c.json(toApiObject(await deleteResource(c.env.deps, kind, namespace, name), version));
  });
  return app;
}
