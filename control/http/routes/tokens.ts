/**
 * @module http/routes/tokens
 * Admin-only management of API tokens: create (the token is shown once), list, revoke.
 * Tokens are stored as SHA-256 hashes.
 */
import { Hono } from "hono";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { ResourceAlreadyExists, ResourceNotFound } from "../../errors.js";
import { apiTokensTable } from "../../store/schema.js";
import { newApiToken, requireRole, sha256Hex } from "../auth.js";
import { readRequestObject } from "../read-body.js";
import type { ControlPlaneEnv } from "../context.js";

const TokenRequest = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a lowercase RFC 1123 label").max(63),
  role: z.enum(["admin", "viewer"]),
});

export function tokenRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.on(["GET", "POST", "DELETE"], ["/v1/tokens", "/v1/tokens/*"], async (c, next) => {
    requireRole(c.get("role"), "admin", "manage tokens");
    await next();
  });

  app.post("/v1/tokens", async (c) => {
    const request = await readRequestObject(c.req.raw, TokenRequest, "token request");
    const { db, now } = c.env.deps;
    const existing = await db.select({ name: apiTokensTable.name }).from(apiTokensTable).where(eq(apiTokensTable.name, request.name));
    if (existing.length > 0) throw new ResourceAlreadyExists(`token "${request.name}" already exists`);
    const token = newApiToken();
    const createdAt = now().toISOString();
    await db.insert(apiTokensTable).values({ name: request.name, role: request.role, tokenHash: await sha256Hex(token), createdAt });
    return c.json({ name: request.name, role: request.role, token, createdAt }, 201);
  });

  app.get("/v1/tokens", async (c) => {
    const rows = await c.env.deps.db
      .select({ name: apiTokensTable.name, role: apiTokensTable.role, createdAt: apiTokensTable.createdAt })
      .from(apiTokensTable)
      .orderBy(apiTokensTable.name);
    return c.json({ items: rows });
  });

  app.delete("/v1/tokens/:name", async (c) => {
    const name = c.req.param("name");
    const deleted = await c.env.deps.db.delete(apiTokensTable).where(eq(apiTokensTable.name, name)).returning({ name: apiTokensTable.name });
    if (deleted.length === 0) throw new ResourceNotFound(`token "${name}" not found`);
    return c.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200, message: `token "${name}" revoked` });
  });
  return app;
}
