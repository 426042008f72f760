// The sidecar's status and admin ports (15000, 15020, 15021, 15090) over a plain SidecarView, served
// on real loopback sockets, and `weft sidecar wait` against them.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "../../../../edge-proxy/core/config/proxy-config.js";
import { createProxy, type Proxy } from "../../../../edge-proxy/core/proxy/proxy.js";
import { adminApp, healthApp, prometheusApp, statusApp } from "../../../../edge-proxy/hosts/sidecar/admin/admin-apps.js";
import { closeServer, serveApp } from "../../../../edge-proxy/hosts/sidecar/admin/serve-apps.js";
import type { SidecarView } from "../../../../edge-proxy/hosts/sidecar/admin/sidecar-view.js";
import type { WorkloadCertificate } from "../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";
import { waitForReady } from "../../../../edge-proxy/hosts/sidecar/wait-for-ready.js";

const config: ProxyConfig = {
  version: PROXY_CONFIG_VERSION,
  proxy: { kind: "sidecar", namespace: "shop", labels: { app: "web" }, gateways: ["mesh"], workload: "web" },
  listeners: [{ port: 0, virtualHosts: [{ name: "shop/ratings", domains: ["ratings.shop.svc.cluster.local"], routes: [{ name: "r", match: [], action: { kind: "route", destinations: [{ cluster: "outbound|9080||ratings.shop.svc.cluster.local", weight: 100 }] } }] }] }],
  clusters: [
    {
      name: "outbound|9080||ratings.shop.svc.cluster.local",
      host: "ratings.shop.svc.cluster.local",
      port: 9080,
      endpoints: [
        { address: "10.1.0.7", port: 9080, labels: { app: "ratings" } },
        { address: "10.1.0.8", port: 9080, labels: { app: "ratings" }, weight: 3 },
      ],
      policy: { loadBalancer: { kind: "ROUND_ROBIN" }, outlierDetection: { consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 } },
    },
  ],
};

const certificate: WorkloadCertificate = {
  keyPem: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
  certChainPem: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
  spiffeId: "spiffe://cluster.local/ns/shop/sa/web",
  serial: "1f2e3d",
  notBefore: Date.parse("2026-11-26T00:00:00Z"),
  notAfter: Date.parse("2026-11-27T00:00:00Z"),
};

