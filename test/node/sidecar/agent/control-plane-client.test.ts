// The shared control-plane client (edge gateway and sidecar): the requests it sends and how it reads
// the answers: registration by kind, the token read per call, long-poll, the SSE config stream (resumed
// with Last-Event-ID, abortable, also over a real socket with Node's fetch), the CA's routes.
import { createServer, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ControlPlaneError, createControlPlaneClient, type ConfigStreamItem } from "../../../../edge-proxy/hosts/control-plane-client.js";

import { REGISTRATION } from "./support/registration.js";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

function fakeFetch(answer: (seen: Seen, request: Request) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = async (request: Request) => {
    const entry = { method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: request.body ? await request.text() : "" };
    seen.push(entry);
    return answer(entry, request);
  };
  return { fetch, seen };
}

function eventStream(text: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const t of text) controller.enqueue(encoder.encode(t));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
}

describe("registry and config calls", () => {
  it("registers with its kind and reads the token before every call", async () => {
    let n = 0;
    const { fetch, seen } = fakeFetch(() => new Response("{}", { status: 201 }));
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test///", token: () => `tok-${++n}`, registration: REGISTRATION });
    expect(client.proxyId).toBe("reviews-v1-0.shop");
    await client.register();
    await client.register();
    expect(seen.map((s) => [s.method, s.url, s.headers.authorization])).toEqual([
      ["POST", "http://cp.test/v1/registry/workloads", "Bearer tok-1"],
      ["POST", "http://cp.test/v1/registry/workloads", "Bearer tok-2"],
    ]);
    expect(JSON.parse(seen[0]!.body)).toEqual(REGISTRATION);
  });

  it("heartbeats and deregisters, telling a gone registration from a failure", async () => {
    const statuses = [200, 404, 500, 200, 404];
    const { fetch, seen } = fakeFetch(() => new Response(JSON.stringify({ kind: "Status", message: "boom (test)" }), { status: statuses.shift()! }));
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    expect(await client.heartbeat()).toBe(true);
    expect(await client.heartbeat()).toBe(false);
    await expect(client.heartbeat()).rejects.toThrow("heartbeat: control plane answered 500: boom (test)");
    expect(await client.deregister()).toBe(true);
    expect(await client.deregister()).toBe(false);
    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      ...Array(3).fill("PUT /v1/registry/workloads/reviews-v1-0.shop/heartbeat"),
      ...Array(2).fill("DELETE /v1/registry/workloads/reviews-v1-0.shop"),
    ]);
  });

  it("long-polls with ?wait= and If-None-Match, and reads 200, 304 and 404", async () => {
    const answers = [
      new Response('{"version":"weft.dev/proxy/v1alpha1"}', { status: 200, headers: { etag: '"abc"' } }),
      new Response(null, { status: 304, headers: { etag: '"abc"' } }),
      new Response("{}", { status: 404 }),
    ];
    const { fetch, seen } = fakeFetch(() => answers.shift()!);
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    expect(await client.fetchConfig(undefined)).toEqual({ kind: "config", body: { version: "weft.dev/proxy/v1alpha1" }, version: "abc" });
    expect(await client.fetchConfig('"abc", "bad"', { waitSeconds: 30 })).toEqual({ kind: "not-modified" });
    expect(await client.fetchConfig('"abc"', { waitSeconds: 600 })).toEqual({ kind: "not-registered" });
    expect(seen.map((s) => s.url)).toEqual([
      "http://cp.test/v1/proxies/reviews-v1-0.shop/config",
      "http://cp.test/v1/proxies/reviews-v1-0.shop/config?wait=30s",
      "http://cp.test/v1/proxies/reviews-v1-0.shop/config?wait=60s",
    ]);
    expect(seen[1]!.headers["if-none-match"]).toBe('"abc", "bad"');
    expect(seen[0]!.headers["if-none-match"]).toBeUndefined();
  });

  it("ACKs and NACKs", async () => {
    const { fetch, seen } = fakeFetch(() => new Response("{}", { status: 200 }));
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    await client.ack("v1");
    await client.nack("v2", "cannot compile");
    expect(seen.map((s) => JSON.parse(s.body))).toEqual([{ version: "v1", applied: true }, { version: "v2", error: "cannot compile" }]);
  });
});

