// The capture listeners' HTTP/1.1 fast path (fast-http, raw-upstreams, the core's planOutbound /
// planInbound) on loopback with real sockets, next to the same listeners with `fastPath: false`
// (node:http and the web pipeline): the same requests must give the same answers and the same Istio
// metrics. Covers what the plan serves (headers the upstream sees, route header operations,
// x-envoy-upstream-service-time), keep-alive upstream reuse, pipelining, falling back to node:http in the
// middle of a connection, routes the core does not plan (fault, CORS), upstream response framings
// (chunked, close-delimited, HEAD, 204, 304, 1 MiB with backpressure), retries and per-try timeouts,
// connect failures (UF), stale pooled connections, client disconnects (DC), inbound mutual TLS (XFCC) and
// draining.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROXY_CONFIG_VERSION, type Cluster, type ProxyConfig, type Route } from "../../../../edge-proxy/core/config/proxy-config.js";
import { createMeshPki, type MeshPki } from "./support/mesh-pki.js";
import { clientConfig, eventually, httpRequest, patternBytes, serverConfig, startHttpApp, type App } from "./support/sidecar-harness.js";
import { closedPort, countedMetrics, echoJson, RawClient, significant, sleep, startFastSidecar, startRawUpstream, startUpstream, type ClientResponse, type FastSidecar, type Upstream } from "./support/fast-path-sidecar.js";

