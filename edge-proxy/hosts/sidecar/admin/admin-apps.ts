/**
 * @module hosts/sidecar/admin/admin-apps
 * The sidecar's own HTTP ports, as Istio's proxy has them (Hono apps; ../serve-apps.ts binds them):
 *
 * - 15000 admin, loopback only, Envoy's admin paths: `/config_dump` (the applied proxy config, its
 *   version and source), `/clusters` (each cluster's endpoints with health and weight; `?format=json`),
 *   `/stats` (counters and gauges as `name: value`; `?format=prometheus`), `/certs` (the workload
 *   certificate and the trust roots, Envoy's JSON shape), `/ready`;
 * - 15020 pilot-agent: `/stats/prometheus` (the proxy's metrics merged with the application's, which it
 *   scrapes as Istio does from `ISTIO_PROMETHEUS_ANNOTATIONS`), `/healthz/ready`, `POST /quitquitquit`;
 * - 15021 `/healthz/ready`: 200 once config and certificate are loaded, 503 with the reasons otherwise
 *   (and while draining);
 * - 15090 `/stats/prometheus`: the proxy's Istio metrics.
 */
import { Hono } from "hono";
import type { Readiness, SidecarView } from "./sidecar-view.js";

const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Where the application's own metrics are scraped for the merged endpoint (Istio's prometheus.io annotations). */
export interface AppMetricsTarget {
  port: number;
  path: string;
}

export interface StatusAppOptions {
  appMetrics?: AppMetricsTarget;
  /** Fetches the application's metrics; tests pass their own. Default: global fetch to 127.0.0.1. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** How long the application's metrics may take, ms. Default 2000. */
  scrapeTimeoutMs?: number;
}

const readinessResponse = (readiness: Readiness): Response =>
  readiness.ready ? new Response("", { status: 200 }) : new Response(`not ready: ${readiness.reasons.join(", ")}\n`, { status: 503, headers: { "content-type": "text/plain" } });

/** 15021: the readiness and startup probes' endpoint. */
export function healthApp(view: SidecarView): Hono {
  const app = new Hono();
  app.get("/healthz/ready", () => readinessResponse(view.readiness()));
  return app;
}

/** The proxy's metrics plus the agent's own gauges, Prometheus text. */
function proxyMetrics(view: SidecarView): string {
  const lines: string[] = [];
  const certificate = view.certificate();
  const config = view.config();
  lines.push("# TYPE weft_agent_ready gauge", `weft_agent_ready ${view.readiness().ready ? 1 : 0}`);
  lines.push("# TYPE weft_agent_downstream_connections gauge", `weft_agent_downstream_connections ${view.connections()}`);
  if (certificate !== undefined) lines.push("# TYPE weft_agent_cert_expiry_timestamp_seconds gauge", `weft_agent_cert_expiry_timestamp_seconds ${Math.floor(certificate.notAfter / 1000)}`);
  if (config !== undefined) lines.push("# TYPE weft_agent_config_info gauge", `weft_agent_config_info{version="${config.version}",source="${config.source}"} 1`);
  const istio = view.proxy()?.metrics.render() ?? "";
  return `${istio}${istio === "" || istio.endsWith("\n") ? "" : "\n"}${lines.join("\n")}\n`;
}

/** 15090: Envoy's Prometheus endpoint. */
export function prometheusApp(view: SidecarView): Hono {
  const app = new Hono();
  app.get("/stats/prometheus", () => new Response(proxyMetrics(view), { headers: { "content-type": PROMETHEUS_TYPE } }));
  return app;
}

/** 15020: pilot-agent's status port. */
export function statusApp(view: SidecarView, options: StatusAppOptions = {}): Hono {
  const app = new Hono();
  const fetchApp = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  app.get("/healthz/ready", () => readinessResponse(view.readiness()));
  app.get("/stats/prometheus", async () => {
    let merged = proxyMetrics(view);
    const target = options.appMetrics;
    if (target !== undefined) {
      try {
        const response = await fetchApp(`http://127.0.0.1:${target.port}${target.path}`, { signal: AbortSignal.timeout(options.scrapeTimeoutMs ?? 2000) });
        const text = await response.text();
        if (response.ok) merged += text.endsWith("\n") || text === "" ? text : `${text}\n`;
        else merged += `# weft: the application's metrics answered ${response.status}\n`;
      } catch (error) {
        // Istio also serves the proxy's metrics when the application's scrape fails.
        merged += `# weft: the application's metrics could not be scraped: ${String(error).replace(/\n/g, " ")}\n`;
      }
    }
    return new Response(merged, { headers: { "content-type": PROMETHEUS_TYPE } });
  });
  app.post("/quitquitquit", () => {
    view.quit("/quitquitquit");
    return new Response("OK\n", { status: 200 });
  });
  return app;
}

