// Config delivery through the Worker's fetch with real D1 and the real ConfigHub Durable Object:
// ETag / If-None-Match, the long-poll (woken by a change to this proxy's config, not by one it cannot
// see), the SSE push stream and its resumption with Last-Event-ID, ACK/NACK and proxy-status, and
// isolation (a proxy reads only its own config).
import { createExecutionContext, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../workers/control-plane.js";
import { ADMIN, apply, call, json } from "./helpers.js";

interface SendOptions {
  token?: string | null;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Calls the Worker with any headers (the admin token unless `token` is given). */
async function send(method: string, path: string, opts: SendOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? ADMIN() : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`http://weft.test${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, createExecutionContext());
}

async function joinToken(namespace: string, serviceAccount: string): Promise<string> {
  const res = await call("POST", "/v1/join-tokens", { body: { namespace, serviceAccount, ttl: "1h" } });
  expect(res.status).toBe(201);
  return (await json(res)).token;
}

let nextAddress = 10;

/** Registers a sidecar with a join token for its identity; returns its id and credential. */
async function registerProxy(name: string, namespace: string, serviceAccount: string, labels: Record<string, string> = { app: name }): Promise<{ id: string; token: string }> {
  const token = await joinToken(namespace, serviceAccount);
  const address = `10.0.0.${nextAddress++}`;
  const res = await send("POST", "/v1/registry/workloads", {
    token,
    body: { name, namespace, serviceAccount, address, labels, ports: [{ port: 8080, name: "http" }] },
  });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.id).toBe(`${name}.${namespace}`);
  return { id: body.id, token };
}

/** The current config of a proxy and its version (from the ETag). */
async function currentConfig(id: string, token: string): Promise<{ version: string; config: any }> {
  const res = await send("GET", `/v1/proxies/${id}/config`, { token });
  expect(res.status).toBe(200);
  const etag = res.headers.get("etag")!;
  expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
  return { version: etag.slice(1, -1), config: await res.json() };
}

function virtualService(namespace: string, name: string, host: string, subsetPath: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  hosts: [${host}]
  http:
  - match: [{uri: {prefix: ${subsetPath}}}]
    route: [{destination: {host: ${host}, port: {number: 9080}}}]
`;
}

/** A Sidecar limiting a namespace's proxies to their own namespace's hosts. */
function ownNamespaceSidecar(namespace: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: ${namespace}}
spec:
  egress: [{hosts: ["./*"]}]
`;
}

async function applyOk(yaml: string): Promise<void> {
  const res = await apply(yaml);
  expect(res.status, await res.clone().text()).toBe(200);
}

interface SseEvent {
  event: string;
  id: string;
  data: string;
}

/** Reads a push stream event by event; a read that times out leaves its chunk for the next call. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #pending: Promise<ReadableStreamReadResult<string>> | undefined;
  comments: string[] = [];

  constructor(res: Response) {
    this.#reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event, or undefined if none arrives within `timeoutMs` (or the stream ends). */
  async next(timeoutMs: number): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.#take();
      if (event) return event;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      this.#pending ??= this.#reader.read();
      const result = await Promise.race([this.#pending, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), left))]);
      if (result === "timeout") return undefined;
      this.#pending = undefined;
      if (result.done) return undefined;
      this.#buffer += result.value;
    }
  }

  #take(): SseEvent | undefined {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end < 0) return undefined;
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        const colon = line.indexOf(":");
        if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
      }
      if (fields.event !== undefined) return { event: fields.event, id: fields.id ?? "", data: fields.data ?? "" };
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}

async function openStream(id: string, token: string, headers: Record<string, string> = {}, query = ""): Promise<SseReader> {
  const res = await send("GET", `/v1/proxies/${id}/config/stream${query}`, { token, headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return new SseReader(res);
}

beforeEach(async () => {
  // Revisions unique to this test: the isolate's config caches are keyed by them, and every test
  // starts from an empty database.
  const base = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
  await env.DB.batch([
    env.DB.prepare("INSERT INTO mesh_revision (id, revision) VALUES (1, ?)").bind(base),
    env.DB.prepare("INSERT INTO registry_revision (id, revision) VALUES (1, ?)").bind(base),
  ]);
});

describe("GET /v1/proxies/{id}/config", () => {
  it("serves the config with a strong ETag and no-cache; If-None-Match of it is a 304 without a body", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const res = await send("GET", `/v1/proxies/${id}/config`, { token });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const version = res.headers.get("etag")!.slice(1, -1);
    const config = await res.json<any>();
    expect(config.version).toBe("weft.dev/proxy/v1alpha1");
    expect(config.proxy).toMatchObject({ kind: "sidecar", namespace: "shop", serviceAccount: "web" });

    for (const header of [`"${version}"`, `W/"${version}"`, `"other", "${version}"`]) {
      const cached = await send("GET", `/v1/proxies/${id}/config`, { token, headers: { "if-none-match": header } });
      expect(cached.status).toBe(304);
      expect(cached.headers.get("etag")).toBe(`"${version}"`);
      expect(await cached.text()).toBe("");
    }
    const stale = await send("GET", `/v1/proxies/${id}/config`, { token, headers: { "if-none-match": '"0000"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get("etag")).toBe(`"${version}"`);

    // The version is a content hash: a write that changes nothing for the proxy keeps it.
    await applyOk(virtualService("elsewhere", "x", "x.elsewhere.svc.cluster.local", "/").replace("hosts:", "exportTo: ['.']\n  hosts:"));
    expect((await currentConfig(id, token)).version).toBe(version);
  });

  it("refuses a bad wait naming the parameter, and an unknown or unregistered proxy with 404", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    for (const wait of ["soon", "90s", "-1s"]) {
      const res = await send("GET", `/v1/proxies/${id}/config?wait=${wait}`, { token });
      const body = await json(res);
      expect(res.status, wait).toBe(400);
      expect(body.details.causes[0].field).toBe("wait");
    }
    const missing = await send("GET", "/v1/proxies/nobody.shop/config");
    expect(missing.status).toBe(404);
    expect((await json(missing)).details.causes[0].reason).toBe("ProxyNotRegistered");
    expect((await send("GET", `/v1/proxies/${id}/config`, { token: null })).status).toBe(401);
  });

  it("one proxy cannot read, stream or answer for another's config (403); an admin can read it", async () => {
    const web = await registerProxy("web-1", "shop", "web");
    const db = await registerProxy("db-1", "shop", "db");
    for (const [method, path, body] of [
      ["GET", `/v1/proxies/${db.id}/config`, undefined],
      ["GET", `/v1/proxies/${db.id}/config/stream`, undefined],
      ["POST", `/v1/proxies/${db.id}/status`, { version: "abc", applied: true }],
    ] as const) {
      const res = await send(method, path, { token: web.token, body });
      const status = await json(res);
      expect(res.status, path).toBe(403);
      expect(status.reason).toBe("Forbidden");
      expect(status.details.causes[0].reason).toBe("ProxyIdentityMismatch");
      expect(status.message).toContain("shop/web cannot act for proxy \"db-1.shop\"");
    }
    // Same service account, other namespace: still another identity.
    const elsewhere = await joinToken("other", "db");
    expect((await send("GET", `/v1/proxies/${db.id}/config`, { token: elsewhere })).status).toBe(403);
    // A viewer API token is no proxy credential.
    const viewer = await json(await call("POST", "/v1/tokens", { body: { name: "ops", role: "viewer" } }));
    expect((await send("GET", `/v1/proxies/${db.id}/config`, { token: viewer.token })).status).toBe(403);
    expect((await send("GET", `/v1/proxies/${db.id}/config`)).status).toBe(200);
  });
});

describe("long-poll (?wait=)", () => {
  it("wakes well under a second on a change to this proxy's config", async () => {
    await applyOk(ownNamespaceSidecar("shop"));
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const { version } = await currentConfig(id, token);

    const started = Date.now();
    const poll = send("GET", `/v1/proxies/${id}/config?wait=10s`, { token, headers: { "if-none-match": `"${version}"` } });
    await new Promise((r) => setTimeout(r, 100));
    const applied = Date.now();
    await applyOk(virtualService("shop", "reviews", "reviews.shop.svc.cluster.local", "/reviews"));
    const res = await poll;
    const woke = Date.now();
    expect(res.status).toBe(200);
    const next = res.headers.get("etag")!.slice(1, -1);
    expect(next).not.toBe(version);
    expect(woke - applied).toBeLessThan(1000);
    expect(woke - started).toBeLessThan(5000);
    const config = await res.json<any>();
    expect(JSON.stringify(config.listeners)).toContain("reviews.shop.svc.cluster.local");
  });

  it("is not woken by a change it cannot see, and ends with 304 when the wait is over", async () => {
    await applyOk(ownNamespaceSidecar("shop"));
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const { version } = await currentConfig(id, token);

    const started = Date.now();
    let ended: number | undefined;
    const poll = send("GET", `/v1/proxies/${id}/config?wait=1500ms`, { token, headers: { "if-none-match": `"${version}"` } }).then((res) => {
      ended = Date.now();
      return res;
    });
    await new Promise((r) => setTimeout(r, 100));
    // Another namespace's VirtualService: outside this proxy's Sidecar egress hosts.
    await applyOk(virtualService("billing", "ledger", "ledger.billing.svc.cluster.local", "/"));
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toBeUndefined();

    const res = await poll;
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(`"${version}"`);
    expect(ended! - started).toBeGreaterThanOrEqual(1400);
    expect(ended! - started).toBeLessThan(4000);
  });

  it("answers at once when the version held is already old", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const res = await send("GET", `/v1/proxies/${id}/config?wait=30s`, { token, headers: { "if-none-match": '"0123"' } });
    expect(res.status).toBe(200);
  });
});

describe("push stream (SSE)", () => {
  it("sends the current config on connect, then a VirtualService change as it happens", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const { version, config } = await currentConfig(id, token);
    const stream = await openStream(id, token);
    try {
      const first = await stream.next(2000);
      expect(first).toMatchObject({ event: "config", id: version });
      expect(JSON.parse(first!.data)).toEqual(config);

      const applied = Date.now();
      await applyOk(virtualService("shop", "reviews", "reviews.shop.svc.cluster.local", "/reviews"));
      const pushed = await stream.next(2000);
      expect(Date.now() - applied).toBeLessThan(1000);
      expect(pushed?.event).toBe("config");
      expect(pushed!.id).not.toBe(version);
      expect(pushed!.data).toContain("reviews.shop.svc.cluster.local");
      expect(pushed!.id).toBe((await currentConfig(id, token)).version);

      // A change this proxy cannot see is not pushed to it.
      await applyOk(ownNamespaceSidecar("billing"));
      await applyOk(virtualService("billing", "ledger", "ledger.billing.svc.cluster.local", "/").replace("hosts:", "exportTo: ['.']\n  hosts:"));
      expect(await stream.next(400)).toBeUndefined();
    } finally {
      await stream.close();
    }
  });

  it("a client reconnecting with Last-Event-ID equal to the current version gets no duplicate; with an old one, the current config", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const old = (await currentConfig(id, token)).version;
    await applyOk(virtualService("shop", "reviews", "reviews.shop.svc.cluster.local", "/reviews"));
    const current = (await currentConfig(id, token)).version;
    expect(current).not.toBe(old);

    const resumed = await openStream(id, token, { "last-event-id": current });
    try {
      expect(await resumed.next(400)).toBeUndefined();
      await applyOk(virtualService("shop", "ratings", "ratings.shop.svc.cluster.local", "/ratings"));
      const next = await resumed.next(2000);
      expect(next?.id).not.toBe(current);
      expect(next!.data).toContain("ratings.shop.svc.cluster.local");
    } finally {
      await resumed.close();
    }

    const latest = (await currentConfig(id, token)).version;
    for (const [headers, query] of [[{ "last-event-id": old }, ""], [{}, `?version=${old}`]] as const) {
      const behind = await openStream(id, token, headers, query);
      try {
        expect((await behind.next(2000))?.id).toBe(latest);
      } finally {
        await behind.close();
      }
    }
    const byQuery = await openStream(id, token, {}, `?version=${latest}`);
    try {
      expect(await byQuery.next(300)).toBeUndefined();
    } finally {
      await byQuery.close();
    }
  });
});

describe("ACK/NACK and GET /v1/proxy-status", () => {
  it("shows SYNCED for an ACK of the current version, STALE for a NACK (with its reason) or no answer, NOT SENT before any fetch", async () => {
    const synced = await registerProxy("a-1", "shop", "a");
    const nacked = await registerProxy("b-1", "shop", "b");
    const silent = await registerProxy("c-1", "shop", "c");
    const never = await registerProxy("d-1", "shop", "d");

    const a = (await currentConfig(synced.id, synced.token)).version;
    const ack = await send("POST", `/v1/proxies/${synced.id}/status`, { token: synced.token, body: { version: a, applied: true } });
    expect(ack.status).toBe(200);
    expect(await json(ack)).toMatchObject({ proxy: synced.id, version: a, answer: "ACK" });

    const b = (await currentConfig(nacked.id, nacked.token)).version;
    const nack = await send("POST", `/v1/proxies/${nacked.id}/status`, { token: nacked.token, body: { version: b, error: "route reviews: unknown cluster" } });
    expect(nack.status).toBe(200);
    await currentConfig(silent.id, silent.token);
    // An admin's read is no delivery: d stays NOT SENT.
    await currentConfig(never.id, ADMIN());

    const viewer = await json(await call("POST", "/v1/tokens", { body: { name: "ops", role: "viewer" } }));
    const res = await send("GET", "/v1/proxy-status", { token: viewer.token });
    expect(res.status).toBe(200);
    const { items } = await json(res);
    const byId = Object.fromEntries(items.map((i: any) => [i.id, i]));
    expect(items.map((i: any) => i.id)).toEqual(["a-1.shop", "b-1.shop", "c-1.shop", "d-1.shop"]);
    expect(byId["a-1.shop"]).toMatchObject({ status: "SYNCED", version: a, kind: "sidecar", namespace: "shop", ackedVersion: a });
    expect(byId["b-1.shop"]).toMatchObject({ status: "STALE", version: b, sentVersion: b });
    expect(byId["b-1.shop"].reason).toContain("route reviews: unknown cluster");
    expect(byId["c-1.shop"]).toMatchObject({ status: "STALE" });
    expect(byId["c-1.shop"].reason).toBeUndefined();
    expect(byId["d-1.shop"]).toMatchObject({ status: "NOT SENT", sentVersion: null });
    for (const item of items) expect(Date.parse(item.lastSeen)).not.toBeNaN();

    // A later ACK of the current version clears the NACK; a change to the config makes an ACKed proxy STALE.
    await send("POST", `/v1/proxies/${nacked.id}/status`, { token: nacked.token, body: { version: b, applied: true } });
    await applyOk(virtualService("shop", "reviews", "reviews.shop.svc.cluster.local", "/reviews"));
    const after = Object.fromEntries((await json(await send("GET", "/v1/proxy-status"))).items.map((i: any) => [i.id, i]));
    expect(after["a-1.shop"].status).toBe("STALE");
    expect(after["b-1.shop"].status).toBe("STALE");
    expect(after["b-1.shop"].reason).toBeUndefined();
    expect(after["a-1.shop"].version).not.toBe(a);

    const filtered = await json(await send("GET", "/v1/proxy-status?namespace=elsewhere"));
    expect(filtered.items).toEqual([]);
    expect((await send("GET", "/v1/proxy-status", { token: null })).status).toBe(401);
  });

  it("a push counts as sent: a streaming proxy that ACKs what it was pushed is SYNCED", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const stream = await openStream(id, token);
    try {
      const first = await stream.next(2000);
      await applyOk(virtualService("shop", "reviews", "reviews.shop.svc.cluster.local", "/reviews"));
      const pushed = (await stream.next(2000))!;
      expect(pushed.id).not.toBe(first!.id);
      await new Promise((r) => setTimeout(r, 100)); // the hub records the push after sending it
      let item = (await json(await send("GET", "/v1/proxy-status"))).items[0];
      expect(item).toMatchObject({ status: "STALE", sentVersion: pushed.id, version: pushed.id });
      await send("POST", `/v1/proxies/${id}/status`, { token, body: { version: pushed.id, applied: true } });
      item = (await json(await send("GET", "/v1/proxy-status"))).items[0];
      expect(item.status).toBe("SYNCED");
    } finally {
      await stream.close();
    }
  });

  it("refuses a bad answer with 400 naming the field", async () => {
    const { id, token } = await registerProxy("web-1", "shop", "web");
    const cases: [unknown, string][] = [
      [{ applied: true }, "version"],
      [{ version: "", applied: true }, "version"],
      [{ version: "abc" }, "applied"],
      [{ version: "abc", applied: false }, "applied"],
      [{ version: "abc", error: "" }, "error"],
      [{ version: "abc", applied: true, error: "x" }, "error"],
      [{ version: "abc", applied: true, extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const res = await send("POST", `/v1/proxies/${id}/status`, { token, body });
      const status = await json(res);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(status.details.causes.map((c: any) => c.field), JSON.stringify(body)).toContain(field);
    }
    const notJson = await worker.fetch(
      new Request(`http://weft.test/v1/proxies/${id}/status`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: "{" }) as Request<unknown, IncomingRequestCfProperties>,
      env,
      createExecutionContext(),
    );
    expect(notJson.status).toBe(400);
  });
});