const SVC = (name: string) => `${name}.default.svc.cluster.local`;
const CLUSTER = (name: string) => `outbound|80||${SVC(name)}`;
/** Headers whose values differ per request (trace ids): compared by presence only. */
const TRACE = ["traceparent", "tracestate", "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "b3"];
const MIB = 1024 * 1024;

let echo: Upstream;
let retry: Upstream;
let perTry: Upstream;
let slowUp: Upstream;
let framing: Upstream;
let stale: Upstream;
let idleClose: Upstream;
let downPort: number;
let fast: FastSidecar;
let slow: FastSidecar;

const sidecars = () => [fast, slow] as const;

function cluster(name: string, port: number): Cluster {
  return { name: CLUSTER(name), host: SVC(name), port: 80, endpoints: [{ address: "127.0.0.1", port, labels: { app: name, version: "v1" } }], policy: { loadBalancer: { kind: "ROUND_ROBIN" } } };
}

function routeTo(name: string, extra: Partial<Route> = {}): Route {
  return { name, match: [], action: { kind: "route", destinations: [{ cluster: CLUSTER(name), weight: 100 }] }, ...extra };
}

function config(): ProxyConfig {
  const services: [string, number, Partial<Route>][] = [
    [
      "echo",
      echo.port,
      {
        headers: {
          request: { set: { "x-route": "echo" }, add: { "x-added": "1" }, remove: ["x-remove-me"] },
          response: { set: { "x-resp": "yes" }, remove: ["x-upstream-secret"] },
        },
      },
    ],
    // Istio's default retry policy.
    ["retry", retry.port, { retries: { attempts: 2, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes", "503"] } }],
    ["pertry", perTry.port, { retries: { attempts: 2, perTryTimeoutMs: 150, retryOn: ["5xx"] } }],
    ["slow", slowUp.port, {}],
    ["framing", framing.port, {}],
    ["stale", stale.port, {}],
    ["idleclose", idleClose.port, {}],
    ["down", downPort, {}],
    ["fault", echo.port, { fault: { abort: { httpStatus: 418, percentage: 100 } } }],
    ["cors", echo.port, { cors: { allowOrigins: [{ exact: "https://app.example" }], allowMethods: ["GET", "POST"], allowHeaders: ["x-custom"], maxAgeSeconds: 60 } }],
  ];
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "client", version: "v1" }, gateways: ["mesh"], serviceAccount: "client" },
    listeners: [{ port: 80, virtualHosts: services.map(([name, , extra]) => ({ name: `default/${name}`, domains: [SVC(name), name], routes: [routeTo(name, extra)] })) }],
    clusters: services.map(([name, port]) => cluster(name, port)),
  };
}

async function startPair(): Promise<[FastSidecar, FastSidecar]> {
  const pair = await Promise.all([startFastSidecar({ config: config(), fastPath: true }), startFastSidecar({ config: config(), fastPath: false })]);
  // The application called a Service's cluster IP; iptables sent it to the outbound listener.
  for (const sidecar of pair) sidecar.destination.outbound = { address: "10.96.0.10", port: 80 };
  return pair;
}

const get = (path: string, host: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
const post = (path: string, host: string, body: string, extra = "") => `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const json = (response: ClientResponse) => JSON.parse(response.body.toString()) as { method: string; url: string; headers: Record<string, string>; body: string };

/** One request on a new connection of each sidecar; both responses. */
async function onBoth(text: string, method = "GET"): Promise<[ClientResponse, ClientResponse]> {
  const out: ClientResponse[] = [];
  for (const sidecar of sidecars()) {
    const client = await RawClient.connect(sidecar.ports.outbound);
    try {
      out.push(await client.request(text, method));
    } finally {
      client.close();
    }
  }
  return out as [ClientResponse, ClientResponse];
}

/** Status, body and significant headers of the two paths' answers are the same. */
function expectSameAnswer([a, b]: [ClientResponse, ClientResponse], ignore: string[] = []): void {
  expect(a.status).toBe(b.status);
  expect(a.body.toString("latin1")).toBe(b.body.toString("latin1"));
  expect(significant(a.headers, ignore)).toEqual(significant(b.headers, ignore));
}

/** Two answers of the echo upstream: same status and significant headers, and the upstream saw the same request. */
function expectSameEcho([a, b]: [ClientResponse, ClientResponse]): void {
  expect(a.status).toBe(b.status);
  expect(upstreamView(a)).toEqual(upstreamView(b));
  expect(significant(a.headers, ["content-length"])).toEqual(significant(b.headers, ["content-length"]));
}

/** What an echoed request looked like upstream, trace ids reduced to their presence. */
function upstreamView(response: ClientResponse): { method: string; url: string; body: string; headers: Record<string, string> } {
  const seen = json(response);
  const headers = significant(seen.headers, TRACE); // connection / content-length framing left out
  for (const name of TRACE) if (seen.headers[name] !== undefined) headers[name] = "<present>";
  return { method: seen.method, url: seen.url, body: seen.body, headers };
}

beforeAll(async () => {
  echo = await startUpstream((request, response) => {
    if (request.url.startsWith("/fixed")) {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "10", "x-upstream-secret": "s" });
      response.end("fixed body");
      return;
    }
    if (request.url.startsWith("/status/")) {
      const status = Number(request.url.slice(8));
      response.writeHead(status, { "content-type": "text/plain", "content-length": "6", "x-upstream-secret": "s" });
      response.end("status");
      return;
    }
    echoJson(request, response, { "x-upstream-secret": "hidden", "x-app": "echo" });
  });
  // 503 the first time a key is seen, then 200.
  const retryKeys = new Set<string>();
  retry = await startUpstream((request, response) => {
    const key = String(request.headers["x-key"]);
    if (!retryKeys.has(key)) {
      retryKeys.add(key);
      response.writeHead(503, { "content-type": "text/plain", "content-length": "5" });
      response.end("first");
      return;
    }
    if (request.url.startsWith("/fixed")) {
      response.writeHead(200, { "content-type": "text/plain", "content-length": "5" });
      response.end("fixed");
      return;
    }
    echoJson(request, response);
  });
  // Slow (1 s) the first time a key is seen, then at once.
  const perTryKeys = new Set<string>();
  perTry = await startUpstream((request, response) => {
    const key = String(request.headers["x-key"]);
    const first = !perTryKeys.has(key);
    perTryKeys.add(key);
    if (first) setTimeout(() => response.destroyed || echoJson(request, response), 1000);
    else echoJson(request, response);
  });
  slowUp = await startUpstream((request, response) => {
    const ms = Number(new URL(request.url, "http://x").searchParams.get("ms") ?? "0");
    setTimeout(() => response.destroyed || echoJson(request, response), ms);
  });
  const big = patternBytes(MIB);
  framing = await startRawUpstream((socket, head) => {
    const path = head.split(" ")[1] ?? "";
    switch (path) {
      case "/chunked":
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nx-kind: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
        return;
      case "/close10":
        socket.end("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\nx-kind: close10\r\n\r\nbody delimited by the close of an HTTP/1.0 upstream");
        return;
      case "/close11":
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\nx-kind: close11\r\n\r\nfirst part, ");
        setTimeout(() => socket.end("second part"), 30);
        return;
      case "/head":
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 42\r\nx-kind: head\r\n\r\n");
        return;
      case "/204":
        socket.write("HTTP/1.1 204 No Content\r\nx-kind: 204\r\n\r\n");
        return;
      case "/304":
        socket.write('HTTP/1.1 304 Not Modified\r\netag: "v1"\r\nx-kind: 304\r\n\r\n');
        return;
      case "/big":
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${big.length}\r\n\r\n`);
        socket.write(big);
        return;
      default:
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nx-kind: plain\r\n\r\nok");
    }
  });
  // Answers the first request of each connection; closes the connection on the second without a word
  // (the close crossing a request the proxy wrote onto a pooled connection).
  stale = await startRawUpstream((socket, head, index) => {
    if (index > 0) return void socket.destroy();
    const path = head.split(" ")[1] ?? "";
    const body = `fresh ${path}`;
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  });
  // Closes idle keep-alive connections after 100 ms.
  idleClose = await startUpstream((request, response) => echoJson(request, response), { keepAliveTimeout: 100 });
  downPort = await closedPort();
  [fast, slow] = await startPair();
});

