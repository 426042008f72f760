/**
 * @module http/context
 * What the host hands the HTTP app (as Hono's `env`), and what middleware adds per request.
 * The app never reads bindings or the environment itself: the Worker entry builds these.
 */
import type { Role } from "./auth.js";
import type { ResourceServiceDeps } from "../resources/resource-service.js";
import type { CaConfig } from "../ca/certificate-authority.js";
import type { Caller } from "../ca/authenticate/identity.js";

export interface ControlPlaneDeps extends ResourceServiceDeps {
  /** The admin bearer token (a Worker secret); undefined disables admin access. */
  adminToken: string | undefined;
  /** Watch tuning: how often the change log is polled, and quiet time between bookmarks. */
  watch: { pollIntervalMs: number; bookmarkIntervalMs: number };
  /** Keeps a promise alive after the response is returned (Workers' ctx.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** The certificate authority's settings. */
  ca: CaConfig;
  /** Verifies a workload credential (service-account JWT or join token) into a caller. */
  authenticateWorkload: (token: string) => Promise<Caller>;
  /** Signs a join token for one namespace and service account; undefined when no join-token secret is set. */
  createJoinToken: ((request: { namespace: string; serviceAccount: string; ttlSeconds: number }) => Promise<string>) | undefined;
}

export interface ControlPlaneEnv {
  Bindings: { deps: ControlPlaneDeps };
  Variables: { role: Role };
}
