/**
 * @module http/routes/inject
 * `POST /webhooks/inject`: a MutatingAdmissionWebhook for sidecar injection. Takes an
 * admission.k8s.io/v1 AdmissionReview for a Pod CREATE and answers allowed, with a base64 JSON Patch
 * when the pod gets a sidecar; a bad injection annotation is refused (allowed: false, 422 Invalid),
 * as istiod refuses it. Authenticated like the validating webhook (a viewer token).
 */
import { Hono } from "hono";
import { BadRequest } from "../../errors.js";
import { AnnotationInvalid } from "../../injection/annotation-invalid.js";
import { injectPod } from "../../injection/inject-pod.js";
import { DEFAULT_PROXY_IMAGE } from "../../injection/injection-options.js";
import { isRecord } from "../../validation/raw-value.js";
import { requireRole } from "../auth.js";
import type { ControlPlaneEnv } from "../context.js";
import { admissionReview, invalidStatus, readAdmissionRequest } from "../admission-review.js";

/** Base64 of the UTF-8 bytes of `text` (AdmissionResponse.patch is a byte array in JSON). */
function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function injectionRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.post("/webhooks/inject", async (c) => {
    requireRole(c.get("role"), "viewer", "call the injection webhook");
    const request = await readAdmissionRequest(c.req.raw);
    const response: Record<string, unknown> = { uid: request.uid, allowed: true };
    const kind = isRecord(request.kind) ? request.kind.kind : undefined;
    const isPodCreate = request.operation === "CREATE" && (kind === undefined || kind === "Pod") && request.subResource === undefined;
    if (isPodCreate) {
      if (!isRecord(request.object)) throw new BadRequest("AdmissionReview request.object must be the Pod being created");
      const { deps } = c.env;
      const namespace = typeof request.namespace === "string" && request.namespace !== "" ? request.namespace : undefined;
      try {
        const result = injectPod(request.object, {
          image: deps.proxyImage ?? DEFAULT_PROXY_IMAGE,
          controlPlaneUrl: deps.publicUrl ?? new URL(c.req.url).origin,
          defaultPolicy: "enabled",
          ...(namespace !== undefined ? { namespace } : {}),
        });
        if (result.injected) {
          response.patchType = "JSONPatch";
          response.patch = base64Utf8(JSON.stringify(result.patch));
        }
      } catch (err) {
        if (!(err instanceof AnnotationInvalid)) throw err;
        response.allowed = false;
        response.status = invalidStatus(err.message, err.causes);
      }
    }
    return c.json(admissionReview(response));
  });
  return app;
}
