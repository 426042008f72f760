/**
 * @module workers/control-plane
 * Composition root of the control-plane Worker: the only place that reads bindings and secrets.
 * Builds the dependencies the runtime-agnostic app needs and hands them over per request; the cron
 * trigger compacts the change log and removes expired registrations.
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { createControlPlaneApp } from "../control/http/app.js";
import type { ControlPlaneDeps } from "../control/http/context.js";
import { compactChanges } from "../control/store/resource-store.js";
import { expireRegistrations } from "../control/registry/registry-store.js";
import { normalizeCaKey } from "../control/ca/ca-key.js";
import { createJoinToken } from "../control/ca/authenticate/join-token.js";
import { parseTrustedIssuers } from "../control/ca/authenticate/trusted-issuers.js";
import { createWorkloadAuthenticator } from "../control/ca/authenticate/workload-authenticator.js";
import { parseDurationMs } from "../control/validation/primitives.js";
import type { Caller } from "../control/ca/authenticate/identity.js";
import { CaNotReady } from "../control/errors.js";
import { createConfigCache } from "../control/distribution/build-config.js";
import { ConfigHubCore } from "../control/distribution/config-hub.js";
import { createRegistrationCache } from "../control/distribution/deliver-registrations.js";
import type { BuiltConfig, ProxyRegistration } from "../control/distribution/contracts.js";

export interface Env {
  DB: D1Database;
  /** The ConfigHub Durable Object namespace (one instance, "mesh"): push streams and long-polls. */
  CONFIG_HUB: DurableObjectNamespace<ConfigHub>;
  /** Secret: the admin bearer token. */
  WEFT_ADMIN_TOKEN?: string;
  /** Secret: the issuing CA's private key, PKCS#8 PEM (ECDSA P-256). */
  WEFT_CA_KEY?: string;
  /** Secret: base64 of at least 32 random bytes, for signing join tokens. */
  WEFT_JOIN_TOKEN_SECRET?: string;
  /** SPIFFE trust domain (default cluster.local). */
  WEFT_TRUST_DOMAIN?: string;
  /** Leaf lifetime when a request names none (default 24h) and the longest allowed (default 2160h = 90 days). */
  WEFT_CA_DEFAULT_TTL?: string;
  WEFT_CA_MAX_TTL?: string;
  /** JSON array of trusted service-account token issuers: [{"issuer","audiences",["jwks"|"jwksUri"]}]. */
  WEFT_TRUSTED_ISSUERS?: string;
  /** How long the change log keeps entries for watches to resume from (hours; default 24). */
  WEFT_CHANGE_LOG_HOURS?: string;
  /** Change-log entries always kept, however old, so a recent watcher can resume (default 1000). */
  WEFT_CHANGE_LOG_KEEP?: string;
  /** How often a watch polls the change log (milliseconds; default 250). */
  WEFT_WATCH_POLL_MS?: string;
  /** The sidecar image the injection webhook adds (default ghcr.io/weft/proxy:0.1.0). */
  WEFT_PROXY_IMAGE?: string;
  /** The control plane's public URL, told to injected proxies (default: the URL the webhook was called at). */
  WEFT_PUBLIC_URL?: string;
}

const app = createControlPlaneApp();
const now = () => new Date();

function positiveNumber(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text && Number.isFinite(n) && n > 0 ? n : fallback;
}

function durationMs(name: string, text: string | undefined, fallback: string): number {
  const ms = parseDurationMs(text || fallback);
  if (ms === undefined) throw new Error(`${name}="${text}" is not a duration such as 24h`);
  return ms;
}

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
}

/**
 * The workload authenticator holds JWKS caches, so it lives as long as the isolate, rebuilt only if
 * its configuration changes. A bad configuration is reported on every use, naming the variable.
 */
let authenticator: { key: string; authenticate: (token: string) => Promise<Caller> } | undefined;
function workloadAuthenticator(env: Env): (token: string) => Promise<Caller> {
  const key = `${env.WEFT_TRUST_DOMAIN}|${env.WEFT_TRUSTED_ISSUERS}|${env.WEFT_JOIN_TOKEN_SECRET}`;
  if (authenticator?.key !== key) {
    let authenticate: (token: string) => Promise<Caller>;
    try {
      authenticate = createWorkloadAuthenticator({
        trustDomain: env.WEFT_TRUST_DOMAIN || "cluster.local",
        issuers: env.WEFT_TRUSTED_ISSUERS ? parseTrustedIssuers(JSON.parse(env.WEFT_TRUSTED_ISSUERS)) : [],
        joinTokenSecret: env.WEFT_JOIN_TOKEN_SECRET ? base64Bytes(env.WEFT_JOIN_TOKEN_SECRET) : undefined,
        now,
      });
    } catch (err) {
      const message = `WEFT_TRUSTED_ISSUERS / WEFT_JOIN_TOKEN_SECRET is not usable: ${(err as Error).message}`;
      authenticate = async () => {
        throw new CaNotReady(message);
      };
    }
    authenticator = { key, authenticate };
  }
  return authenticator.authenticate;
}

