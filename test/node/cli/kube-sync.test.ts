// `weft kube-sync` against a tiny fake Kubernetes API server (node:http on 127.0.0.1, reached through a
// kubeconfig with a bearer token, read by @kubernetes/client-node) and a fake control plane that
// captures the PUT: what is listed (every page), what is stripped, what is sent, and the summary line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./run-cli.js";

const KUBE_TOKEN = "kube-test-token";
const WEFT_TOKEN = "weft-admin-token";

const managedFields = [{ manager: "kubectl", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": {} } }];

function service(namespace: string, name: string, port: number) {
  return {
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      resourceVersion: "100",
      creationTimestamp: "2026-01-02T03:04:05Z",
      labels: { app: name },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{\"big\":true}", team: "shop" },
      managedFields,
    },
    spec: { clusterIP: "10.96.0.10", ports: [{ name: "http", port, protocol: "TCP", targetPort: 9080 }], selector: { app: name }, type: "ClusterIP" },
    status: { loadBalancer: {} },
  };
}

const SLICE = {
  metadata: { name: "reviews-abc12", namespace: "shop", labels: { "kubernetes.io/service-name": "reviews" }, managedFields },
  addressType: "IPv4",
  endpoints: [{ addresses: ["10.244.0.7"], conditions: { ready: true }, nodeName: "node-1", targetRef: { kind: "Pod", name: "reviews-v1-0", namespace: "shop" } }],
  ports: [{ name: "http", port: 9080, protocol: "TCP" }],
};

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

let kube: { server: Server; url: string };
let weft: { server: Server; url: string };
const kubeRequests: Recorded[] = [];
const weftRequests: Recorded[] = [];
let forbidSlices = false;

beforeAll(async () => {
  kube = await listen((req, body, res) => {
    kubeRequests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Bearer ${KUBE_TOKEN}`) return sendJson(res, 401, { kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", code: 401 });
    const url = new URL(req.url!, "http://kube");
    if (url.pathname === "/api/v1/services") {
      // Two pages: the client must follow `continue`.
      if (url.searchParams.get("continue") === "page-2") {
        return sendJson(res, 200, { kind: "ServiceList", apiVersion: "v1", metadata: { resourceVersion: "200" }, items: [service("shop", "reviews", 9080)] });
      }
      return sendJson(res, 200, { kind: "ServiceList", apiVersion: "v1", metadata: { resourceVersion: "200", continue: "page-2" }, items: [service("default", "kubernetes", 443)] });
    }
    if (url.pathname === "/apis/discovery.k8s.io/v1/endpointslices") {
      if (forbidSlices) {
        return sendJson(res, 403, {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Forbidden",
          code: 403,
          message: 'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:weft:sync" cannot list resource "endpointslices"',
        });
      }
      return sendJson(res, 200, { kind: "EndpointSliceList", apiVersion: "discovery.k8s.io/v1", metadata: { resourceVersion: "200" }, items: [SLICE] });
    }
    sendJson(res, 404, { kind: "Status", status: "Failure", message: "not found", code: 404 });
  });
  weft = await listen((req, body, res) => {
    weftRequests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
    const sent = JSON.parse(body) as { services: unknown[]; endpointSlices: unknown[] };
    const cluster = decodeURIComponent(req.url!.split("/").pop()!);
    sendJson(res, 200, {
      cluster,
      services: sent.services.length,
      endpointSlices: sent.endpointSlices.length,
      added: sent.services.length + sent.endpointSlices.length,
      updated: 0,
      removed: 0,
      unchanged: 0,
      changed: true,
      registryRevision: 7,
    });
  });
});

afterAll(async () => {
  await new Promise((done) => kube.server.close(done));
  await new Promise((done) => weft.server.close(done));
});

afterEach(() => {
  kubeRequests.length = 0;
  weftRequests.length = 0;
  forbidSlices = false;
});

function kubeconfig(clusterName = "kind-test", contexts: string[] = ["test"]): string {
  const dir = tempDir("weft-kube-sync-");
  const path = join(dir, "config");
  const yaml = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${JSON.stringify(clusterName)}`,
    "  cluster:",
    `    server: ${kube.url}`,
    // @kubernetes/client-node refuses plain http unless TLS verification is off for the cluster.
    "    insecure-skip-tls-verify: true",
    "contexts:",
    ...contexts.flatMap((name) => [`- name: ${name}`, "  context:", `    cluster: ${JSON.stringify(clusterName)}`, "    user: sync"]),
    `current-context: ${contexts[0]}`,
    "users:",
    "- name: sync",
    "  user:",
    `    token: ${KUBE_TOKEN}`,
    "",
  ].join("\n");
  writeFileSync(path, yaml);
  return path;
}

const weftFlags = () => ["--server", weft.url, "--token", WEFT_TOKEN];

describe("weft kube-sync --once", () => {
  it("lists every Service (following continue) and EndpointSlice with the kubeconfig's token and PUTs them, stripped", async () => {
    const run = await runCli(["kube-sync", "--kubeconfig", kubeconfig(), "--once", ...weftFlags()]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('cluster "kind-test": 2 services, 1 endpoint slices; 3 added, 0 updated, 0 removed (registry revision 7)\n');

    const paths = kubeRequests.map((r) => r.url).sort();
    expect(paths).toEqual(["/api/v1/services?continue=page-2&limit=500", "/api/v1/services?limit=500", "/apis/discovery.k8s.io/v1/endpointslices?limit=500"]);
    expect(kubeRequests.every((r) => r.method === "GET" && r.authorization === `Bearer ${KUBE_TOKEN}`)).toBe(true);

    expect(weftRequests).toHaveLength(1);
    const [put] = weftRequests;
    expect(put!.method).toBe("PUT");
    expect(put!.url).toBe("/v1/registry/kubernetes/kind-test");
    expect(put!.authorization).toBe(`Bearer ${WEFT_TOKEN}`);
    const sent = JSON.parse(put!.body);
    expect(sent.services.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(["default/kubernetes", "shop/reviews"]);
    const reviews = sent.services[1];
    expect(reviews).toMatchObject({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "reviews", namespace: "shop", uid: "uid-reviews", resourceVersion: "100", labels: { app: "reviews" }, annotations: { team: "shop" } },
      spec: { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 9080, protocol: "TCP", targetPort: 9080 }], selector: { app: "reviews" }, type: "ClusterIP" },
    });
    expect(Date.parse(reviews.metadata.creationTimestamp)).toBe(Date.parse("2026-01-02T03:04:05Z"));
    expect(reviews.metadata.managedFields).toBeUndefined();
    expect(reviews.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toBeUndefined();
    expect(sent.endpointSlices).toEqual([
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: "reviews-abc12", namespace: "shop", labels: { "kubernetes.io/service-name": "reviews" } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.244.0.7"], conditions: { ready: true }, nodeName: "node-1", targetRef: { kind: "Pod", name: "reviews-v1-0", namespace: "shop" } }],
        ports: [{ name: "http", port: 9080, protocol: "TCP" }],
      },
    ]);
  });

  it("takes --context and --cluster-name; a kubeconfig cluster name is otherwise made a DNS name", async () => {
    const path = kubeconfig("gke_my-project_europe-west1_Prod", ["first", "second"]);
    const named = await runCli(["kube-sync", "--kubeconfig", path, "--context", "second", "--cluster-name", "prod-eu", "--once", ...weftFlags()]);
    expect(named.code).toBe(0);
    expect(weftRequests.pop()!.url).toBe("/v1/registry/kubernetes/prod-eu");
    const derived = await runCli(["kube-sync", "--kubeconfig", path, "--once", ...weftFlags()]);
    expect(derived.code).toBe(0);
    expect(weftRequests.pop()!.url).toBe("/v1/registry/kubernetes/gke-my-project-europe-west1-prod");
  });

  it("reads the control plane URL and token from WEFT_URL/WEFT_TOKEN and the kubeconfig from KUBECONFIG", async () => {
    const run = await runCli(["kube-sync", "--once"], { env: { WEFT_URL: weft.url, WEFT_TOKEN: "from-env", KUBECONFIG: kubeconfig() } });
    expect(run.code).toBe(0);
    expect(weftRequests[0]!.authorization).toBe("Bearer from-env");
  });

  it("a Kubernetes refusal exits 1 naming the list and the API's message; nothing is sent", async () => {
    forbidSlices = true;
    const run = await runCli(["kube-sync", "--kubeconfig", kubeconfig(), "--once", ...weftFlags()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("the Kubernetes API refused to list endpointslices (HTTP 403)");
    expect(run.stderr).toContain('cannot list resource "endpointslices"');
    expect(weftRequests).toEqual([]);
  });
});

describe("weft kube-sync: command-line checks (exit 2, before any I/O)", () => {
  it("refuses --once with --interval, a bad interval, no kubeconfig and an unknown context", async () => {
    const path = kubeconfig();
    expect(await runCli(["kube-sync", "--kubeconfig", path, "--once", "--interval", "5s", ...weftFlags()])).toMatchObject({ code: 2, stderr: expect.stringContaining("--once and --interval exclude each other") });
    expect(await runCli(["kube-sync", "--kubeconfig", path, "--interval", "soon", ...weftFlags()])).toMatchObject({ code: 2, stderr: expect.stringContaining('--interval "soon" must be a duration') });
    expect(await runCli(["kube-sync", "--once", ...weftFlags()])).toMatchObject({ code: 2, stderr: expect.stringContaining("a kubeconfig is required") });
    expect(await runCli(["kube-sync", "--kubeconfig", path, "--context", "nope", "--once", ...weftFlags()])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('the kubeconfig has no context "nope"; it has: test'),
    });
    expect(await runCli(["kube-sync", "--kubeconfig", path, "--cluster-name", "Bad_Name", "--once", ...weftFlags()])).toMatchObject({ code: 2, stderr: expect.stringContaining("--cluster-name") });
    expect(kubeRequests).toEqual([]);
    expect(weftRequests).toEqual([]);
  });

  it("a missing kubeconfig file exits 1 naming it", async () => {
    const run = await runCli(["kube-sync", "--kubeconfig", "/nonexistent/kubeconfig", "--once", ...weftFlags()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot read the kubeconfig /nonexistent/kubeconfig");
  });

  it("is listed in help with its flags", async () => {
    expect((await runCli(["help"])).stdout).toContain("kube-sync");
    const page = await runCli(["help", "kube-sync"]);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain("weft kube-sync --kubeconfig PATH [--context C] [--cluster-name NAME] [--once | --interval 10s]");
  });
});
