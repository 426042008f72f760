// Loopback sidecars for the fast-path tests: real capture listeners (fastPath on or off), mesh sender,
// raw upstreams and proxy core, with the original destination injected. The core is wrapped to count
// which pipeline served each request (a plan, or outbound/inbound), and every telemetry record is kept.
// Also scripted upstreams (node:http and raw sockets, counting their connections) and a raw HTTP/1.1
// client that reads responses off one connection exactly as they came (head, framing, body).
import http from "node:http";
import net from "node:net";
import { validateProxyConfig } from "../../../../../edge-proxy/core/config/validate-proxy-config.js";
import type { ProxyConfig } from "../../../../../edge-proxy/core/config/proxy-config.js";
import { createProxy, type Proxy } from "../../../../../edge-proxy/core/proxy/proxy.js";
import type { RequestRecord } from "../../../../../edge-proxy/core/telemetry/types.js";
import type { MeshTrust, WorkloadCertificate } from "../../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";
import type { CaptureListeners } from "../../../../../edge-proxy/hosts/sidecar/traffic/capture-listeners.js";
import { createMeshSender, type MeshSender } from "../../../../../edge-proxy/hosts/sidecar/traffic/mesh-sender.js";
import { createMeshTls } from "../../../../../edge-proxy/hosts/sidecar/traffic/mesh-tls.js";
import type { OriginalDestination } from "../../../../../edge-proxy/hosts/sidecar/traffic/original-destination.js";
import { switchableTls, type SwitchableTls } from "./mesh-pki.js";
import { loopbackListeners, observeProxy } from "./sidecar-harness.js";

/** How many requests each pipeline took. `planned*` count plans returned, `unplanned*` the undefined answers. */
export interface Served {
  plannedOutbound: number;
  unplannedOutbound: number;
  outbound: number;
  plannedInbound: number;
  unplannedInbound: number;
  inbound: number;
}

export interface FastSidecar {
  readonly fastPath: boolean;
  readonly ports: { outbound: number; inbound: number };
  readonly listeners: CaptureListeners;
  readonly sender: MeshSender;
  readonly tls: SwitchableTls;
  readonly logs: Record<string, unknown>[];
  readonly records: RequestRecord[];
  readonly served: Served;
  readonly destination: { outbound: OriginalDestination | undefined; inbound: OriginalDestination | undefined };
  readonly proxy: Proxy;
  /** Clears the counters, records and logs. */
  reset(): void;
  update(config: ProxyConfig): void;
  close(): void;
}

export interface FastSidecarSetup {
  config: ProxyConfig;
  fastPath: boolean;
  certificate?: WorkloadCertificate;
  trust?: MeshTrust;
  keepAliveTimeoutMs?: number;
}

function valid(config: ProxyConfig): ProxyConfig {
  const checked = validateProxyConfig(config);
  if (!checked.ok) throw new Error(`test config is invalid: ${JSON.stringify(checked.errors)}`);
  return config;
}

export async function startFastSidecar(setup: FastSidecarSetup): Promise<FastSidecar> {
  const logs: Record<string, unknown>[] = [];
  const log = (event: Record<string, unknown>) => void logs.push(event);
  const records: RequestRecord[] = [];
  const source = switchableTls(setup.certificate, setup.trust);
  const meshTls = createMeshTls(source);
  const ownPorts = new Set<number>();
  const sender = createMeshSender({ tls: source, log, ownPorts, podIp: "127.0.0.1", meshTls, logIntervalMs: 0 });
  // random 0: round robin and retry back-off are deterministic (back-off 0 ms).
  const core = createProxy(valid(setup.config), { send: sender.send, random: () => 0, telemetry: [{ record: (r) => void records.push(r) }] });
  const served: Served = { plannedOutbound: 0, unplannedOutbound: 0, outbound: 0, plannedInbound: 0, unplannedInbound: 0, inbound: 0 };
  const observed = observeProxy(core, {
    outbound: () => void served.outbound++,
    inbound: () => void served.inbound++,
    planOutbound: (plan) => void (plan === undefined ? served.unplannedOutbound++ : served.plannedOutbound++),
    planInbound: (plan) => void (plan === undefined ? served.unplannedInbound++ : served.plannedInbound++),
  });
  const { listeners, ports, destination } = await loopbackListeners({
    ownPorts,
    proxy: () => observed,
    tls: source,
    log,
    meshTls,
    fastPath: setup.fastPath,
    ...(setup.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: setup.keepAliveTimeoutMs } : {}),
  });
  return {
    fastPath: setup.fastPath,
    ports,
    listeners,
    sender,
    tls: source,
    logs,
    records,
    served,
    destination,
    proxy: core,
    reset() {
      for (const key of Object.keys(served) as (keyof Served)[]) served[key] = 0;
      records.length = 0;
      logs.length = 0;
    },
    update: (config) => core.update(valid(config)),
    close() {
      listeners.close();
      sender.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Upstreams

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Index of the upstream connection (0-based, in accept order) the request came on. */
  connection: number;
}

export interface Upstream {
  port: number;
  requests: SeenRequest[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A node:http upstream; `handler` answers each request (its body already read). */
export async function startUpstream(handler: (request: SeenRequest, response: http.ServerResponse, index: number) => void, options: { keepAliveTimeout?: number } = {}): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  let accepted = 0;
  const ids = new WeakMap<net.Socket, number>();
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => {
      const seen: SeenRequest = { method: incoming.method ?? "", url: incoming.url ?? "", headers: incoming.headers, body: Buffer.concat(chunks), connection: ids.get(incoming.socket) ?? -1 };
      requests.push(seen);
      handler(seen, outgoing, requests.length - 1);
    });
  });
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  server.on("connection", (socket: net.Socket) => ids.set(socket, accepted++));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON describing the request it saw (method, url, headers, body as text). */
export function echoJson(request: SeenRequest, response: http.ServerResponse, extraHeaders: Record<string, string> = {}): void {
  const json = JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body: request.body.toString() });
  response.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(json)), ...extraHeaders });
  response.end(json);
}

