/**
 * @module http/routes/registry
 * The service registry's API: proxies register their workload with their own credential, heartbeat
 * and deregister; admins and viewers list registrations; a cluster sync agent (`weft kube-sync`)
 * replaces a cluster's Kubernetes Services and EndpointSlices. The routes authenticate themselves,
 * since workload credentials are not API tokens.
 */
import { Hono } from "hono";
import { BadRequest, RegistrationIdentityMismatch, ResourceNotFound } from "../../errors.js";
import { authenticate, requireRole } from "../auth.js";
import type { ControlPlaneDeps, ControlPlaneEnv } from "../context.js";
import { authenticateProxy } from "../../registry/proxy-credential.js";
import { assertMayActFor, readHeartbeatRequest, readRegistrationRequest, registeredBy } from "../../registry/registration.js";
import { isClusterName, readKubeSync } from "../../registry/kube-objects.js";
import {
  deregisterWorkload,
  getRegistration,
  heartbeatRegistration,
  listRegistrations,
  readRegistryRevision,
  replaceKubeObjects,
  upsertRegistration,
} from "../../registry/registry-store.js";

export function registryRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();

  app.post("/v1/registry/workloads", async (c) => {
    const deps = c.env.deps;
    const caller = await authenticateProxy(deps, c.req.header("authorization"));
    const { ttlMs, ...request } = await readRegistrationRequest(c.req.raw);
    assertMayActFor(caller, request, "register");
    const record = { ...request, registeredBy: registeredBy(caller) };
    const guard = caller.kind === "workload" ? { onlyServiceAccount: caller.identity.serviceAccount } : {};
    const result = await upsertRegistration(deps.db, record, deps.now(), ttlMs, guard);
    if (!result) {
      throw new RegistrationIdentityMismatch(
        `workload ${request.name}.${request.namespace} is registered by another service account of namespace ${request.namespace}: a workload may replace only its own registration`,
      );
    }
    if (result.changed) announceRegistryChange(deps);
    return c.json(result.registration, result.created ? 201 : 200);
  });

  app.put("/v1/registry/workloads/:id/heartbeat", async (c) => {
    const deps = c.env.deps;
    const caller = await authenticateProxy(deps, c.req.header("authorization"));
    const { ttlMs } = await readHeartbeatRequest(c.req.raw);
    const id = c.req.param("id");
    const current = await liveRegistration(c.env.deps, id);
    assertMayActFor(caller, current, "renew");
    const renewed = await heartbeatRegistration(deps.db, id, deps.now(), ttlMs);
    if (!renewed) throw notRegistered(id);
    return c.json(renewed);
  });

  app.delete("/v1/registry/workloads/:id", async (c) => {
    const deps = c.env.deps;
    const caller = await authenticateProxy(deps, c.req.header("authorization"));
    const id = c.req.param("id");
    const current = await liveRegistration(deps, id);
    assertMayActFor(caller, current, "deregister");
    if (!(await deregisterWorkload(deps.db, id))) throw notRegistered(id);
    announceRegistryChange(deps);
    return c.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200, message: `workload ${id} deregistered` });
  });

  app.get("/v1/registry/workloads", async (c) => {
    const { db, now, adminToken } = c.env.deps;
    await authenticate(c.req.header("authorization"), db, adminToken);
    const namespace = c.req.query("namespace");
    const [items, registryRevision] = await Promise.all([listRegistrations(db, now()), readRegistryRevision(db)]);
    return c.json({ items: namespace === undefined ? items : items.filter((r) => r.namespace === namespace), registryRevision });
  });

  app.get("/v1/registry/workloads/:id", async (c) => {
    const { db, adminToken } = c.env.deps;
    await authenticate(c.req.header("authorization"), db, adminToken);
    return c.json(await liveRegistration(c.env.deps, c.req.param("id")));
  });

  app.put("/v1/registry/kubernetes/:cluster", async (c) => {
    const deps = c.env.deps;
    const { db, now, adminToken } = deps;
    requireRole(await authenticate(c.req.header("authorization"), db, adminToken), "admin", "sync Kubernetes objects");
    const cluster = c.req.param("cluster");
    if (!isClusterName(cluster)) {
      throw new BadRequest(`cluster name "${cluster}" must be an RFC 1123 subdomain (lowercase alphanumerics, '-' and '.')`, [{ field: "cluster", message: "not an RFC 1123 subdomain" }]);
    }
    const objects = await readKubeSync(c.req.raw);
    const result = await replaceKubeObjects(db, cluster, objects, now());
    if (result.changed) announceRegistryChange(deps);
    return c.json({
      cluster,
      services: objects.filter((o) => o.kind === "Service").length,
      endpointSlices: objects.filter((o) => o.kind === "EndpointSlice").length,
      ...result,
      registryRevision: await readRegistryRevision(db),
    });
  });

  return app;
}

/** Tells the ConfigHub to rebuild and push: the registry changed in a way proxies' configs may reflect. */
function announceRegistryChange(deps: ControlPlaneDeps): void {
  deps.waitUntil(deps.notifyConfigChange());
}

async function liveRegistration(deps: ControlPlaneDeps, id: string) {
  const registration = await getRegistration(deps.db, id, deps.now());
  if (!registration) throw notRegistered(id);
  return registration;
}

function notRegistered(id: string): ResourceNotFound {
  return new ResourceNotFound(`workload ${id} is not registered (or its registration expired)`);
}