afterAll(async () => {
  fast?.close();
  slow?.close();
  await Promise.all([echo, retry, perTry, slowUp, framing, stale, idleClose].map((u) => u?.close()));
});

beforeEach(() => {
  fast.reset();
  slow.reset();
});

describe("fast path: requests the core plans", () => {
  it("serves a GET and a POST to a routed service by the plan, as the web pipeline would", async () => {
    const requests = [get("/hello?x=1", SVC("echo"), "User-Agent: weft-test\r\nX-Remove-Me: gone\r\n"), post("/submit", SVC("echo"), "hello body", "Content-Type: text/plain\r\n")];
    for (const text of requests) {
      const answers = await onBoth(text, "GET");
      const [viaFast, viaWeb] = answers;
      expect(viaFast.status).toBe(200);
      // Route response operations and the upstream service time.
      expect(viaFast.headers["x-resp"]).toBe("yes");
      expect(viaFast.headers["x-upstream-secret"]).toBeUndefined();
      expect(viaFast.headers["x-app"]).toBe("echo");
      expect(viaFast.headers["x-envoy-upstream-service-time"]).toMatch(/^\d+$/);
      expect(viaWeb.headers["x-envoy-upstream-service-time"]).toMatch(/^\d+$/);
      // What the upstream saw.
      const seen = json(viaFast);
      expect(seen.headers.host).toBe(SVC("echo"));
      expect(seen.headers["x-forwarded-proto"]).toBe("http");
      expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(seen.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen.headers["x-route"]).toBe("echo");
      expect(seen.headers["x-added"]).toBe("1");
      expect(seen.headers["x-remove-me"]).toBeUndefined();
      expectSameEcho([viaFast, viaWeb]);
    }
    const [getSeen, postSeen] = echo.requests.filter((r) => r.url === "/hello?x=1" || r.url === "/submit").filter((_, i) => i % 2 === 0);
    expect(getSeen).toMatchObject({ method: "GET", url: "/hello?x=1" });
    expect(postSeen).toMatchObject({ method: "POST", url: "/submit" });
    expect(postSeen?.body.toString()).toBe("hello body");
    expect(postSeen?.headers["content-length"]).toBe("10");
    expect(fast.served).toMatchObject({ plannedOutbound: 2, unplannedOutbound: 0, outbound: 0 });
    expect(slow.served).toMatchObject({ plannedOutbound: 0, outbound: 2 });
    expect(fast.records.map((r) => [r.method, r.responseCode, r.requestBytes, r.responseFlags])).toEqual(slow.records.map((r) => [r.method, r.responseCode, r.requestBytes, r.responseFlags]));
  });

  it("keeps the client connection alive and reuses one upstream connection for its requests", async () => {
    const client = await RawClient.connect(fast.ports.outbound);
    const before = echo.requests.length;
    try {
      for (let i = 0; i < 5; i++) {
        const response = await client.request(get(`/keep/${i}`, SVC("echo")));
        expect(response.status).toBe(200);
        expect(json(response).url).toBe(`/keep/${i}`);
      }
    } finally {
      client.close();
    }
    const seen = echo.requests.slice(before);
    expect(seen.map((r) => r.url)).toEqual([0, 1, 2, 3, 4].map((i) => `/keep/${i}`));
    expect(new Set(seen.map((r) => r.connection)).size).toBe(1);
    expect(fast.served.plannedOutbound).toBe(5);
    expect(fast.listeners.connections()).toBeLessThanOrEqual(1);
  });

  it("answers pipelined requests (one write) in order", async () => {
    const text = get("/pipe/1", SVC("echo")) + post("/pipe/2", SVC("echo"), "second") + get("/pipe/3", SVC("echo"));
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        client.write(text);
        const responses = [await client.read(), await client.read(), await client.read()];
        expect(responses.map((r) => r.status), String(sidecar.fastPath)).toEqual([200, 200, 200]);
        expect(responses.map((r) => json(r).url)).toEqual(["/pipe/1", "/pipe/2", "/pipe/3"]);
        expect(json(responses[1]!).body).toBe("second");
      } finally {
        client.close();
      }
    }
    expect(fast.served).toMatchObject({ plannedOutbound: 3, outbound: 0 });
  });

  it("hands the rest of a connection to node:http at a chunked request body, answering all three requests", async () => {
    const results: ClientResponse[][] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        const first = await client.request(get("/mixed/1", SVC("echo")));
        const second = await client.request(`POST /mixed/2 HTTP/1.1\r\nHost: ${SVC("echo")}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`);
        const third = await client.request(get("/mixed/3", SVC("echo")));
        results.push([first, second, third]);
      } finally {
        client.close();
      }
    }
    for (const responses of results) {
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(responses.map((r) => json(r).url)).toEqual(["/mixed/1", "/mixed/2", "/mixed/3"]);
      expect(json(responses[1]!).body).toBe("hello world");
      expect(json(responses[1]!).method).toBe("POST");
    }
    // The fast GET by the plan; the chunked POST and what followed by node:http and the web pipeline.
    expect(fast.served).toMatchObject({ plannedOutbound: 1, outbound: 2 });
    for (let i = 0; i < 3; i++) expectSameEcho([results[0]![i]!, results[1]![i]!]);
  });
  it("hands over in the middle of a pipelined write: a fast GET, a chunked POST and a GET in one write, answered in order", async () => {
    const text = get("/pipe-mixed/1", SVC("echo")) + `POST /pipe-mixed/2 HTTP/1.1\r\nHost: ${SVC("echo")}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` + get("/pipe-mixed/3", SVC("echo"));
    const client = await RawClient.connect(fast.ports.outbound);
    try {
      client.write(text);
      const responses = [await client.read(), await client.read(), await client.read()];
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(responses.map((r) => json(r).url)).toEqual(["/pipe-mixed/1", "/pipe-mixed/2", "/pipe-mixed/3"]);
      expect(json(responses[1]!).body).toBe("abc");
    } finally {
      client.close();
    }
    expect(fast.served).toMatchObject({ plannedOutbound: 1, outbound: 2 });
  });
});

