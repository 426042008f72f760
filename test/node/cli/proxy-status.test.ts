// `weft proxy-status` and `weft proxy-config` against a fake control plane (node:http) that serves
// /v1/proxy-status and one proxy's config: kubectl-style tables, -o json|yaml, the token sent, and
// bad command lines refused before the network.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli, tempDir } from "./run-cli.js";

const TOKEN = "weft_test-admin";
const NOW = new Date("2030-01-01T12:00:00Z");
const V1 = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2";
const V2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

const STATUS = {
  items: [
    { id: "productpage-v1-abc.bookinfo", name: "productpage-v1-abc", namespace: "bookinfo", kind: "sidecar", version: V1, status: "SYNCED", lastSeen: "2030-01-01T11:59:50Z" },
    { id: "reviews-v2-xyz.bookinfo", name: "reviews-v2-xyz", namespace: "bookinfo", kind: "sidecar", version: V2, status: "STALE", reason: `NACK of ${V2}: route reviews: unknown cluster`, lastSeen: "2030-01-01T11:55:00Z" },
    { id: "ingress-1.istio-system", name: "ingress-1", namespace: "istio-system", kind: "gateway", version: V1, status: "NOT SENT", lastSeen: "2030-01-01T09:00:00Z" },
  ],
};

function makeRoot(): string {
  const dir = tempDir("weft-proxy-config-");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"),
    "-subj", "/O=cluster.local/CN=Weft Root CA", "-days", "3650"], { stdio: "ignore" });
  return readFileSync(join(dir, "c.pem"), "utf8");
}

const ROOT = makeRoot();

const CONFIG = {
  version: "weft.dev/proxy/v1alpha1",
  proxy: { kind: "sidecar", namespace: "bookinfo", labels: { app: "productpage" }, gateways: ["mesh"] },
  listeners: [
    {
      port: 9080,
      virtualHosts: [
        {
          name: "bookinfo/reviews",
          domains: ["reviews.bookinfo.svc.cluster.local", "reviews", "reviews.bookinfo", "10.0.0.7"],
          routes: [
            {
              name: "jason",
              match: [{ headers: { "end-user": { exact: "jason" } }, uri: { prefix: "/reviews" } }],
              action: { kind: "route", destinations: [{ cluster: "outbound|9080|v2|reviews.bookinfo.svc.cluster.local", weight: 100 }] },
            },
            {
              name: "bookinfo/reviews/1",
              match: [],
              action: {
                kind: "route",
                destinations: [
                  { cluster: "outbound|9080|v1|reviews.bookinfo.svc.cluster.local", weight: 80 },
                  { cluster: "outbound|9080|v3|reviews.bookinfo.svc.cluster.local", weight: 20 },
                ],
              },
            },
          ],
        },
      ],
    },
    { port: 0, virtualHosts: [{ name: "bookinfo/legacy", domains: ["legacy.example.com"], routes: [{ name: "moved", match: [{ uri: { exact: "/old" } }], action: { kind: "redirect", uri: "/new", code: 301 } }] }] },
  ],
  clusters: [
    {
      name: "outbound|9080|v1|reviews.bookinfo.svc.cluster.local",
      host: "reviews.bookinfo.svc.cluster.local",
      port: 9080,
      subset: "v1",
      endpoints: [
        { address: "10.0.0.7", port: 9080, labels: { app: "reviews", version: "v1" } },
        { address: "10.0.0.8", port: 9080, labels: { app: "reviews", version: "v1" } },
      ],
      policy: { loadBalancer: { kind: "LEAST_REQUEST" }, outlierDetection: { consecutive5xxErrors: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 } },
    },
    {
      name: "outbound|9080|v2|reviews.bookinfo.svc.cluster.local",
      host: "reviews.bookinfo.svc.cluster.local",
      port: 9080,
      subset: "v2",
      endpoints: [{ address: "fd00::9", port: 9080, labels: {} }],
      policy: { loadBalancer: { kind: "ROUND_ROBIN" } },
    },
  ],
  trust: { trustDomain: "cluster.local", roots: [ROOT], revokedSerials: ["0a", "0b", "0c"] },
};

