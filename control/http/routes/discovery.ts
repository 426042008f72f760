/**
 * @module http/routes/discovery
 * Kubernetes-style API discovery: `/apis` lists the groups and versions, `/apis/{group}/{version}`
 * the resources each serves, so generic clients can find their way.
 */
import { Hono } from "hono";
import { ResourceNotFound } from "../../errors.js";
import { KINDS } from "../../resources/kinds.js";
import type { ControlPlaneEnv } from "../context.js";

const VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

export function discoveryRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.get("/apis", (c) => {
    const groups = new Map<string, string[]>();
    for (const k of KINDS) groups.set(k.group, k.versions);
    return c.json({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
      })),
    });
  });
  app.get("/apis/:group/:version", (c) => {
    const { group, version } = c.req.param();
    const kinds = KINDS.filter((k) => k.group === group && k.versions.includes(version));
    if (kinds.length === 0) throw new ResourceNotFound(`the server could not find the requested resource: ${group}/${version} is not served`);
    return c.json({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: `${group}/${version}`,
      resources: kinds.map((k) => ({ name: k.plural, singularName: k.singular, namespaced: true, kind: k.kind, verbs: VERBS, shortNames: k.shortNames })),
    });
  });
  return app;
}
