/**
 * @module hosts/worker/edge-gateway
 * The proxy core as an edge gateway in a Worker: each request waits for a config only on a cold
 * isolate (the config agent), then runs through `proxy.gateway` with the downstream as its peer. One
 * proxy object lives as long as the isolate and `update()` swaps its config, so upstream state
 * (outlier ejections, circuit breakers) survives new versions. Paths under `/__weft/` are reserved
 * for admin endpoints (Prometheus metrics, config dump) that need the admin bearer token and are a
 * plain 404 without it. Without any config the gateway refuses to route: 503, flag NC.
 */
import type { ProxyConfig } from "../../core/config/proxy-config.js";
import type { ProxyHost } from "../../core/proxy/host.js";
import { createProxy, type Proxy } from "../../core/proxy/proxy.js";
import type { TelemetrySink } from "../../core/telemetry/types.js";
import { createConfigAgent, type ConfigAgent } from "./config-agent.js";
import type { ControlPlaneClient } from "../control-plane-client.js";
import type { KeptConfigStore } from "./kept-config.js";
import { createFetchSend, type OriginFetch } from "./send-fetch.js";

export const ADMIN_PREFIX = "/__weft/";
export const NO_CONFIG_BODY = "no config: the control plane is unreachable and no config was kept";

export interface EdgeGatewayOptions {
  client: ControlPlaneClient;
  kept: KeptConfigStore;
  refreshMs: number;
  /** Epoch ms; also the engine's clock. Default Date.now. */
  now?: () => number;
  /** How origin requests leave (default: the global fetch). */
  fetchOrigin?: OriginFetch;
  /** RequestAuthentication jwksUri fetches (default: the global fetch). */
  fetchJwks?: (uri: string) => Promise<unknown>;
  /** Request records beyond the engine's own metrics (access log, Analytics Engine). */
  telemetry: TelemetrySink[];
  /** Structured events (config applied, refused, control plane unreachable), one JSON line each. */
  log: (line: string) => void;
  /** Bearer token for `/__weft/` endpoints; without one they are all 404. */
  adminToken?: string;
}

export interface EdgeGateway {
  fetch(request: Request, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Response>;
  readonly agent: ConfigAgent;
  /** The engine, once a config arrived. */
  readonly proxy: Proxy | undefined;
}

export function createEdgeGateway(options: EdgeGatewayOptions): EdgeGateway {
  const now = options.now ?? Date.now;
  const log = (event: Record<string, unknown>) => options.log(JSON.stringify({ time: new Date(now()).toISOString(), ...event }));
  // Mirrors are kept alive with the ctx of the latest request: any live request's waitUntil extends the isolate.
  let latestWaitUntil: ((work: Promise<unknown>) => void) | undefined;
  const host: ProxyHost = {
    send: createFetchSend(options.fetchOrigin),
    now,
    waitUntil: (work) => latestWaitUntil?.(work),
    telemetry: options.telemetry,
    fetchJwks: options.fetchJwks ?? defaultFetchJwks,
  };
  let proxy: Proxy | undefined;
  const agent = createConfigAgent({
    client: options.client,
    kept: options.kept,
    refreshMs: options.refreshMs,
    now,
    log,
    apply(config: ProxyConfig) {
      if (proxy === undefined) proxy = createProxy(config, host);
      else proxy.update(config);
    },
  });

  const admin = (request: Request, url: URL): Response => {
    const token = options.adminToken;
    const given = request.headers.get("authorization") ?? "";
    if (!token || !timingSafeEqual(given, `Bearer ${token}`)) return new Response("not found\n", { status: 404 });
    const path = url.pathname.slice(ADMIN_PREFIX.length);
    if (path === "stats/prometheus" && proxy) return new Response(proxy.metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
    if (path === "config_dump") {
      return Response.json({ proxy: options.client.proxyId, version: agent.version ?? null, config: proxy?.config ?? null });
    }
    return new Response("not found\n", { status: 404 });
  };

  return {
    agent,
    get proxy() {
      return proxy;
    },
    async fetch(request, ctx) {
      const waitUntil = (work: Promise<unknown>) => ctx.waitUntil(work);
      latestWaitUntil = waitUntil;
      const url = new URL(request.url);
      if (url.pathname.startsWith(ADMIN_PREFIX)) return admin(request, url);
      const ready = await agent.ready(waitUntil);
      if (!ready || proxy === undefined) {
        log({ level: "error", event: "no_config", proxy: options.client.proxyId, method: request.method, authority: url.host, path: url.pathname, response_code: 503, response_flags: "NC" });
        return new Response(NO_CONFIG_BODY, { status: 503, headers: { "content-type": "text/plain", "x-weft-flag": "NC" } });
      }
      const https = url.protocol === "https:";
      return proxy.gateway(request, {
        peer: { port: https ? 443 : 80, mtls: false, sourceIp: request.headers.get("cf-connecting-ip") ?? "0.0.0.0" },
        signal: request.signal,
      });
    },
  };
}

async function defaultFetchJwks(uri: string): Promise<unknown> {
  const response = await fetch(uri, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`JWKS ${uri} answered ${response.status}`);
  return response.json();
}

/** Compares without an early exit on the first difference. */
function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i % Math.max(x.length, 1)] ?? 0) ^ (y[i % Math.max(y.length, 1)] ?? 0);
  return diff === 0;
}
