/**
 * @module http/routes/apply
 * `POST /v1/apply`: bulk apply of one or many documents, all validated before any is written and
 * all written in one transaction (what `kubectl apply -f` does, made atomic).
 */
import { Hono } from "hono";
import { BadRequest } from "../../errors.js";
import { applyResources } from "../../resources/resource-service.js";
import { requireRole } from "../auth.js";
import { readDocuments } from "../read-body.js";
import type { ControlPlaneEnv } from "../context.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function applyRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.post("/v1/apply", async (c) => {
    const dryRunParam = c.req.query("dryRun");
    if (dryRunParam !== undefined && dryRunParam !== "All") throw new BadRequest(`dryRun must be "All" when given, got "${dryRunParam}"`);
    const dryRun = dryRunParam === "All";
    requireRole(c.get("role"), dryRun ? "viewer" : "admin", "apply objects");
    const namespace = c.req.query("namespace") ?? "default";
    if (!DNS1123_LABEL.test(namespace)) throw new BadRequest(`namespace "${namespace}" is not a valid namespace name`);
    const docs = await readDocuments(c.req.raw, "document");
    const { revision, items } = await applyResources(c.env.deps, docs, { defaultNamespace: namespace, dryRun });
    return c.json({
      apiVersion: "weft.dev/v1",
      kind: "ApplyResult",
      metadata: revision === undefined ? {} : { resourceVersion: String(revision) },
      dryRun,
      items: items.map((i) => ({
        index: i.index,
        apiVersion: `${i.kind.group}/${i.version}`,
        kind: i.kind.kind,
        namespace: i.namespace,
        name: i.name,
        action: i.action,
        resourceVersion: String(i.resourceVersion),
      })),
    });
  });
  return app;
}
