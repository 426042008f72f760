/**
 * @module http/routes/webhook
 * `POST /webhooks/validate`: a ValidatingAdmissionWebhook. Takes an admission.k8s.io/v1
 * AdmissionReview and answers with the same verdict and messages the resource API would give.
 */
import { Hono } from "hono";
import { validateResource } from "../../validation/validate-resource.js";
import { requireRole } from "../auth.js";
import { admissionReview, invalidStatus, readAdmissionRequest } from "../admission-review.js";
import type { ControlPlaneEnv } from "../context.js";

export function webhookRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.post("/webhooks/validate", async (c) => {
    requireRole(c.get("role"), "viewer", "call the admission webhook");
    const request = await readAdmissionRequest(c.req.raw);
    const response: Record<string, unknown> = { uid: request.uid, allowed: true };
    if (request.operation !== "DELETE" && request.operation !== "CONNECT") {
      const namespace = typeof request.namespace === "string" ? request.namespace : undefined;
      const result = validateResource(request.object, namespace ? { defaultNamespace: namespace } : {});
      if (!result.ok) {
        const name = (request.object as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? request.name ?? "";
        const kind = (request.object as { kind?: string } | undefined)?.kind ?? "object";
        const message = `${kind} "${String(name)}" is invalid: ` + result.errors.map((e) => `${e.field}: ${e.message}`).join(", ");
        response.allowed = false;
        response.status = invalidStatus(message, result.errors);
      }
    }
    return c.json(admissionReview(response));
  });
  return app;
}
