/**
 * @module hosts/sidecar/traffic/http-handoff
 * HTTP/1.x on sockets the capture listeners accepted and sniffed: a node:http Server that never listens
 * is given each connection (`emit("connection")`, the sniffed bytes unshifted first) along with what
 * the listener knows of it, and calls `handle` for every request, pipelined ones in order, over
 * keep-alive. Timeouts as Envoy's HTTP connection manager defaults: idle keep-alive connections close
 * after an hour, request headers must arrive within a minute, a request body or response may take as
 * long as it needs.
 *
 * Draining: idle connections are closed at once; a busy one answers its requests in flight (responses
 * started from now on say `Connection: close`) and closes after the last one.
 */
import http from "node:http";
import type net from "node:net";

export interface HttpHandoffOptions<T> {
  /** Serves one request; a rejection answers 500 (or resets a response already started). */
  handle(incoming: http.IncomingMessage, outgoing: http.ServerResponse, info: T): Promise<void>;
  /** Called with a request handler's failure. */
  onError?(error: unknown, info: T): void;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** Largest request head accepted (431 beyond). Default 60 KiB, Envoy's max_request_headers_kb. */
  maxHeaderSize?: number;
}

export interface HttpHandoff<T> {
  /** Serves HTTP on `socket` (paused; `head` already read from it). */
  accept(socket: net.Socket, head: Buffer, info: T): void;
  /** Closes idle connections; busy ones close after their responses. */
  drain(): void;
  /** Destroys every connection. */
  close(): void;
  /** Connections being served. */
  connections(): number;
}

interface ConnectionState<T> {
  info: T;
  inFlight: number;
}

export function createHttpHandoff<T>(options: HttpHandoffOptions<T>): HttpHandoff<T> {
  const server = http.createServer({
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 3_600_000,
    headersTimeout: options.headersTimeoutMs ?? 60_000,
    requestTimeout: 0,
    maxHeaderSize: options.maxHeaderSize ?? 60 * 1024,
    noDelay: true,
  });
  // node:http starts its headers-timeout checks when the server starts listening; this one never does.
  server.emit("listening");
  // A client that half-closes after its request (`printf 'GET / ...' | nc`) still gets its answers:
  // the connection ends after the last one instead of aborting them.
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  const states = new Map<net.Socket, ConnectionState<T>>();
  let draining = false;

  server.on("request", (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    const socket = incoming.socket;
    const state = states.get(socket);
    if (state === undefined) {
      outgoing.destroy();
      return;
    }
    state.inFlight++;
    if (draining) outgoing.setHeader("connection", "close");
    outgoing.once("close", () => {
      state.inFlight--;
      if (draining && state.inFlight === 0 && !socket.destroyed) socket.end();
    });
    options.handle(incoming, outgoing, state.info).catch((error: unknown) => {
      options.onError?.(error, state.info);
      if (!outgoing.headersSent) {
        outgoing.writeHead(500, { "content-type": "text/plain", connection: "close" });
        outgoing.end("internal error\n");
      } else outgoing.destroy();
    });
  });

  return {
    accept(socket, head, info) {
      states.set(socket, { info, inFlight: 0 });
      socket.once("close", () => states.delete(socket));
      if (head.length > 0) socket.unshift(head);
      server.emit("connection", socket);
      socket.resume();
    },
    drain() {
      draining = true;
      for (const [socket, state] of states) if (state.inFlight === 0) socket.destroy();
    },
    close() {
      for (const socket of states.keys()) socket.destroy();
      server.close();
    },
    connections: () => states.size,
  };
}
