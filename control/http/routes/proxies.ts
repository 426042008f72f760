/**
 * @module http/routes/proxies
 * Config delivery to proxies (Pilot's job):
 * - `GET /v1/proxies/{id}/config`: the proxy's config with `ETag: "<version>"`; `If-None-Match` → 304;
 *   `?wait=30s` holds the request until a change affects this proxy (long-poll).
 * - `GET /v1/proxies/{id}/config/stream`: a push stream (Server-Sent Events) fed by the ConfigHub.
 * - `POST /v1/proxies/{id}/status`: the proxy's ACK (`applied`) or NACK (`error`) of a version.
 * These authenticate the proxy's own credential (or the admin token) themselves.
 * - `GET /v1/proxy-status`: every registered proxy, SYNCED, STALE or NOT SENT (behind API tokens).
 */
import { Hono, type Context } from "hono";
import { BadRequest, type FieldError } from "../../errors.js";
import type { BuiltConfig, ProxyRegistration } from "../../distribution/contracts.js";
import { configsForProxies } from "../../distribution/build-config.js";
import { checkProxyAccess, isProxyItself } from "../../distribution/deliver-access.js";
import { lastSeen, readProxyStatuses, recordAnswer, recordSent, syncStatus, type ProxyAnswer } from "../../distribution/deliver-status.js";
import { etagsIn, holdsVersion, parseWait } from "../../distribution/deliver-wait.js";
import { readRevisions, type SnapshotRevisions } from "../../distribution/snapshot.js";
import { authenticateProxy } from "../../registry/proxy-credential.js";
import { getRegistration, listRegistrations } from "../../registry/registry-store.js";
import { requireRole } from "../auth.js";
import type { ControlPlaneDeps, ControlPlaneEnv } from "../context.js";

type Ctx = Context<ControlPlaneEnv>;

/** Longest NACK reason kept; proxies may send whole stack traces. */
const MAX_REASON_LENGTH = 1024;

function buildDeps(deps: ControlPlaneDeps) {
  return { db: deps.db, now: deps.now, trustDomain: deps.ca.trustDomain, cache: deps.configCache };
}

/**
 * The registration the URL names, once the caller is allowed to act for it, and whether the caller is
 * the proxy itself. `withRevisions` also reads the revisions (after authenticating), and then takes the
 * registration from the isolate's cache when the registry has not moved.
 */
async function authorizedProxy(c: Ctx, withRevisions = false): Promise<{ registration: ProxyRegistration; itself: boolean; revisions?: SnapshotRevisions }> {
  const deps = c.env.deps;
  const caller = await authenticateProxy(deps, c.req.header("authorization"));
  const id = c.req.param("id")!;
  const now = deps.now();
  const revisions = withRevisions ? await readRevisions(deps.db) : undefined;
  const found = revisions ? await deps.registrationCache.get(deps.db, id, now, revisions.registry) : await getRegistration(deps.db, id, now);
  return { registration: checkProxyAccess(caller, id, found), itself: isProxyItself(caller), ...(revisions ? { revisions } : {}) };
}

function etag(version: string): string {
  return `"${version}"`;
}

function configResponse(c: Ctx, built: BuiltConfig, recordFor: string | undefined): Response {
  const deps = c.env.deps;
  if (recordFor !== undefined) deps.waitUntil(recordSent(deps.db, [{ proxyId: recordFor, version: built.version }], deps.now()));
  return c.body(JSON.stringify(built.config), 200, { "content-type": "application/json; charset=utf-8", etag: etag(built.version), "cache-control": "no-cache" });
}

function notModified(version: string): Response {
  return new Response(null, { status: 304, headers: { etag: etag(version), "cache-control": "no-cache" } });
}

