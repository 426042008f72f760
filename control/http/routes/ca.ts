/**
 * @module http/routes/ca
 * The CA's public material and its administration: the trust bundle and the CRL (no auth), root
 * rotation, plug-in CA import, revocation, the issuance audit log, and join tokens.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { CaNotReady } from "../../errors.js";
import * as ca from "../../ca/certificate-authority.js";
import { listIssued, listRoots } from "../../ca/ca-store.js";
import { spiffeId } from "../../ca/signing/spiffe-id.js";
import { parseDurationMs } from "../../validation/primitives.js";
import { requireRole } from "../auth.js";
import { readRequestObject } from "../read-body.js";
import type { ControlPlaneEnv } from "../context.js";

const PEM_TYPE = "application/x-pem-file";

function caDeps(c: Context<ControlPlaneEnv>): ca.CaDeps {
  return { db: c.env.deps.db, now: c.env.deps.now, config: c.env.deps.ca };
}

/** Roots and revoked serials are in every proxy's config: the ConfigHub rebuilds, after the response. */
function announceTrustChange(c: Context<ControlPlaneEnv>): void {
  c.env.deps.waitUntil(c.env.deps.notifyConfigChange());
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ImportRequest = z.strictObject({ certificate: z.string().min(1), chain: z.array(z.string()).default([]), root: z.string().min(1) });
const RootRequest = z.strictObject({ certificate: z.string().min(1) });
const RevokeRequest = z.strictObject({ reason: z.string().max(200).optional() });
const JoinTokenRequest = z.strictObject({
  namespace: z.string().regex(DNS1123_LABEL, "must be a lowercase RFC 1123 label").max(63),
  serviceAccount: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lowercase RFC 1123 subdomain").max(253),
  ttl: z.string().default("1h").refine((t) => parseDurationMs(t) !== undefined, "must be a duration such as 1h or 30m"),
});

/** Routes that need no token: public CA material. */
export function publicCaRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.get("/v1/ca/roots", async (c) => c.body(await ca.trustBundle(caDeps(c)), 200, { "content-type": PEM_TYPE }));
  app.get("/v1/ca/crl", async (c) => c.body(await ca.currentCrl(caDeps(c)), 200, { "content-type": PEM_TYPE }));
  return app;
}

export function caRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();

  app.get("/v1/ca/roots/list", async (c) => {
    const roots = await listRoots(c.env.deps.db, true);
    return c.json({ items: roots.map(({ certificatePem: _pem, ...r }) => r) });
  });

  app.post("/v1/ca/roots", async (c) => {
    requireRole(c.get("role"), "admin", "add trust anchors");
    const { certificate } = await readRequestObject(c.req.raw, RootRequest, "root request");
    const info = await ca.addTrustAnchor(caDeps(c), certificate);
    announceTrustChange(c);
    return c.json({ fingerprint: info.fingerprint, subject: info.subject, notAfter: info.notAfter.toISOString() }, 201);
  });

  app.delete("/v1/ca/roots/:fingerprint", async (c) => {
    requireRole(c.get("role"), "admin", "retire trust anchors");
    await ca.retireTrustAnchor(caDeps(c), c.req.param("fingerprint"));
    announceTrustChange(c);
    return c.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200, message: `root ${c.req.param("fingerprint")} retired` });
  });

  app.post("/v1/ca/import", async (c) => {
    requireRole(c.get("role"), "admin", "import a CA");
    const body = await readRequestObject(c.req.raw, ImportRequest, "CA import");
    const imported = await ca.importIssuer(caDeps(c), body);
    announceTrustChange(c);
    return c.json(imported);
  });

  app.post("/v1/certificates/:serial/revoke", async (c) => {
    requireRole(c.get("role"), "admin", "revoke certificates");
    const { reason } = await readRequestObject(c.req.raw, RevokeRequest, "revocation");
    const row = await ca.revokeCertificate(caDeps(c), c.req.param("serial"), reason);
    announceTrustChange(c);
    return c.json(row);
  });

  app.get("/v1/certificates", async (c) => {
    const namespace = c.req.query("namespace");
    const limit = Math.min(Number(c.req.query("limit") ?? 500) || 500, 5000);
    const items = await listIssued(c.env.deps.db, { limit, ...(namespace ? { namespace } : {}) });
    return c.json({ items });
  });

  app.post("/v1/join-tokens", async (c) => {
    requireRole(c.get("role"), "admin", "create join tokens");
    const create = c.env.deps.createJoinToken;
    if (!create) throw new CaNotReady("join tokens are disabled: set the WEFT_JOIN_TOKEN_SECRET secret (32+ random bytes, base64)");
    const body = await readRequestObject(c.req.raw, JoinTokenRequest, "join token request");
    const ttlSeconds = Math.round(parseDurationMs(body.ttl)! / 1000);
    const token = await create({ namespace: body.namespace, serviceAccount: body.serviceAccount, ttlSeconds });
    const expiresAt = new Date(c.env.deps.now().getTime() + ttlSeconds * 1000).toISOString();
    return c.json({ token, identity: spiffeId(c.env.deps.ca.trustDomain, body.namespace, body.serviceAccount), expiresAt }, 201);
  });
  return app;
}