let server: Server;
let url: string;
const requests: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const path = new URL(req.url ?? "/", "http://x");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { kind: "Status", code: 401, reason: "Unauthorized", message: "invalid bearer token" });
    if (path.pathname === "/v1/proxy-status") {
      const ns = path.searchParams.get("namespace");
      return reply(200, { items: STATUS.items.filter((i) => ns === null || i.namespace === ns) });
    }
    if (path.pathname === "/v1/proxies/productpage-v1-abc.bookinfo/config") return reply(200, CONFIG);
    if (path.pathname === "/v1/proxies/empty.bookinfo/config") return reply(200, { ...CONFIG, listeners: [], clusters: [], trust: undefined });
    return reply(404, { kind: "Status", code: 404, reason: "NotFound", message: `proxy "${path.pathname.split("/")[3]}" is not registered (or its registration expired)` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function weft(argv: string[]) {
  return runCli([...argv, "--server", url, "--token", TOKEN], { now: NOW });
}

function lines(text: string): string[] {
  return text.trimEnd().split("\n");
}

describe("weft proxy-status", () => {
  it("prints every proxy as a kubectl-style table: status, short version, last seen, NACK reason", async () => {
    const run = await weft(["proxy-status"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      "NAME                          NAMESPACE      KIND      STATUS     VERSION        LAST SEEN   REASON",
      "productpage-v1-abc.bookinfo   bookinfo       sidecar   SYNCED     a1b2c3d4e5f6   10s",
      `reviews-v2-xyz.bookinfo       bookinfo       sidecar   STALE      ffeeddccbbaa   5m          NACK of ${V2}: route reviews: unknown cluster`,
      "ingress-1.istio-system        istio-system   gateway   NOT SENT   a1b2c3d4e5f6   3h",
    ]);
    expect(requests.at(-1)).toEqual({ path: "/v1/proxy-status", authorization: `Bearer ${TOKEN}` });
  });

  it("filters by namespace on the server, prints json and yaml as served, and says when there is nothing", async () => {
    const filtered = await weft(["proxy-status", "-n", "istio-system"]);
    expect(lines(filtered.stdout)).toHaveLength(2);
    expect(requests.at(-1)!.path).toBe("/v1/proxy-status?namespace=istio-system");

    const asJson = await weft(["proxy-status", "-o", "json"]);
    expect(JSON.parse(asJson.stdout)).toEqual(STATUS);
    const asYaml = await weft(["proxy-status", "-o", "yaml"]);
    expect(parse(asYaml.stdout)).toEqual(STATUS);

    const none = await weft(["proxy-status", "-n", "nothing-here"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toBe("No proxies found in nothing-here namespace.\n");
  });

  it("refuses a bad output format or an argument before the network", async () => {
    const before = requests.length;
    const bad = await runCli(["proxy-status", "-o", "wide", "--server", "http://127.0.0.1:1", "--token", "t"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unable to match a printer suitable for the output format "wide"');
    const extra = await runCli(["proxy-status", "web-1", "--server", "http://127.0.0.1:1", "--token", "t"]);
    expect(extra.code).toBe(2);
    expect(requests.length).toBe(before);
  });
});

describe("weft proxy-config", () => {
  const ID = "productpage-v1-abc.bookinfo";

  it("routes: listener port, domains, route, match summary and destination", async () => {
    const run = await weft(["proxy-config", "routes", ID]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      "PORT   DOMAINS                                               ROUTE                MATCH                      DESTINATION",
      "9080   reviews.bookinfo.svc.cluster.local, reviews +2 more   jason                /reviews* end-user=jason   reviews.bookinfo.svc.cluster.local:9080/v2",
      "9080   reviews.bookinfo.svc.cluster.local, reviews +2 more   bookinfo/reviews/1   /*                         reviews.bookinfo.svc.cluster.local:9080/v1 80%, reviews.bookinfo.svc.cluster.local:9080/v3 20%",
      "*      legacy.example.com                                    moved                /old                       redirect 301 /new",
    ]);
    expect(requests.at(-1)).toEqual({ path: `/v1/proxies/${ID}/config`, authorization: `Bearer ${TOKEN}` });
  });

  it("clusters: name, endpoint count, load balancer, outlier detection", async () => {
    const run = await weft(["proxy-config", "clusters", ID]);
    expect(lines(run.stdout)).toEqual([
      "NAME                                                  ENDPOINTS   LB              OUTLIER",
      "outbound|9080|v1|reviews.bookinfo.svc.cluster.local   2           LEAST_REQUEST   5xx=5 interval=10s ejection=30s max=10%",
      "outbound|9080|v2|reviews.bookinfo.svc.cluster.local   1           ROUND_ROBIN     -",
    ]);
  });

  it("endpoints: address:port, cluster, labels", async () => {
    const run = await weft(["proxy-config", "endpoints", ID]);
    expect(lines(run.stdout)).toEqual([
      "ENDPOINT         CLUSTER                                               LABELS",
      "10.0.0.7:9080    outbound|9080|v1|reviews.bookinfo.svc.cluster.local   app=reviews,version=v1",
      "10.0.0.8:9080    outbound|9080|v1|reviews.bookinfo.svc.cluster.local   app=reviews,version=v1",
      "[fd00::9]:9080   outbound|9080|v2|reviews.bookinfo.svc.cluster.local   <none>",
    ]);
  });

  it("secrets: trust domain, each root's subject, fingerprint and expiry, and the revoked serial count", async () => {
    const run = await weft(["proxy-config", "secrets", ID]);
    const cert = new X509Certificate(ROOT);
    const fingerprint = cert.fingerprint256.replace(/:/g, "").toLowerCase().slice(0, 16);
    const [header, row, ...rest] = lines(run.stdout);
    expect(rest).toEqual([]);
    expect(header).toMatch(/^TRUST DOMAIN\s+ROOT SUBJECT\s+FINGERPRINT\s+NOT AFTER\s+REVOKED SERIALS$/);
    expect(row!.split(/\s{3,}/)).toEqual(["cluster.local", "O=cluster.local, CN=Weft Root CA", fingerprint, new Date(cert.validTo).toISOString().replace(/\.\d{3}Z$/, "Z"), "3"]);
  });

  it("-o json and -o yaml print that part of the config as served", async () => {
    const routes = await weft(["proxy-config", "routes", ID, "-o", "json"]);
    expect(JSON.parse(routes.stdout)).toEqual(CONFIG.listeners);
    const endpoints = await weft(["proxy-config", "endpoints", ID, "-o", "yaml"]);
    expect(parse(endpoints.stdout)).toEqual([
      { cluster: CONFIG.clusters[0]!.name, address: "10.0.0.7", port: 9080, labels: { app: "reviews", version: "v1" } },
      { cluster: CONFIG.clusters[0]!.name, address: "10.0.0.8", port: 9080, labels: { app: "reviews", version: "v1" } },
      { cluster: CONFIG.clusters[1]!.name, address: "fd00::9", port: 9080, labels: {} },
    ]);
    const secrets = await weft(["proxy-config", "secrets", ID, "-o", "json"]);
    expect(JSON.parse(secrets.stdout)).toEqual(CONFIG.trust);
  });

  it("says when a part is empty, reports the server's 404, and refuses bad command lines", async () => {
    const empty = await weft(["proxy-config", "clusters", "empty.bookinfo"]);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toBe("No clusters in the config of empty.bookinfo.\n");

    const missing = await weft(["proxy-config", "routes", "nobody.bookinfo"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('proxy "nobody.bookinfo" is not registered');

    const offline = ["--server", "http://127.0.0.1:1", "--token", "t"];
    for (const [argv, message] of [
      [["proxy-config"], "name the part of the config to show"],
      [["proxy-config", "listeners", ID], 'unknown part "listeners"'],
      [["proxy-config", "routes"], "a PROXY_ID (NAME.NAMESPACE) is required"],
      [["proxy-config", "routes", ID, "-o", "wide"], 'output format "wide"'],
    ] as const) {
      const run = await runCli([...argv, ...offline]);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });
});