describe("fast path: what the core does not plan", () => {
  it("a fault abort route answers as the web pipeline does", async () => {
    const answers = await onBoth(get("/faulty", SVC("fault")));
    expect(answers[0].status).toBe(418);
    expect(answers[0].body.toString()).toBe("fault filter abort");
    expectSameAnswer(answers);
    expect(fast.served).toMatchObject({ plannedOutbound: 0, unplannedOutbound: 1, outbound: 1 });
    expect(fast.records[0]?.responseFlags).toEqual(["FI"]);
    expect(fast.records[0]?.responseFlags).toEqual(slow.records[0]?.responseFlags);
  });

  it("a CORS preflight answers as the web pipeline does, and the next request on the connection still works", async () => {
    const preflight = `OPTIONS /api HTTP/1.1\r\nHost: ${SVC("cors")}\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-custom\r\n\r\n`;
    const results: ClientResponse[][] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        const answer = await client.request(preflight, "OPTIONS");
        const after = await client.request(get("/api", SVC("cors"), "Origin: https://app.example\r\n"));
        results.push([answer, after]);
      } finally {
        client.close();
      }
    }
    const [answer, after] = results[0]!;
    expect(answer!.status).toBe(200);
    expect(answer!.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(after!.status).toBe(200);
    expect(after!.headers["access-control-allow-origin"]).toBe("https://app.example");
    expectSameAnswer([results[0]![0]!, results[1]![0]!]);
    expectSameEcho([results[0]![1]!, results[1]![1]!]);
    expect(fast.served.plannedOutbound).toBe(0);
    expect(fast.served.outbound).toBe(2);
  });
});

