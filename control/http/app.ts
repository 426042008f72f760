/**
 * @module http/app
 * The control plane's HTTP app (Hono): health, authentication, the body limit, error mapping, and
 * the route groups (discovery, resources, bulk apply, tokens, admission webhook, certificate authority).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BodyTooLarge, ResourceNotFound, WeftError } from "../errors.js";
import { authenticate } from "./auth.js";
import type { ControlPlaneEnv } from "./context.js";
import { internalErrorStatus, statusFor } from "./status.js";
import { discoveryRoutes } from "./routes/discovery.js";
import { resourceRoutes } from "./routes/resources.js";
import { applyRoutes } from "./routes/apply.js";
import { tokenRoutes } from "./routes/tokens.js";
import { webhookRoutes } from "./routes/webhook.js";
import { injectionRoutes } from "./routes/inject.js";
import { caRoutes, publicCaRoutes } from "./routes/ca.js";
import { certificateRoutes } from "./routes/certificates.js";
import { registryRoutes } from "./routes/registry.js";
import { proxyRoutes, proxyStatusRoutes } from "./routes/proxies.js";

/** Request bodies larger than this are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createControlPlaneApp(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new BodyTooLarge(MAX_BODY_BYTES);
      },
    }),
  );

  // Public CA material, and issuance, which authenticates workload credentials itself.
  app.route("/", publicCaRoutes());
  app.route("/", certificateRoutes());
  app.route("/", registryRoutes());
  // Config delivery authenticates the proxy's own credential (or the admin token) itself.
  app.route("/", proxyRoutes());

  app.use("*", async (c, next) => {
    const role = await authenticate(c.req.header("authorization"), c.env.deps.db, c.env.deps.adminToken);
    c.set("role", role);
    await next();
  });

  app.route("/", discoveryRoutes());
  app.route("/", applyRoutes());
  app.route("/", tokenRoutes());
  app.route("/", webhookRoutes());
  app.route("/", injectionRoutes());
  app.route("/", caRoutes());
  app.route("/", proxyStatusRoutes());
  app.route("/", resourceRoutes());

  app.notFound((c) => {
    const { http, body } = statusFor(new ResourceNotFound("the server could not find the requested resource"));
    return c.json(body, http as 404);
  });
  app.onError((err, c) => {
    if (err instanceof WeftError) {
      const { http, body } = statusFor(err);
      return c.json(body, http as 400);
    }
    console.error("unhandled error", err);
    const { http, body } = internalErrorStatus();
    return c.json(body, http as 500);
  });
  return app;
}
