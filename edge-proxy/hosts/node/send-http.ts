/**
 * @module hosts/node/send-http
 * The Node host's way to send one attempt to an upstream endpoint: node:http with a keep-alive agent per
 * endpoint (honouring maxRequestsPerConnection and the connect timeout), the request's Host header kept as
 * the proxy set it, the body streamed, the attempt's AbortSignal destroying the socket. Failures become
 * the core's UpstreamFailure kinds: a refused or timed-out connect is `connect-failure`, anything after
 * the connection is up is `reset`.
 */
import http from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { UpstreamFailure, type UpstreamTarget } from "../../core/proxy/host.js";

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNABORTED", "EADDRNOTAVAIL", "ENOTFOUND"]);
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

export interface HttpSender {
  send(request: Request, target: UpstreamTarget): Promise<Response>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export function createHttpSender(): HttpSender {
  const agents = new Map<string, http.Agent>();
  /** Requests sent on each pooled socket, for maxRequestsPerConnection. */
  const uses = new WeakMap<object, number>();
  const agentFor = (target: UpstreamTarget) => {
    const key = `${target.endpoint.address}:${target.endpoint.port}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = new http.Agent({ keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };

  const send = (request: Request, target: UpstreamTarget): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const headers: Record<string, string | string[]> = {};
      request.headers.forEach((value, name) => {
        if (HOP_BY_HOP.has(name)) return;
        if (name === "set-cookie") return;
        headers[name] = value;
      });
      if (headers.host === undefined) headers.host = url.host;
      const useAgent = target.maxRequestsPerConnection !== 1;
      if (!useAgent) headers.connection = "close";
      let connected = false;
      const upstream = http.request({
        host: target.endpoint.address,
        port: target.endpoint.port,
        method: request.method,
        path: url.pathname + url.search,
        headers,
        agent: useAgent ? agentFor(target) : false,
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
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      upstream.on("timeout", () => {
        if (!connected) upstream.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        signal.removeEventListener("abort", onAbort);
        if (error instanceof UpstreamFailure) return reject(error);
        const kind = !connected && error.code !== undefined && CONNECT_ERRORS.has(error.code) ? "connect-failure" : "reset";
        reject(new UpstreamFailure(kind, `${target.endpoint.address}:${target.endpoint.port}: ${error.message}`, { cause: error }));
      });
      upstream.on("response", (incoming) => {
        upstream.setTimeout(0);
        const responseHeaders = new Headers();
        for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
          const name = (incoming.rawHeaders[i] as string).toLowerCase();
          if (HOP_BY_HOP.has(name)) continue;
          responseHeaders.append(name, incoming.rawHeaders[i + 1] as string);
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
    });

  return {
    send,
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