describe("fast path: upstream response framings", () => {
  it("passes a chunked body through intact", async () => {
    const answers = await onBoth(get("/chunked", SVC("framing")));
    expect(answers[0].status).toBe(200);
    expect(answers[0].framing).toBe("chunked");
    expect(answers[0].body.toString()).toBe("hello, world");
    expect(answers[0].headers["x-kind"]).toBe("chunked");
    expectSameAnswer(answers);
    expect(fast.served.plannedOutbound).toBe(1);
    // response_bytes: the body's 12 bytes, not the 27 of its chunked framing on the wire.
    await eventually(() => fast.records.length === 1 && slow.records.length === 1, 2000, "records");
    expect(slow.records[0]?.responseBytes).toBe(12);
    expect(fast.records[0]?.responseBytes).toBe(12);
  });

  it("re-frames a close-delimited body (HTTP/1.0 and Connection: close upstreams) as chunked, complete, and keeps the client connection", async () => {
    for (const [path, body] of [
      ["/close10", "body delimited by the close of an HTTP/1.0 upstream"],
      ["/close11", "first part, second part"],
    ] as const) {
      const results: ClientResponse[][] = [];
      for (const sidecar of sidecars()) {
        const client = await RawClient.connect(sidecar.ports.outbound);
        try {
          const response = await client.request(get(path, SVC("framing")));
          const next = await client.request(get("/after", SVC("framing")));
          results.push([response, next]);
        } finally {
          client.close();
        }
      }
      const [response, next] = results[0]!;
      expect(response!.status, path).toBe(200);
      expect(response!.framing, path).toBe("chunked");
      expect(response!.body.toString(), path).toBe(body);
      expect(next!.body.toString(), path).toBe("ok");
      expectSameAnswer([results[0]![0]!, results[1]![0]!]);
    }
    expect(fast.served.plannedOutbound).toBe(4);
    expect(fast.records.map((r) => r.responseBytes)).toEqual(slow.records.map((r) => r.responseBytes));
  });

  it("HEAD, 204 and 304: no body, and the connection carries on", async () => {
    const results: ClientResponse[][] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        const head = await client.request(`HEAD /head HTTP/1.1\r\nHost: ${SVC("framing")}\r\n\r\n`, "HEAD");
        const noContent = await client.request(get("/204", SVC("framing")));
        const notModified = await client.request(get("/304", SVC("framing"), 'If-None-Match: "v1"\r\n'));
        const after = await client.request(get("/after", SVC("framing")));
        results.push([head, noContent, notModified, after]);
      } finally {
        client.close();
      }
    }
    const [head, noContent, notModified, after] = results[0]!;
    expect(head!.status).toBe(200);
    expect(head!.headers["content-length"]).toBe("42");
    expect(noContent!.status).toBe(204);
    expect(noContent!.headers["x-kind"]).toBe("204");
    expect(noContent!.headers["transfer-encoding"]).toBeUndefined();
    expect(notModified!.status).toBe(304);
    expect(notModified!.headers.etag).toBe('"v1"');
    expect(after!.body.toString()).toBe("ok");
    for (let i = 0; i < 4; i++) expectSameAnswer([results[0]![i]!, results[1]![i]!]);
    expect(fast.served.plannedOutbound).toBe(4);
  });

  it("relays a 1 MiB body intact to a client that reads late (backpressure)", async () => {
    const expected = createHash("sha256").update(patternBytes(MIB)).digest("hex");
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        client.socket.pause();
        client.write(get("/big", SVC("framing")));
        await sleep(200);
        client.socket.resume();
        const response = await client.read();
        expect(response.status).toBe(200);
        expect(response.body.length).toBe(MIB);
        expect(createHash("sha256").update(response.body).digest("hex")).toBe(expected);
        expect((await client.request(get("/after", SVC("framing")))).body.toString()).toBe("ok");
      } finally {
        client.close();
      }
    }
    expect(fast.served.plannedOutbound).toBe(2);
    await eventually(() => fast.records.length === 2 && slow.records.length === 2, 2000, "records");
    expect(fast.records[0]?.responseBytes).toBe(MIB);
    expect(slow.records[0]?.responseBytes).toBe(MIB);
  });
});