describe("the config stream", () => {
  it("sends Last-Event-ID and yields configs by id, malformed data, and liveness", async () => {
    const { fetch, seen } = fakeFetch(() =>
      eventStream(["retry: 1000\n: weft config stream\n\n", 'event: config\nid: v2\ndata: {"n":', "2}\n\n: heartbeat\n\nevent: config\nid: v3\ndata: {nope\n\n"]),
    );
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    const opened = await client.openConfigStream({ lastEventId: "v1" });
    expect(opened.kind).toBe("stream");
    const items: ConfigStreamItem[] = [];
    if (opened.kind === "stream") for await (const item of opened.items) items.push(item);
    expect(items.slice(0, 3)).toEqual([{ kind: "heartbeat" }, { kind: "config", body: { n: 2 }, version: "v2" }, { kind: "heartbeat" }]);
    expect(items[3]).toMatchObject({ kind: "malformed", version: "v3", error: expect.stringContaining("not JSON") });
    expect(seen[0]!.url).toBe("http://cp.test/v1/proxies/reviews-v1-0.shop/config/stream");
    expect(seen[0]!.headers["last-event-id"]).toBe("v1");
    expect(seen[0]!.headers.accept).toBe("text/event-stream");
  });

  it("is not-registered on 404, and an error on other statuses or a body that is not an event stream", async () => {
    const answers = [
      new Response("{}", { status: 404 }),
      new Response(JSON.stringify({ kind: "Status", message: "ConfigHub unavailable (test)" }), { status: 503 }),
      new Response("<html>", { status: 200, headers: { "content-type": "text/html" } }),
    ];
    const { fetch } = fakeFetch(() => answers.shift()!);
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    expect(await client.openConfigStream()).toEqual({ kind: "not-registered" });
    await expect(client.openConfigStream()).rejects.toThrow("open config stream: control plane answered 503: ConfigHub unavailable (test)");
    const error = await client.openConfigStream().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect(String(error)).toContain('not an event stream (content-type "text/html")');
  });

  describe("over a real socket with Node's fetch", () => {
    let close: (() => void) | undefined;
    afterEach(async () => close?.());

    it("delivers events as they are written, and stops when aborted", async () => {
      let response: ServerResponse | undefined;
      let lastEventId: string | undefined;
      let markGone: () => void = () => undefined;
      const clientGone = new Promise<void>((resolve) => (markGone = resolve));
      const server = createServer((req, res) => {
        lastEventId = req.headers["last-event-id"] as string | undefined;
        response = res;
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(": weft config stream\n\n");
        res.on("close", markGone);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      close = () => {
        server.closeAllConnections();
        server.close();
      };
      const { port } = server.address() as { port: number };
      const client = createControlPlaneClient({ fetch: (r) => fetch(r), baseUrl: `http://127.0.0.1:${port}`, token: "t", registration: REGISTRATION });
      const controller = new AbortController();
      const opened = await client.openConfigStream({ lastEventId: "v7", signal: controller.signal });
      if (opened.kind !== "stream") throw new Error("expected a stream");
      const iterator = opened.items[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toEqual({ kind: "heartbeat" });
      response!.write('event: config\nid: v8\ndata: {"n":8}\n\n');
      expect((await iterator.next()).value).toEqual({ kind: "config", body: { n: 8 }, version: "v8" });
      expect(lastEventId).toBe("v7");
      const pending = iterator.next();
      controller.abort();
      await expect(pending).rejects.toThrow(/abort/i);
      await clientGone;
    });
  });
});

describe("the CA's routes", () => {
  it("posts the CSR with the ttl and splits the trust bundle", async () => {
    const root = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    const { fetch, seen } = fakeFetch((s) =>
      s.url.endsWith("/v1/ca/roots")
        ? new Response(`${root}\n${root.replace("AAAA", "BBBB")}\n`)
        : new Response(JSON.stringify({ certChain: ["leaf", "root"], serial: "ab", expiresAt: "2030-01-01T00:00:00Z" }), { status: 201 }),
    );
    const client = createControlPlaneClient({ fetch, baseUrl: "http://cp.test", token: "t", registration: REGISTRATION });
    expect(await client.requestCertificate("CSR", { ttl: "1h" })).toEqual({ certChain: ["leaf", "root"], serial: "ab", expiresAt: "2030-01-01T00:00:00Z" });
    expect(JSON.parse(seen[0]!.body)).toEqual({ csr: "CSR", ttl: "1h" });
    expect(await client.fetchRoots()).toEqual([`${root}\n`, `${root.replace("AAAA", "BBBB")}\n`]);
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });
});