/**
 * A raw TCP upstream: `onRequest` gets each request head (bodies are not expected) with the socket, the
 * request's index on that connection and the connection's index, and writes what it likes.
 */
export async function startRawUpstream(onRequest: (socket: net.Socket, head: string, indexOnConnection: number, connection: number) => void): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    let index = 0;
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const [line = "", ...fields] = head.split("\r\n");
        const [method = "", url = ""] = line.split(" ");
        const headers: http.IncomingHttpHeaders = {};
        for (const field of fields) {
          const colon = field.indexOf(":");
          headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
        }
        requests.push({ method, url, headers, body: Buffer.alloc(0), connection });
        onRequest(socket, head, index++, connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client connection

export interface ClientResponse {
  status: number;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** How the body was delimited on the wire. */
  framing: "none" | "length" | "chunked" | "close";
}

/** One client connection: write bytes, read responses one after another as they come. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on("error", () => {});
    // The server ending its side counts as closing (the socket then ends its own, as HTTP clients do).
    this.closed = new Promise((resolve) => {
      const gone = () => {
        this.ended = true;
        this.wake();
        resolve();
      };
      socket.once("end", gone);
      socket.once("close", gone);
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  private more(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response bytes within ${timeoutMs} ms (have ${this.buffer.length}: ${JSON.stringify(this.buffer.toString("latin1").slice(0, 200))})`)), timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Reads the next response (`method` of its request: HEAD responses have no body). */
  async read(method = "GET", timeoutMs = 5000): Promise<ClientResponse> {
    for (;;) {
      const parsed = this.parse(method);
      if (parsed !== undefined) return parsed;
      if (this.ended) throw new Error(`connection ended before a whole response (have ${JSON.stringify(this.buffer.toString("latin1").slice(0, 300))})`);
      await this.more(timeoutMs);
    }
  }

  /** Sends one request and reads its response. */
  async request(text: string | Buffer, method = "GET"): Promise<ClientResponse> {
    this.write(text);
    return this.read(method);
  }

  private parse(method: string): ClientResponse | undefined {
    const buffer = this.buffer;
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [line = "", ...fields] = buffer.toString("latin1", 0, end).split("\r\n");
    const status = Number(line.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(":");
      const name = field.slice(0, colon).toLowerCase();
      const value = field.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const start = end + 4;
    if (status < 200) {
      this.buffer = buffer.subarray(start);
      return this.parse(method);
    }
    const take = (length: number, body: Buffer, framing: ClientResponse["framing"]): ClientResponse => {
      this.buffer = buffer.subarray(length);
      return { status, headers, body, framing };
    };
    if (method === "HEAD" || status === 204 || status === 304) return take(start, Buffer.alloc(0), "none");
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const chunks: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = buffer.indexOf("\r\n", at);
        if (lineEnd < 0) return undefined;
        const size = parseInt(buffer.toString("latin1", at, lineEnd), 16);
        if (size === 0) {
          // No trailers expected: the last chunk is followed by one CRLF.
          if (buffer.length < lineEnd + 4) return undefined;
          return take(lineEnd + 4, Buffer.concat(chunks), "chunked");
        }
        if (buffer.length < lineEnd + 2 + size + 2) return undefined;
        chunks.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (buffer.length < start + length) return undefined;
      return take(start + length, buffer.subarray(start, start + length), "length");
    }
    if (!this.ended) return undefined;
    return take(buffer.length, buffer.subarray(start), "close");
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Headers that say how a message is framed or kept alive, or that vary per request: left out of comparisons. */
const FRAMING = new Set(["date", "keep-alive", "connection", "transfer-encoding", "content-length", "x-envoy-upstream-service-time"]);

/** The significant headers of a response, sorted by name. */
export function significant(headers: Record<string, string | string[] | undefined>, ignore: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) {
    if (FRAMING.has(name) || ignore.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** The Istio metrics of `render()` that depend only on the requests (no duration histogram), sorted. */
export function countedMetrics(rendered: string): string[] {
  return rendered
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("istio_request_duration_milliseconds"))
    .sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