/** Reads `{"version", "applied": true}` or `{"version", "error"}`; BadRequest naming the field otherwise. */
async function readAnswer(request: Request): Promise<ProxyAnswer> {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(await request.arrayBuffer()));
  } catch {
    throw new BadRequest('the body must be JSON: {"version": "...", "applied": true} or {"version": "...", "error": "reason"}');
  }
  const causes: FieldError[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object: {"version": "...", "applied": true} or {"version": "...", "error": "reason"}');
  }
  const { version, applied, error, ...rest } = body as Record<string, unknown>;
  for (const field of Object.keys(rest)) causes.push({ field, message: "unknown field" });
  if (typeof version !== "string" || version === "") causes.push({ field: "version", message: "the version the answer is about (the config's ETag) is required" });
  if (applied !== undefined && applied !== true) causes.push({ field: "applied", message: "must be true when given (send error to reject a version)" });
  if (error !== undefined && (typeof error !== "string" || error.trim() === "")) causes.push({ field: "error", message: "must be a non-empty reason" });
  if (applied === undefined && error === undefined) causes.push({ field: "applied", message: 'one of applied: true (ACK) or error: "reason" (NACK) is required' });
  if (applied !== undefined && error !== undefined) causes.push({ field: "error", message: "give either applied (ACK) or error (NACK), not both" });
  if (causes.length > 0) throw new BadRequest(`proxy status is invalid: ${causes.map((e) => `${e.field}: ${e.message}`).join(", ")}`, causes);
  return applied === true ? { version: version as string, applied: true } : { version: version as string, error: (error as string).slice(0, MAX_REASON_LENGTH) };
}

/** Routes a proxy calls with its own credential (a service-account JWT, a join token, a certificate proof) or an admin with the admin token. */
export function proxyRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();

  app.get("/v1/proxies/:id/config", async (c) => {
    const deps = c.env.deps;
    const waitMs = parseWait(c.req.query("wait"));
    const held = etagsIn(c.req.header("if-none-match"));
    // One D1 read on the 304 path: the revisions, which decide the current config and vouch for the cached registration.
    const { registration, itself, revisions } = await authorizedProxy(c, true);
    const recordFor = itself ? registration.id : undefined;
    const [built] = await configsForProxies(buildDeps(deps), [registration], revisions);
    if (!holdsVersion(held, built!.version)) return configResponse(c, built!, recordFor);
    if (waitMs === 0) return notModified(built!.version);
    const next = await deps.configHub.waitForChange(registration, built!.version, waitMs);
    return next ? configResponse(c, next, recordFor) : notModified(built!.version);
  });

  app.get("/v1/proxies/:id/config/stream", async (c) => {
    const { registration, itself } = await authorizedProxy(c);
    const lastVersion = c.req.header("last-event-id") || c.req.query("version") || undefined;
    return c.env.deps.configHub.openStream(registration, lastVersion, itself);
  });

  app.post("/v1/proxies/:id/status", async (c) => {
    const deps = c.env.deps;
    const { registration } = await authorizedProxy(c);
    const answer = await readAnswer(c.req.raw);
    await recordAnswer(deps.db, registration.id, answer, deps.now());
    return c.json({ proxy: registration.id, version: answer.version, answer: "applied" in answer ? "ACK" : "NACK" });
  });
  return app;
}

/** `istioctl proxy-status`: for the admin and viewer API tokens. */
export function proxyStatusRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.get("/v1/proxy-status", async (c) => {
    requireRole(c.get("role"), "viewer", "read proxy status");
    const deps = c.env.deps;
    const namespace = c.req.query("namespace") || undefined;
    const [registrations, records] = await Promise.all([listRegistrations(deps.db, deps.now()), readProxyStatuses(deps.db)]);
    const proxies = registrations.filter((r) => namespace === undefined || r.namespace === namespace).sort(byNamespaceAndName);
    const built = await configsForProxies(buildDeps(deps), proxies);
    const items = proxies.map((r, i) => {
      const version = built[i]!.version;
      const record = records.get(r.id);
      const { status, reason } = syncStatus(record, version);
      return {
        id: r.id,
        name: r.name,
        namespace: r.namespace,
        kind: r.kind,
        serviceAccount: r.serviceAccount,
        version,
        status,
        ...(reason !== undefined ? { reason } : {}),
        sentVersion: record?.sentVersion ?? null,
        sentAt: record?.sentAt ?? null,
        ackedVersion: record?.ackedVersion ?? null,
        ackedAt: record?.ackedAt ?? null,
        lastSeen: lastSeen(r.lastSeenAt, record),
      };
    });
    return c.json({ items });
  });
  return app;
}

function byNamespaceAndName(a: ProxyRegistration, b: ProxyRegistration): number {
  return a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace);
}
