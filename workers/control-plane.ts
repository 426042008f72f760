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

export interface Env {
  DB: D1Database;
  /** Secret: the admin bearer token. */
  WEFT_ADMIN_TOKEN?: string;
  /** How long the change log keeps entries for watches to resume from (hours; default 24). */
  WEFT_CHANGE_LOG_HOURS?: string;
  /** Change-log entries always kept, however old, so a recent watcher can resume (default 1000). */
  WEFT_CHANGE_LOG_KEEP?: string;
  /** How often a watch polls the change log (milliseconds; default 250). */
  WEFT_WATCH_POLL_MS?: string;
}

const app = createControlPlaneApp();

function depsFrom(env: Env, ctx: ExecutionContext): ControlPlaneDeps {
  return {
    db: drizzle(env.DB),
    adminToken: env.WEFT_ADMIN_TOKEN || undefined,
    now: () => new Date(),
    newUid: () => crypto.randomUUID(),
    watch: { pollIntervalMs: positiveNumber(env.WEFT_WATCH_POLL_MS, 250), bookmarkIntervalMs: 10_000 },
    waitUntil: (p) => ctx.waitUntil(p),
  };
}

function positiveNumber(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text && Number.isFinite(n) && n > 0 ? n : fallback;
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