/** Configs built, and registrations read, for this isolate's requests (the ConfigHub keeps its own). */
const configCache = createConfigCache();
const registrationCache = createRegistrationCache();

/** What the Worker sends the ConfigHub to open a push stream. */
interface OpenStreamRequest {
  proxy: ProxyRegistration;
  lastVersion: string | undefined;
  recordsSent: boolean;
}

/**
 * The ConfigHub Durable Object: one instance ("mesh") holds every proxy's push stream and long-poll and
 * rebuilds their configs when told of a write (see control/distribution/config-hub.ts). Streams are
 * opened with fetch (the response is the SSE body); notify and waitForChange are RPC methods.
 */
export class ConfigHub extends DurableObject<Env> {
  readonly #hub: ConfigHubCore;

  constructor(state: DurableObjectState, env: Env) {
    super(state, env);
    this.#hub = new ConfigHubCore({
      db: drizzle(env.DB),
      now,
      trustDomain: env.WEFT_TRUST_DOMAIN || "cluster.local",
      cache: createConfigCache(),
      newStream: () => new IdentityTransformStream(),
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const { proxy, lastVersion, recordsSent } = (await request.json()) as OpenStreamRequest;
    return this.#hub.openStream(proxy, lastVersion, recordsSent);
  }

  /** Something that may change proxies' configs was written. */
  notify(): Promise<void> {
    return this.#hub.notify();
  }

  /** A long-poll: the proxy's config once its version differs from `version`, or undefined after `timeoutMs`. */
  waitForChange(proxy: ProxyRegistration, version: string, timeoutMs: number): Promise<BuiltConfig | undefined> {
    return this.#hub.waitForChange(proxy, version, timeoutMs);
  }
}

function configHub(env: Env): DurableObjectStub<ConfigHub> {
  return env.CONFIG_HUB.get(env.CONFIG_HUB.idFromName("mesh"));
}

function depsFrom(env: Env, ctx: ExecutionContext): ControlPlaneDeps {
  const trustDomain = env.WEFT_TRUST_DOMAIN || "cluster.local";
  const joinSecret = env.WEFT_JOIN_TOKEN_SECRET ? base64Bytes(env.WEFT_JOIN_TOKEN_SECRET) : undefined;
  const notifyConfigChange = (): Promise<void> =>
    configHub(env)
      .notify()
      .catch((err: unknown) => console.error("config hub: notify failed", err));
  return {
    db: drizzle(env.DB),
    adminToken: env.WEFT_ADMIN_TOKEN || undefined,
    now,
    newUid: () => crypto.randomUUID(),
    watch: { pollIntervalMs: positiveNumber(env.WEFT_WATCH_POLL_MS, 250), bookmarkIntervalMs: 10_000 },
    waitUntil: (p) => ctx.waitUntil(p),
    ca: {
      trustDomain,
      defaultTtlMs: durationMs("WEFT_CA_DEFAULT_TTL", env.WEFT_CA_DEFAULT_TTL, "24h"),
      maxTtlMs: durationMs("WEFT_CA_MAX_TTL", env.WEFT_CA_MAX_TTL, "2160h"),
      caKeyPem: env.WEFT_CA_KEY ? normalizeCaKey(env.WEFT_CA_KEY) : undefined,
    },
    authenticateWorkload: workloadAuthenticator(env),
    createJoinToken: joinSecret
      ? ({ namespace, serviceAccount, ttlSeconds }) => createJoinToken({ secret: joinSecret, trustDomain, namespace, serviceAccount, ttlSeconds, now })
      : undefined,
    configCache,
    registrationCache,
    configHub: {
      openStream: (proxy, lastVersion, recordsSent) =>
        configHub(env).fetch("https://config-hub/stream", { method: "POST", body: JSON.stringify({ proxy, lastVersion, recordsSent } satisfies OpenStreamRequest) }),
      waitForChange: async (proxy, version, timeoutMs) => (await configHub(env).waitForChange(proxy, version, timeoutMs)) as BuiltConfig | undefined,
    },
    notifyConfigChange,
    announceWrite: () => ctx.waitUntil(notifyConfigChange()),
    proxyImage: env.WEFT_PROXY_IMAGE || undefined,
    publicUrl: env.WEFT_PUBLIC_URL ? env.WEFT_PUBLIC_URL.replace(/\/+$/, "") : undefined,
  };
}

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, { deps: depsFrom(env, ctx) }, ctx);
  },
  async scheduled(_controller, env) {
    const hours = positiveNumber(env.WEFT_CHANGE_LOG_HOURS, 24);
    const before = new Date(Date.now() - hours * 3_600_000).toISOString();
    const dropped = await compactChanges(drizzle(env.DB), before, positiveNumber(env.WEFT_CHANGE_LOG_KEEP, 1000));
    console.log(`change log compacted: ${dropped} entries older than ${before} dropped`);
    const expired = await expireRegistrations(drizzle(env.DB), new Date());
    if (expired.length > 0) {
      console.log(`registry: ${expired.length} expired registrations removed: ${expired.join(", ")}`);
      await configHub(env)
        .notify()
        .catch((err: unknown) => console.error("config hub: notify failed", err));
    }
  },
} satisfies ExportedHandler<Env>;