describe("fast path: retries, timeouts and failures", () => {
  it("retries a 503 under Istio's default retry policy and succeeds on the second attempt", async () => {
    const answers: ClientResponse[] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        answers.push(await client.request(post("/retry", SVC("retry"), "again", `X-Key: ${sidecar.fastPath ? "fast" : "web"}-retry\r\n`)));
      } finally {
        client.close();
      }
    }
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(json(answer).body).toBe("again");
    }
    expect(retry.requests.filter((r) => r.headers["x-key"] === "fast-retry").map((r) => r.body.toString())).toEqual(["again", "again"]);
    expect(fast.records[0]).toMatchObject({ responseCode: 200, retries: 1, responseFlags: [] });
    expect(slow.records[0]).toMatchObject({ responseCode: 200, retries: 1, responseFlags: [] });
    expect(fast.served.plannedOutbound).toBe(1);
  });

  it("gives up an attempt at its per-try timeout and succeeds on the next", async () => {
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        const started = Date.now();
        const response = await client.request(get("/pertry", SVC("pertry"), `X-Key: ${sidecar.fastPath ? "fast" : "web"}-pertry\r\n`));
        expect(response.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(900);
      } finally {
        client.close();
      }
    }
    expect(fast.records[0]).toMatchObject({ responseCode: 200, retries: 1 });
    expect(slow.records[0]).toMatchObject({ responseCode: 200, retries: 1 });
  });

  it("answers 503 'upstream connect error' with flag UF when the endpoint's port is closed", async () => {
    const answers = await onBoth(get("/", SVC("down")));
    expect(answers[0].status).toBe(503);
    expect(answers[0].body.toString()).toMatch(/^upstream connect error/);
    expectSameAnswer(answers);
    expect(fast.records[0]?.responseFlags).toEqual(["UF"]);
    expect(slow.records[0]?.responseFlags).toEqual(["UF"]);
    expect(fast.proxy.metrics.render()).toMatch(/istio_requests_total\{[^}]*response_code="503"[^}]*response_flags="UF"[^}]*\} \d+/);
    expect(fast.served.plannedOutbound).toBe(1);
  });

  it("sends a bodyless GET again on a new connection when the upstream closed an idle pooled one", async () => {
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        expect((await client.request(get("/idle/1", SVC("idleclose")))).status).toBe(200);
        await sleep(300); // the upstream's keep-alive timeout (100 ms) closes the pooled connection
        const again = await client.request(get("/idle/2", SVC("idleclose")));
        expect(again.status, String(sidecar.fastPath)).toBe(200);
        expect(json(again).url).toBe("/idle/2");
      } finally {
        client.close();
      }
    }
    expect(fast.served.plannedOutbound).toBe(2);
  });

  it("sends a bodyless GET again when a pooled connection is closed under the request (stale connection)", async () => {
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        for (const path of ["/stale/1", "/stale/2", "/stale/3"]) {
          const response = await client.request(get(path, SVC("stale")));
          expect(response.status, `${String(sidecar.fastPath)} ${path}`).toBe(200);
          expect(response.body.toString()).toBe(`fresh ${path}`);
        }
      } finally {
        client.close();
      }
    }
    expect(fast.records.map((r) => [r.responseCode, r.responseFlags])).toEqual(slow.records.map((r) => [r.responseCode, r.responseFlags]));
    expect(fast.served.plannedOutbound).toBe(3);
  });

  it("does not send a POST again when its pooled connection is closed under it: 503 on both paths", async () => {
    const answers: ClientResponse[] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        expect((await client.request(get("/stale/warm", SVC("stale")))).status).toBe(200);
        const before = stale.requests.length;
        answers.push(await client.request(post("/stale/post", SVC("stale"), "once")));
        expect(stale.requests.slice(before).filter((r) => r.method === "POST")).toHaveLength(1);
      } finally {
        client.close();
      }
    }
    expect(answers[0]!.status).toBe(503);
    expectSameAnswer([answers[0]!, answers[1]!]);
    expect(fast.records.map((r) => [r.responseCode, r.responseFlags])).toEqual(slow.records.map((r) => [r.responseCode, r.responseFlags]));
  });

  it("a client that leaves (connection reset) while the upstream is slow: the record carries DC, nothing breaks", async () => {
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      client.write(get("/slow?ms=400", SVC("slow")));
      await sleep(100);
      client.socket.resetAndDestroy();
      await eventually(() => sidecar.records.length === 1, 3000, `the record (${sidecar.fastPath ? "fast" : "web"})`);
      // The connection is gone and the sidecar serves the next client.
      await eventually(() => sidecar.listeners.connections() === 0, 2000, "connection gone");
      const next = await RawClient.connect(sidecar.ports.outbound);
      try {
        expect((await next.request(get("/after-dc", SVC("echo")))).status).toBe(200);
      } finally {
        next.close();
      }
    }
    expect(slow.records[0]?.responseFlags).toContain("DC");
    expect(fast.records[0]?.responseFlags).toContain("DC");
    expect(fast.records[0]).toMatchObject({ responseCode: slow.records[0]?.responseCode, responseFlags: slow.records[0]?.responseFlags });
    expect(fast.proxy.metrics.render()).toMatch(/istio_requests_total\{[^}]*response_flags="DC"[^}]*\} 1/);
    expect(fast.logs.filter((l) => l.level === "error")).toEqual([]);
    expect(fast.served.plannedOutbound).toBe(2);
  });

  it("a client that half-closes (FIN) after its request still gets its answer, on both paths alike", async () => {
    const records: [number, string[]][] = [];
    for (const sidecar of sidecars()) {
      const client = await RawClient.connect(sidecar.ports.outbound);
      try {
        client.write(get("/slow?ms=200", SVC("slow")));
        client.socket.end();
        const response = await client.read();
        expect(response.status).toBe(200);
        expect(json(response).url).toBe("/slow?ms=200");
      } finally {
        client.close();
      }
      await eventually(() => sidecar.records.length === 1, 2000, "the record");
      records.push([sidecar.records[0]!.responseCode, sidecar.records[0]!.responseFlags]);
    }
    expect(records[0]).toEqual(records[1]);
  });
});