/** Envoy's health flags for /clusters. */
function endpointHealth(ejected: boolean): string {
  return ejected ? "/failed_outlier_check" : "healthy";
}

/** 15000: Envoy's admin paths. Bind it to loopback only. */
export function adminApp(view: SidecarView): Hono {
  const app = new Hono();
  app.get("/", (c) => c.text(["/config_dump", "/clusters", "/stats", "/stats/prometheus", "/certs", "/ready"].join("\n") + "\n"));
  app.get("/ready", () => {
    const readiness = view.readiness();
    return new Response(readiness.ready ? "LIVE\n" : "PRE_INITIALIZING\n", { status: readiness.ready ? 200 : 503 });
  });
  app.get("/config_dump", (c) => {
    const proxy = view.proxy();
    const config = view.config();
    return c.json({ version: config?.version ?? null, source: config?.source ?? null, config: proxy?.config ?? null });
  });
  app.get("/clusters", (c) => {
    const proxy = view.proxy();
    const clusters = (proxy?.config.clusters ?? []).map((cluster) => {
      const ejected = new Set(proxy?.upstream(cluster.name)?.ejected() ?? []);
      return {
        name: cluster.name,
        endpoints: cluster.endpoints.map((e) => ({ address: `${e.address}:${e.port}`, health: endpointHealth(ejected.has(e)), weight: e.weight ?? 1, labels: e.labels })),
      };
    });
    if (c.req.query("format") === "json") return c.json({ cluster_statuses: clusters });
    const lines: string[] = [];
    for (const cluster of clusters) {
      for (const e of cluster.endpoints) {
        lines.push(`${cluster.name}::${e.address}::health_flags::${e.health}`, `${cluster.name}::${e.address}::weight::${e.weight}`);
      }
    }
    return c.text(lines.join("\n") + (lines.length > 0 ? "\n" : ""));
  });
  app.get("/stats/prometheus", () => new Response(proxyMetrics(view), { headers: { "content-type": PROMETHEUS_TYPE } }));
  app.get("/stats", (c) => {
    if (c.req.query("format") === "prometheus") return new Response(proxyMetrics(view), { headers: { "content-type": PROMETHEUS_TYPE } });
    const proxy = view.proxy();
    const certificate = view.certificate();
    const stats: [string, number][] = [
      ["server.live", view.readiness().ready ? 1 : 0],
      ["server.uptime", Math.floor((view.now() - view.startedAt) / 1000)],
      ["server.downstream_cx_active", view.connections()],
      ["cluster_manager.active_clusters", proxy?.config.clusters.length ?? 0],
    ];
    for (const cluster of proxy?.config.clusters ?? []) {
      const ejected = proxy?.upstream(cluster.name)?.ejected().length ?? 0;
      stats.push([`cluster.${cluster.name}.membership_total`, cluster.endpoints.length]);
      stats.push([`cluster.${cluster.name}.membership_healthy`, cluster.endpoints.length - ejected]);
      stats.push([`cluster.${cluster.name}.outlier_detection.ejections_active`, ejected]);
    }
    if (certificate !== undefined) stats.push(["server.days_until_first_cert_expiring", Math.floor((certificate.notAfter - view.now()) / 86_400_000)]);
    return c.text(stats.map(([name, value]) => `${name}: ${value}`).join("\n") + "\n");
  });
  app.get("/certs", (c) => {
    const certificate = view.certificate();
    const trust = view.trust();
    const now = view.now();
    return c.json({
      certificates:
        certificate === undefined
          ? []
          : [
              {
                ca_cert: (trust?.roots ?? []).map((pem, i) => ({ path: `trust-root-${i}`, pem })),
                cert_chain: [
                  {
                    path: "default",
                    serial_number: certificate.serial,
                    subject_alt_names: [{ uri: certificate.spiffeId }],
                    days_until_expiration: String(Math.floor((certificate.notAfter - now) / 86_400_000)),
                    valid_from: new Date(certificate.notBefore).toISOString(),
                    expiration_time: new Date(certificate.notAfter).toISOString(),
                  },
                ],
              },
            ],
      next_renewal: view.nextRenewalAt() !== undefined ? new Date(view.nextRenewalAt() as number).toISOString() : null,
      trust_domain: trust?.trustDomain ?? null,
      revoked_serials: [...(trust?.revokedSerials ?? [])],
    });
  });
  return app;
}
