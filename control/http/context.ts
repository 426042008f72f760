/**
 * @module http/context
 * What the host hands the HTTP app (as Hono's `env`), and what middleware adds per request.
 * The app never reads bindings or the environment itself: the Worker entry builds these.
 */
import type { Role } from "./auth.js";
import type { ResourceServiceDeps } from "../resources/resource-service.js";
import type { CaConfig } from "../ca/certificate-authority.js";
import type { Caller } from "../ca/authenticate/identity.js";
import type { ConfigCache } from "../distribution/build-config.js";
import type { BuiltConfig, ProxyRegistration } from "../distribution/contracts.js";
import type { RegistrationCache } from "../distribution/deliver-registrations.js";

/** The Worker's handle on the ConfigHub (one Durable Object for the mesh), which holds push streams and long-polls. */
export interface ConfigHubClient {
  /** A push stream (SSE) for the proxy; the current config first unless `lastVersion` is it. */
  openStream(proxy: ProxyRegistration, lastVersion: string | undefined, recordsSent: boolean): Promise<Response>;
  /** Resolves with the proxy's config once its version differs from `version`; undefined after `timeoutMs`. */
  waitForChange(proxy: ProxyRegistration, version: string, timeoutMs: number): Promise<BuiltConfig | undefined>;
}

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
  /** Built proxy configs, per (scope, revisions); lives as long as the isolate. */
  configCache: ConfigCache;
  /** Registrations as config polls read them, per registry revision; lives as long as the isolate. */
  registrationCache: RegistrationCache;
  /** The ConfigHub: push streams and long-polls. */
  configHub: ConfigHubClient;
  /** Tells the ConfigHub that proxies' configs may have changed (it rebuilds and pushes what changed). */
  notifyConfigChange(): Promise<void>;
  /** The sidecar image the injection webhook adds (WEFT_PROXY_IMAGE); undefined means the built-in default. */
  proxyImage?: string;
  /** The control plane's public URL (WEFT_PUBLIC_URL), told to injected proxies; undefined means the request's origin. */
  publicUrl?: string;
}

export interface ControlPlaneEnv {
  Bindings: { deps: ControlPlaneDeps };
  Variables: { role: Role };
}