describe("fast path: Istio metrics", () => {
  it("the same request mix gives the same metrics series and values on both paths", async () => {
    const [fresh, freshWeb] = await startPair();
    try {
      const mix: [string, string][] = [
        [get("/fixed/1", SVC("echo")), "GET"],
        [get("/fixed/2", SVC("echo"), "User-Agent: metrics\r\n"), "GET"],
        [post("/fixed/3", SVC("echo"), "some request body"), "POST"],
        [get("/status/404", SVC("echo")), "GET"],
        [get("/status/500", SVC("echo")), "GET"],
        [get("/chunked", SVC("framing")), "GET"],
        [get("/close10", SVC("framing")), "GET"],
        [`HEAD /head HTTP/1.1\r\nHost: ${SVC("framing")}\r\n\r\n`, "HEAD"],
        [get("/", SVC("down")), "GET"],
        [get("/f", SVC("fault")), "GET"],
      ];
      for (const sidecar of [fresh, freshWeb]) {
        let n = 0;
        for (const [text, method] of [...mix, [get("/fixed/r", SVC("retry"), `X-Key: metrics-${sidecar.fastPath ? "fast" : "web"}\r\n`), "GET"] as [string, string]]) {
          const client = await RawClient.connect(sidecar.ports.outbound);
          try {
            await client.request(text, method);
          } finally {
            client.close();
          }
          n++;
          await eventually(() => sidecar.records.length === n, 2000, `record ${n}`);
        }
      }
      expect(fresh.served.plannedOutbound).toBe(10);
      expect(countedMetrics(fresh.proxy.metrics.render())).toEqual(countedMetrics(freshWeb.proxy.metrics.render()));
    } finally {
      fresh.close();
      freshWeb.close();
    }
  });
});

