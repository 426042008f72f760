// The control plane's registry and config-distribution routes in the test process, as docs/api.md
// describes them: registration and heartbeats (404 once gone), the config with ETag / If-None-Match /
// ?wait= (held briefly, in real time), the SSE stream (Last-Event-ID, a push per new version, ended or
// broken on demand), and ACK/NACK. Tests switch it down, or the stream off, and read what it saw.
import { createHash } from "node:crypto";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "../../../../../edge-proxy/core/config/proxy-config.js";

export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeControlPlane {
  fetch(request: Request): Promise<Response>;
  /** Every call throws as a refused connection does. */
  down: boolean;
  /** The stream route answers 501 (an older control plane). */
  streamOff: boolean;
  /** Streams end at once without a byte (a proxy in between that does not pass them). */
  streamEmpty: boolean;
  registered: boolean;
  requests: SeenRequest[];
  answers: { version: string; applied?: true; error?: string }[];
  readonly version: string | undefined;
  /** Serves `config` from now on and pushes it to open streams; returns its version. */
  serve(config: unknown): string;
  openStreams(): number;
  /** Ends every open stream cleanly (the hub moved). */
  endStreams(): void;
  /** Open streams stop sending anything, heartbeats included (a dead connection). */
  silence: boolean;
  count(method: string, pathEnd: string): number;
}

export function versionOf(config: unknown): string {
  return createHash("sha256").update(JSON.stringify(config)).digest("hex");
}

/** A valid sidecar config whose one route answers `name` directly, so tests can tell configs apart. */
export function configNamed(name: string): ProxyConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "shop", labels: { app: "reviews" }, gateways: ["mesh"] },
    listeners: [
      {
        port: 0,
        virtualHosts: [{ name: "shop/echo", domains: ["*"], routes: [{ name: `shop/echo/${name}`, match: [], action: { kind: "direct", status: 200, body: name } }] }],
      },
    ],
    clusters: [],
  };
}

export function createFakeControlPlane(): FakeControlPlane {
  const encoder = new TextEncoder();
  let current: { version: string; config: unknown } | undefined;
  const streams = new Set<{ controller: ReadableStreamDefaultController<Uint8Array>; send(text: string): void }>();
  const changed = new Set<() => void>();
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  const notRegistered = () => json({ kind: "Status", code: 404, reason: "NotFound", message: "proxy not registered (test)" }, 404);
  const event = (c: { version: string; config: unknown }) => `event: config\nid: ${c.version}\ndata: ${JSON.stringify(c.config)}\n\n`;

  const cp: FakeControlPlane = {
    down: false,
    streamOff: false,
    streamEmpty: false,
    registered: false,
    silence: false,
    requests: [],
    answers: [],
    get version() {
      return current?.version;
    },
    serve(config) {
      current = { version: versionOf(config), config };
      for (const stream of streams) stream.send(event(current));
      for (const wake of [...changed]) wake();
      return current.version;
    },
    openStreams: () => streams.size,
    endStreams() {
      for (const stream of [...streams]) {
        streams.delete(stream);
        stream.controller.close();
      }
    },
    count: (method, pathEnd) => cp.requests.filter((r) => r.method === method && r.path.endsWith(pathEnd)).length,
    async fetch(request) {
      const url = new URL(request.url);
      const text = request.body ? await request.text() : "";
      cp.requests.push({ method: request.method, path: url.pathname, query: url.search, headers: Object.fromEntries(request.headers), body: text ? JSON.parse(text) : undefined });
      if (cp.down) throw new TypeError("fetch failed (test: connect ECONNREFUSED)");
      const path = url.pathname;
      if (request.method === "POST" && path === "/v1/registry/workloads") {
        const created = !cp.registered;
        cp.registered = true;
        return json(JSON.parse(text), created ? 201 : 200);
      }
      if (request.method === "PUT" && path.endsWith("/heartbeat")) return cp.registered ? json({}) : notRegistered();
      if (request.method === "DELETE" && path.startsWith("/v1/registry/workloads/")) {
        const was = cp.registered;
        cp.registered = false;
        return was ? json({ status: "Success" }) : notRegistered();
      }
      if (request.method === "POST" && path.endsWith("/status")) {
        cp.answers.push(JSON.parse(text));
        return json({ answer: "ok" });
      }
      if (request.method === "GET" && path.endsWith("/config")) {
        if (!cp.registered) return notRegistered();
        const held = (request.headers.get("if-none-match") ?? "").split(",").map((t) => t.trim().replace(/"/g, ""));
        const holds = () => current !== undefined && held.includes(current.version);
        if (holds() && url.searchParams.has("wait")) {
          await new Promise<void>((resolve) => {
            const wake = () => {
              changed.delete(wake);
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(wake, 30);
            changed.add(wake);
            request.signal.addEventListener("abort", wake);
          });
          if (request.signal.aborted) throw new DOMException("This operation was aborted", "AbortError");
        }
        if (current === undefined) return new Response(null, { status: 304 });
        if (holds()) return new Response(null, { status: 304, headers: { etag: `"${current.version}"` } });
        return json(current.config, 200, { etag: `"${current.version}"` });
      }
      if (request.method === "GET" && path.endsWith("/config/stream")) {
        if (cp.streamOff) return new Response("streams are not served here (test)", { status: 501 });
        if (!cp.registered) return notRegistered();
        if (cp.streamEmpty) return new Response("", { headers: { "content-type": "text/event-stream" } });
        const last = request.headers.get("last-event-id");
        let entry: { controller: ReadableStreamDefaultController<Uint8Array>; send(text: string): void };
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            entry = { controller, send: (t) => void (cp.silence || controller.enqueue(encoder.encode(t))) };
            streams.add(entry);
            entry.send("retry: 1000\n: weft config stream\n\n");
            if (current !== undefined && current.version !== last) entry.send(event(current));
            request.signal.addEventListener("abort", () => {
              if (!streams.delete(entry)) return;
              controller.error(new DOMException("This operation was aborted", "AbortError"));
            });
          },
          cancel() {
            streams.delete(entry);
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
      }
      return json({ message: `no route ${request.method} ${path} (test)` }, 404);
    },
  };
  return cp;
}
