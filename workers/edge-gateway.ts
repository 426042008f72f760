/**
 * @module workers/edge-gateway
 * Composition root of the edge gateway Worker (`wrangler.gateway.toml`): the only place that reads its
 * bindings and vars. It builds, once per isolate, the gateway's identity, the control-plane client (a
 * `WEFT_URL` when set, else the service binding `CONTROL_PLANE`, with the `WEFT_JOIN_TOKEN` secret), the kept-config
 * store and the telemetry sinks, and hands each request to the Worker host (edge-proxy/hosts/worker).
 * `createEdgeGatewayWorker(overrides)` lets tests swap the origin transport, the clock, the log and the cache.
 */
import { parseDurationMs } from "../control/validation/primitives.js";
import { createControlPlaneClient, type ControlPlaneFetch, type ProxyRegistration } from "../edge-proxy/hosts/control-plane-client.js";
import { createEdgeGateway, type EdgeGateway } from "../edge-proxy/hosts/worker/edge-gateway.js";
import { createKeptConfigStore } from "../edge-proxy/hosts/worker/kept-config.js";
import type { OriginFetch } from "../edge-proxy/hosts/worker/send-fetch.js";
import { accessLogSink, analyticsEngineSink } from "../edge-proxy/hosts/worker/telemetry-sinks.js";

export interface Env {
  /** Service binding to the control-plane Worker (same account), used when WEFT_URL is not set. */
  CONTROL_PLANE?: Fetcher;
  /** The control plane's URL; when set it is used instead of the CONTROL_PLANE binding. */
  WEFT_URL?: string;
  /** Secret: a join token for the gateway's namespace and service account (`weft token create -n NS --service-account SA`). */
  WEFT_JOIN_TOKEN?: string;
  WEFT_GATEWAY_NAMESPACE?: string;
  WEFT_GATEWAY_SERVICE_ACCOUNT?: string;
  /** The registration's name; the proxy id is `<name>.<namespace>`. */
  WEFT_GATEWAY_NAME?: string;
  /** JSON object of the gateway's labels, which Gateway and policy selectors match. */
  WEFT_GATEWAY_LABELS?: string;
  /** Comma-separated `namespace/name` of the Gateway objects served. */
  WEFT_GATEWAYS?: string;
  /** How often the config is revalidated, a duration (default 5s). */
  WEFT_CONFIG_REFRESH?: string;
  /** Secret: bearer token for the `/__weft/` admin endpoints. */
  WEFT_ADMIN_TOKEN?: string;
  /** Analytics Engine dataset for per-request metrics, when bound. */
  WEFT_METRICS?: AnalyticsEngineDataset;
}

/** What tests (or another host) may replace. */
export interface EdgeGatewayOverrides {
  fetchOrigin?: OriginFetch;
  now?: () => number;
  /** Receives every access-log line and event (default console.log). */
  log?: (line: string) => void;
  cache?: () => Cache;
}

/** The gateway's configuration from vars and secrets is wrong: named by variable. */
export class GatewayConfigError extends Error {
  readonly code = "GatewayConfigError";
  constructor(message: string) {
    super(message);
    this.name = "GatewayConfigError";
  }
}

const DEFAULT_LABELS = { istio: "ingressgateway" };

export function registrationFrom(env: Env): ProxyRegistration {
  const namespace = env.WEFT_GATEWAY_NAMESPACE || "istio-system";
  const name = env.WEFT_GATEWAY_NAME || "weft-edge-gateway";
  let labels: Record<string, string> = DEFAULT_LABELS;
  if (env.WEFT_GATEWAY_LABELS) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.WEFT_GATEWAY_LABELS);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === "string")) {
      throw new GatewayConfigError(`WEFT_GATEWAY_LABELS must be a JSON object of strings, e.g. {"istio":"ingressgateway"}`);
    }
    labels = parsed as Record<string, string>;
  }
  const gateways = (env.WEFT_GATEWAYS ?? "").split(",").map((g) => g.trim()).filter((g) => g !== "");
  for (const gateway of gateways) if (!/^[^/]+\/[^/]+$/.test(gateway)) throw new GatewayConfigError(`WEFT_GATEWAYS: "${gateway}" is not namespace/name`);
  return {
    kind: "gateway",
    name,
    namespace,
    serviceAccount: env.WEFT_GATEWAY_SERVICE_ACCOUNT || name,
    // A Worker has no address of its own; the registry needs an IP.
    address: "0.0.0.0",
    labels,
    gateways,
    ports: [
      { port: 80, name: "http", protocol: "HTTP" },
      { port: 443, name: "https", protocol: "HTTPS" },
    ],
  };
}

/** WEFT_URL when set (local development, another account), else the CONTROL_PLANE service binding. */
function controlPlaneFrom(env: Env): { fetch: ControlPlaneFetch; baseUrl: string } {
  if (env.WEFT_URL) return { fetch: (request) => fetch(request), baseUrl: env.WEFT_URL };
  const binding = env.CONTROL_PLANE;
  if (binding) return { fetch: (request) => binding.fetch(request), baseUrl: "https://weft-control-plane.internal" };
  throw new GatewayConfigError("neither a CONTROL_PLANE service binding nor WEFT_URL is set: the gateway has no control plane");
}

function refreshMsFrom(env: Env): number {
  const text = env.WEFT_CONFIG_REFRESH || "5s";
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new GatewayConfigError(`WEFT_CONFIG_REFRESH="${text}" is not a duration such as 5s`);
  return ms;
}

/** The gateway for `env`, built on first use and kept for the isolate's life. */
function buildGateway(env: Env, overrides: EdgeGatewayOverrides): EdgeGateway {
  if (!env.WEFT_JOIN_TOKEN) throw new GatewayConfigError("WEFT_JOIN_TOKEN is not set: create one with `weft token create -n NS --service-account SA` and `wrangler secret put WEFT_JOIN_TOKEN`");
  const registration = registrationFrom(env);
  const client = createControlPlaneClient({ ...controlPlaneFrom(env), token: env.WEFT_JOIN_TOKEN, registration });
  const log = overrides.log ?? ((line: string) => console.log(line));
  return createEdgeGateway({
    client,
    kept: createKeptConfigStore(client.proxyId, overrides.cache),
    refreshMs: refreshMsFrom(env),
    ...(overrides.now ? { now: overrides.now } : {}),
    ...(overrides.fetchOrigin ? { fetchOrigin: overrides.fetchOrigin } : {}),
    telemetry: [accessLogSink(log), ...(env.WEFT_METRICS ? [analyticsEngineSink(env.WEFT_METRICS)] : [])],
    log,
    ...(env.WEFT_ADMIN_TOKEN ? { adminToken: env.WEFT_ADMIN_TOKEN } : {}),
  });
}

/** A Worker whose isolate-wide state (config, proxy) lives in this closure. */
export function createEdgeGatewayWorker(overrides: EdgeGatewayOverrides = {}) {
  let gateway: EdgeGateway | undefined;
  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      try {
        gateway ??= buildGateway(env, overrides);
      } catch (error) {
        if (!(error instanceof GatewayConfigError)) throw error;
        (overrides.log ?? console.error)(JSON.stringify({ level: "error", event: "gateway_misconfigured", error: error.message }));
        return new Response(`gateway misconfigured: ${error.message}\n`, { status: 500 });
      }
      return gateway.fetch(request, ctx);
    },
  } satisfies ExportedHandler<Env>;
}

export default createEdgeGatewayWorker();
