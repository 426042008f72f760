/**
 * @module hosts/node/send-http
 * The Node host's way to send one attempt to an upstream endpoint: node:http with a keep-alive agent per
 * endpoint (honouring maxRequestsPerConnection and the connect timeout), the request's Host header kept as
 * the proxy set it, the body streamed, the attempt's AbortSignal destroying the socket. Failures become
 * the core's UpstreamFailure kinds: a refused or timed-out connect is `connect-failure`, anything after
 * the connection is up is `reset`.
 *
 * `sendAttempt` is the same attempt over a transport the caller chooses (the sidecar's mesh sender passes
 * node:https with a mutual TLS agent): over TLS the connection counts as up only once the handshake is
 * done, so a failed handshake is `connect-failure` too. A bodyless idempotent request that fails on a reused
 * keep-alive connection before any response byte (the upstream closed it while idle) is sent once more
 * on a new connection, as the upstream never saw it.
 */
import http from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { UpstreamFailure, type UpstreamTarget } from "../../core/proxy/host.js";

export const CONNECT_ERRORS: ReadonlySet<string> = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNABORTED", "EADDRNOTAVAIL", "ENOTFOUND"]);
/** Errors of a pooled connection the upstream closed while it sat idle. */
export const STALE_ERRORS: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE"]);
/** Methods a request may be repeated with (RFC 9110 §9.2.2). */
export const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
/** Headers of one connection, never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

export interface HttpSender {
  send(request: Request, target: UpstreamTarget): Promise<Response>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** How one attempt reaches its endpoint. */
export interface AttemptTransport {
  /** `http.request`, or `https.request` for TLS. */
  request: typeof http.request;
  /** The connection pool; false for a connection of its own, closed after the response. */
  agent: http.Agent | false;
  /** TLS: the connection is up once the handshake is done. */
  secure: boolean;
  /** Extra request options (TLS options when `agent` is false). */
  options?: http.RequestOptions;
}

const PLAIN_NO_AGENT: AttemptTransport = { request: http.request, agent: false, secure: false };

export function createHttpSender(): HttpSender {
  const agents = new Map<string, AttemptTransport>();
  const transportFor = (target: UpstreamTarget): AttemptTransport => {
    if (target.maxRequestsPerConnection === 1) return PLAIN_NO_AGENT;
    const key = `${target.endpoint.address}:${target.endpoint.port}`;
    let transport = agents.get(key);
    if (transport === undefined) {
      transport = { request: http.request, agent: new http.Agent({ keepAlive: true }), secure: false };
      agents.set(key, transport);
    }
    return transport;
  };

  return {
    send: (request, target) => sendAttempt(request, target, transportFor(target)),
    close() {
      for (const transport of agents.values()) if (transport.agent) transport.agent.destroy();
      agents.clear();
    },
  };
}

/** Requests sent on each pooled socket, for maxRequestsPerConnection. */
const uses = new WeakMap<object, number>();

/** Sends `request` to `target.endpoint` over `transport`; rejects with UpstreamFailure. */
export function sendAttempt(request: Request, target: UpstreamTarget, transport: AttemptTransport): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string | string[]> = {};
  request.headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name)) return;
    if (name === "set-cookie") return;
    headers[name] = value;
  });
  if (headers.host === undefined) headers.host = url.host;
  if (transport.agent === false) headers.connection = "close";
  const path = url.pathname + url.search;
  return new Promise<Response>((resolve, reject) => attempt(request, target, transport, headers, path, request.body === null && IDEMPOTENT.has(request.method), resolve, reject));
}

function attempt(
  request: Request,
  target: UpstreamTarget,
  transport: AttemptTransport,
  headers: Record<string, string | string[]>,
  path: string,
  mayResend: boolean,
  resolve: (response: Response) => void,
  reject: (error: unknown) => void,
): void {
  let connected = false;
  let responded = false;
  const upstream = transport.request({
    ...transport.options,
    host: target.endpoint.address,
    port: target.endpoint.port,
    method: request.method,
    path,
    headers,
    agent: transport.agent,
    ...(target.connectTimeoutMs !== undefined ? { timeout: target.connectTimeoutMs } : {}),
  });
  const signal = request.signal;
  const onAbort = () => upstream.destroy(new UpstreamFailure("reset", "attempt aborted"));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  upstream.on("socket", (socket) => {
    const used = (uses.get(socket) ?? 0) + 1;
    uses.set(socket, used);
    // The connection has served its quota: close it once this response is read.
    if (target.maxRequestsPerConnection > 1 && used >= target.maxRequestsPerConnection) upstream.once("response", (r) => r.once("end", () => socket.destroy()));
    if (used > 1 || (!transport.secure && !socket.connecting)) connected = true;
    else socket.once(transport.secure ? "secureConnect" : "connect", () => (connected = true));
  });
  upstream.on("timeout", () => {
    if (!connected) upstream.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
  });
  upstream.on("error", (error: NodeJS.ErrnoException) => {
    signal.removeEventListener("abort", onAbort);
    if (error instanceof UpstreamFailure) return reject(error);
    if (mayResend && !responded && upstream.reusedSocket && error.code !== undefined && STALE_ERRORS.has(error.code) && !signal.aborted) {
      attempt(request, target, transport, headers, path, false, resolve, reject);
      return;
    }
    const beforeConnect = !connected && (transport.secure || (error.code !== undefined && CONNECT_ERRORS.has(error.code)));
    reject(new UpstreamFailure(beforeConnect ? "connect-failure" : "reset", `${target.endpoint.address}:${target.endpoint.port}: ${error.message}`, { cause: error }));
  });
  upstream.on("response", (incoming) => {
    responded = true;
    upstream.setTimeout(0);
    const raw = incoming.rawHeaders;
    const responseHeaders: [string, string][] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (HOP_BY_HOP.has(name)) continue;
      responseHeaders.push([name, raw[i + 1] as string]);
    }
    const status = incoming.statusCode ?? 502;
    const nullBody = status === 204 || status === 304 || request.method === "HEAD";
    incoming.on("close", () => signal.removeEventListener("abort", onAbort));
    if (nullBody) incoming.resume();
    resolve(new Response(nullBody ? null : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>), { status, statusText: incoming.statusMessage ?? "", headers: responseHeaders }));
  });
  const body = request.body;
  if (body === null) upstream.end();
  else Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>).on("error", (error) => upstream.destroy(error)).pipe(upstream);
}