describe("sidecar status and admin ports", () => {
  let proxy: Proxy | undefined;
  let cert: WorkloadCertificate | undefined;
  let draining = false;
  const quits: string[] = [];
  const view: SidecarView = {
    readiness: () => {
      const reasons = [...(draining ? ["draining"] : []), ...(proxy === undefined ? ["no config yet"] : []), ...(cert === undefined ? ["no certificate yet"] : [])];
      return { ready: reasons.length === 0, reasons };
    },
    proxy: () => proxy,
    config: () => (proxy === undefined ? undefined : { version: "v-abc", source: "control-plane" }),
    certificate: () => cert,
    nextRenewalAt: () => (cert === undefined ? undefined : Date.parse("2026-11-26T12:00:00Z")),
    trust: () => ({ trustDomain: "cluster.local", roots: ["-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n"], revokedSerials: new Set(["dead"]) }),
    connections: () => 3,
    startedAt: Date.parse("2026-11-26T00:00:00Z"),
    now: () => Date.parse("2026-11-26T01:00:00Z"),
    quit: (reason) => void quits.push(reason),
  };
  const servers: http.Server[] = [];
  const base: Record<string, string> = {};
  let appMetrics: http.Server;

  beforeAll(async () => {
    appMetrics = http.createServer((req, res) => {
      if (req.url === "/metrics") res.end("# TYPE app_orders_total counter\napp_orders_total 42\n");
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => appMetrics.listen(0, "127.0.0.1", r));
    const appPort = (appMetrics.address() as AddressInfo).port;
    const apps = { admin: adminApp(view), status: statusApp(view, { appMetrics: { port: appPort, path: "/metrics" } }), health: healthApp(view), prometheus: prometheusApp(view) };
    for (const [name, app] of Object.entries(apps)) {
      const server = await serveApp(app, 0, "127.0.0.1");
      servers.push(server);
      base[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => closeServer(s)));
    await new Promise((r) => appMetrics.close(r));
  });

  it("15021 is not ready, with the reasons, until config and certificate are loaded, and not while draining", async () => {
    const before = await fetch(`${base.health}/healthz/ready`);
    expect(before.status).toBe(503);
    expect(await before.text()).toContain("no config yet, no certificate yet");
    expect((await waitForReady({ url: `${base.health}/healthz/ready`, timeoutMs: 300, periodMs: 100, requestTimeoutMs: 200 })).ready).toBe(false);

    proxy = createProxy(config, { send: async () => new Response("ok") });
    cert = certificate;
    expect((await fetch(`${base.health}/healthz/ready`)).status).toBe(200);
    expect((await fetch(`${base.status}/healthz/ready`)).status).toBe(200);
    draining = true;
    expect(await (await fetch(`${base.health}/healthz/ready`)).text()).toContain("draining");
    draining = false;
  });

  it("weft sidecar wait returns as soon as the proxy turns ready, and reports the last answer on timeout", async () => {
    proxy = undefined;
    setTimeout(() => (proxy = createProxy(config, { send: async () => new Response("ok") })), 250);
    const result = await waitForReady({ url: `${base.health}/healthz/ready`, timeoutMs: 5000, periodMs: 50, requestTimeoutMs: 500 });
    expect(result.ready).toBe(true);
    expect(result.attempts).toBeGreaterThan(1);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await waitForReady({ url: `http://127.0.0.1:${closedPort}/healthz/ready`, timeoutMs: 120, periodMs: 50, requestTimeoutMs: 100 });
    expect(refused).toMatchObject({ ready: false });
    expect(refused.last).toMatch(/ECONNREFUSED/);
  });

  it("15090 serves the proxy's Istio metrics and 15020 merges the application's", async () => {
    await (await proxy!.outbound(new Request("http://ratings.shop.svc.cluster.local:9080/"), { port: 9080 })).text();
    const own = await (await fetch(`${base.prometheus}/stats/prometheus`)).text();
    expect(own).toContain('istio_requests_total{');
    expect(own).toContain('destination_service="ratings.shop.svc.cluster.local"');
    expect(own).toContain("weft_agent_cert_expiry_timestamp_seconds 1795737600");
    expect(own).not.toContain("app_orders_total");
    const merged = await (await fetch(`${base.status}/stats/prometheus`)).text();
    expect(merged).toContain("istio_requests_total{");
    expect(merged).toContain("app_orders_total 42");
  });

  it("15000 dumps the config, lists clusters with health and weight, stats and certificates", async () => {
    const dump = (await (await fetch(`${base.admin}/config_dump`)).json()) as { version: string; config: ProxyConfig };
    expect(dump.version).toBe("v-abc");
    expect(dump.config.clusters[0]?.name).toBe("outbound|9080||ratings.shop.svc.cluster.local");
    const clusters = await (await fetch(`${base.admin}/clusters`)).text();
    expect(clusters).toContain("outbound|9080||ratings.shop.svc.cluster.local::10.1.0.8:9080::weight::3");
    expect(clusters).toMatch(/10\.1\.0\.7:9080::health_flags::(healthy|\/failed_outlier_check)/);
    const stats = await (await fetch(`${base.admin}/stats`)).text();
    expect(stats).toContain("server.uptime: 3600");
    expect(stats).toContain("cluster.outbound|9080||ratings.shop.svc.cluster.local.membership_total: 2");
    const certs = (await (await fetch(`${base.admin}/certs`)).json()) as { certificates: { cert_chain: { serial_number: string; subject_alt_names: { uri: string }[] }[] }[]; revoked_serials: string[] };
    expect(certs.certificates[0]?.cert_chain[0]).toMatchObject({ serial_number: "1f2e3d", subject_alt_names: [{ uri: "spiffe://cluster.local/ns/shop/sa/web" }] });
    expect(certs.revoked_serials).toEqual(["dead"]);
  });

  it("POST /quitquitquit on 15020 starts the shutdown; GET does not", async () => {
    expect((await fetch(`${base.status}/quitquitquit`)).status).toBe(404);
    expect(quits).toEqual([]);
    const response = await fetch(`${base.status}/quitquitquit`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(quits).toEqual(["/quitquitquit"]);
  });
});