describe("fast path: inbound over mutual TLS", () => {
  let pki: MeshPki;
  let app: App;
  let server: FastSidecar;
  let client: FastSidecar;

  beforeAll(async () => {
    pki = createMeshPki();
    app = await startHttpApp();
    const trust = pki.trust();
    server = await startFastSidecar({ config: serverConfig(trust, [app.port], "PERMISSIVE"), fastPath: true, certificate: pki.leaf("server"), trust });
    server.destination.inbound = { address: "127.0.0.1", port: app.port };
    client = await startFastSidecar({ config: clientConfig(trust, server.ports.inbound), fastPath: true, certificate: pki.leaf("client"), trust });
    client.destination.outbound = { address: "10.96.0.10", port: 80 };
  });

  beforeEach(() => {
    server.reset();
    client.reset();
  });

  afterAll(async () => {
    client?.close();
    server?.close();
    await app?.close();
    pki?.cleanup();
  });

  it("serves mTLS requests by planInbound; the app sees XFCC with the caller's SPIFFE ID", async () => {
    const response = await httpRequest(client.ports.outbound, "/over-mtls?x=1", { headers: { "x-forwarded-client-cert": "By=forged;URI=spiffe://cluster.local/ns/default/sa/admin" } });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body.toString()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("/over-mtls?x=1");
    // The client sidecar forwards what its app sent; the server appends its verified element.
    expect(seen.headers["x-forwarded-client-cert"]).toMatch(/URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/client$/);
    expect(seen.headers["x-forwarded-client-cert"]).toMatch(/;Hash=[0-9a-f]{64};/);
    expect(client.served).toMatchObject({ plannedOutbound: 1, outbound: 0 });
    expect(server.served).toMatchObject({ plannedInbound: 1, inbound: 0 });
    expect(server.records[0]).toMatchObject({ connectionSecurityPolicy: "mutual_tls", source: { principal: "cluster.local/ns/default/sa/client" } });
  });

  it("removes a forged XFCC from a plain-text client, still by planInbound", async () => {
    const response = await httpRequest(server.ports.inbound, "/plain", { host: "server", headers: { "x-forwarded-client-cert": "By=forged;URI=spiffe://cluster.local/ns/default/sa/admin" } });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body.toString()) as { headers: Record<string, string> };
    expect(seen.headers["x-forwarded-client-cert"]).toBeUndefined();
    expect(server.served).toMatchObject({ plannedInbound: 1, inbound: 0 });
    expect(server.records[0]?.connectionSecurityPolicy).toBe("none");
  });
});

describe("fast path: drain", () => {
  it("closes an idle connection at once; a busy one answers with connection: close, then closes", async () => {
    for (const fastPath of [true]) {
      const drained = await startFastSidecar({ config: config(), fastPath });
      drained.destination.outbound = { address: "10.96.0.10", port: 80 };
      const what = fastPath ? "fast path" : "node:http";
      try {
        const idle = await RawClient.connect(drained.ports.outbound);
        expect((await idle.request(get("/warm", SVC("echo")))).status).toBe(200);
        const busy = await RawClient.connect(drained.ports.outbound);
        const before = slowUp.requests.length;
        busy.write(get("/slow?ms=400", SVC("slow")));
        await eventually(() => slowUp.requests.length === before + 1, 2000, "the slow request upstream");
        const started = Date.now();
        const draining = drained.listeners.drain(3000);
        await idle.closed;
        expect(Date.now() - started, what).toBeLessThan(300);
        const response = await busy.read();
        expect(response.status, what).toBe(200);
        expect(response.headers.connection, what).toBe("close");
        await busy.closed;
        await draining;
        expect(Date.now() - started, what).toBeLessThan(1500);
        expect(drained.listeners.connections(), what).toBe(0);
        expect(drained.served, what).toMatchObject(fastPath ? { plannedOutbound: 2, outbound: 0 } : { plannedOutbound: 0, outbound: 2 });
        idle.close();
        busy.close();
      } finally {
        drained.close();
      }
    }
  });
});
