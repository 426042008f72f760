/**
 * @module http/routes/certificates
 * `POST /v1/certificates`: a workload (service-account JWT or join token) or an admin sends a CSR and
 * gets back its certificate chain. The route authenticates the credential itself, since workload
 * credentials are not API tokens.
 */
import { Hono } from "hono";
import { z } from "zod";
import { Forbidden, Unauthorized } from "../../errors.js";
import { issueCertificate } from "../../ca/certificate-authority.js";
import { chooseAuthenticator } from "../../ca/authenticate/dispatch.js";
import type { Caller } from "../../ca/authenticate/identity.js";
import { bearerToken, resolveApiToken } from "../auth.js";
import { readRequestObject } from "../read-body.js";
import type { ControlPlaneEnv } from "../context.js";

const CertificateRequest = z.strictObject({
  csr: z.string().min(1, "a PEM PKCS#10 certificate signing request is required"),
  ttl: z.string().optional(),
});

export function certificateRoutes(): Hono<ControlPlaneEnv> {
  const app = new Hono<ControlPlaneEnv>();
  app.post("/v1/certificates", async (c) => {
    const deps = c.env.deps;
    const header = c.req.header("authorization");
    const token = bearerToken(header);
    if (!token) throw new Unauthorized("missing credential: send Authorization: Bearer with a service-account JWT, a join token or the admin token");
    let caller: Caller;
    if (chooseAuthenticator(token) === "api-token") {
      const holder = await resolveApiToken(token, deps.db, deps.adminToken);
      if (!holder) throw new Unauthorized("invalid bearer token");
      if (holder.role !== "admin") throw new Forbidden("a viewer token cannot request certificates: use a workload credential or the admin token");
      caller = { kind: "admin", subject: "admin" };
    } else {
      caller = await deps.authenticateWorkload(token);
    }
    const { csr, ttl } = await readRequestObject(c.req.raw, CertificateRequest, "certificate request");
    const issued = await issueCertificate({ db: deps.db, now: deps.now, config: deps.ca }, { csrPem: csr, caller, ...(ttl !== undefined ? { ttl } : {}) });
    return c.json(issued, 201);
  });
  return app;
}
