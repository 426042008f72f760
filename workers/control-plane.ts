/**
 * @module workers/control-plane
 * Composition root of the control-plane Worker: the only place that reads bindings and secrets.
 * Builds the dependencies the runtime-agnostic app needs and hands them over per request; the cron
 * trigger compacts the change log.
 */
import { drizzle } from "drizzle-orm/d1";
import { createControlPlaneApp } from "../control/http/app.js";
import type { ControlPlaneDeps } from "../control/http/context.js";
import { compactChanges } from "../control/store/resource-store.js";
import { normalizeCaKey } from "../control/ca/ca-key.js";
import { createJoinToken } from "../control/ca/authenticate/join-token.js";
import { parseTrustedIssuers } from "../control/ca/authenticate/trusted-issuers.js";
import { createWorkloadAuthenticator } from "../control/ca/authenticate/workload-authenticator.js";
import { parseDurationMs } from "../control/validation/primitives.js";
import type { Caller } from "../control/ca/authenticate/identity.js";
import { CaNotReady } from "../control/errors.js";

export interface Env {
  DB: D1Database;
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

function depsFrom(env: Env, ctx: ExecutionContext): ControlPlaneDeps {
  const trustDomain = env.WEFT_TRUST_DOMAIN || "cluster.local";
  const joinSecret = env.WEFT_JOIN_TOKEN_SECRET ? base64Bytes(env.WEFT_JOIN_TOKEN_SECRET) : undefined;
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
  },
} satisfies ExportedHandler<Env>;
