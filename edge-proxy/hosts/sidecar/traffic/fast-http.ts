/**
 * @module hosts/sidecar/traffic/fast-http
 * The sidecar's fast HTTP/1.1 path on captured connections: requests read with the http1-codec straight
 * from the socket, planned by the core without web objects (`proxy.planOutbound` / `planInbound`,
 * head-plan.ts), sent upstream through raw-upstreams, and the response head and body written back as
 * they arrive. Keep-alive and pipelining on the downstream connection, one request at a time.
 *
 * Anything this path does not take goes to node:http and the web pipeline for the rest of the
 * connection (`fallback`, http-handoff), starting with the request that did not fit, whose bytes are
 * still unread there: a head the codec will not parse exactly (HTTP/1.0, Expect, Upgrade, chunked or
 * larger request bodies, odd syntax: node:http's own rules answer those), no config yet, or a request
 * the core has no plan for (CORS, faults, mirrors, JWT, denials, ...). Both paths give the same answers;
 * this one only costs less.
 *
 * Timeouts as http-handoff's: an idle keep-alive connection closes after `keepAliveTimeoutMs`, a request
 * head must arrive within `headersTimeoutMs`, a request in flight has no limit of its own. Draining:
 * idle connections close at once; a busy one says `connection: close` on its response and closes after.
 * A response whose upstream body is delimited by the connection's close is sent on chunked.
 */
import { STATUS_CODES } from "node:http";
import type net from "node:net";
import { HeaderList } from "../../../core/http/header-list.js";
import { Cancellation } from "../../../core/proxy/cancellation.js";
import type { LocalAnswer, Plan, RequestHead as CoreRequestHead } from "../../../core/proxy/head-plan.js";
import { parseRequestHead, serializeHead } from "./http1-codec.js";
import type { RawResponse, RawUpstreams } from "./raw-upstreams.js";

export interface FastHttpOptions<T> {
  /** The core's plan for a request; undefined sends it (and the rest of the connection) to `fallback`. */
  plan(head: CoreRequestHead, info: T): Plan | undefined;
  upstreams: RawUpstreams;
  /** Serves the rest of the connection with node:http: `buffered` are bytes read but not yet served. */
  fallback(socket: net.Socket, buffered: Buffer, info: T): void;
  /** Called with a failure while serving a request (the connection is closed). */
  onError?(error: unknown, info: T): void;
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** Largest request head (beyond: node:http answers 431). Default 60 KiB. */
  maxHeaderSize?: number;
  /** Largest request body this path reads in full before planning; larger ones go to the fallback. Default 64 KiB. */
  maxBodyBytes?: number;
}

export interface FastHttp<T> {
  /** Serves HTTP on `socket` (paused; `head` already read from it). */
  accept(socket: net.Socket, head: Buffer, info: T): void;
  /** Closes idle connections; busy ones close after their response. */
  drain(): void;
  /** Destroys every connection. */
  close(): void;
  /** Connections being served here (not those handed to node:http). */
  connections(): number;
}

const EMPTY = Buffer.alloc(0);
/** The upstream's own length field, written again as this hop frames the body. */
const CONTENT_LENGTH: ReadonlySet<string> = new Set(["content-length"]);
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

export function createFastHttp<T>(options: FastHttpOptions<T>): FastHttp<T> {
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 3_600_000;
  const headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
  const maxHeaderSize = options.maxHeaderSize ?? 60 * 1024;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const connections = new Set<Connection>();
  let draining = false;

  class Connection {
    private buffer: Buffer = EMPTY;
    private busy = false;
    private ended = false;
    private gone = false;
    private handedOver = false;
    /** Aborted when the client goes away (the core's DC). Made on first need. */
    private controller: Cancellation | undefined;
    private timeout = -1;

    constructor(
      readonly socket: net.Socket,
      private readonly info: T,
    ) {}

    start(head: Buffer): void {
      const socket = this.socket;
      socket.on("data", this.onData);
      socket.on("end", this.onEnd);
      socket.on("close", this.onClose);
      socket.on("timeout", this.onTimeout);
      this.buffer = head;
      this.process();
      if (!this.handedOver) socket.resume();
    }

    private readonly onData = (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      if (this.busy) {
        // Pipelined bytes wait for the response in flight; stop reading if they pile up.
        if (this.buffer.length > maxHeaderSize + maxBodyBytes) this.socket.pause();
        return;
      }
      this.process();
    };

    private readonly onEnd = () => {
      this.ended = true;
      if (!this.busy) this.process();
    };

    private readonly onClose = () => {
      this.gone = true;
      connections.delete(this);
      this.controller?.abort(new Error("downstream disconnected"));
    };

    private readonly onTimeout = () => {
      if (this.busy) return;
      if (this.buffer.length > 0 && !this.ended) this.socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      this.socket.destroy();
    };

    private setTimer(ms: number): void {
      if (this.timeout !== ms) {
        this.timeout = ms;
        this.socket.setTimeout(ms);
      }
    }

    get idle(): boolean {
      return !this.busy && this.buffer.length === 0;
    }

    /** Serves the next buffered request, if a whole one is there. */
    private process(): void {
      if (this.busy || this.gone || this.handedOver) return;
      const buffer = this.buffer;
      if (buffer.length === 0) {
        if (this.ended || draining) this.close();
        else this.setTimer(keepAliveTimeoutMs);
        return;
      }
      const parsed = parseRequestHead(buffer, 0, maxHeaderSize);
      if (parsed.kind === "incomplete") {
        if (this.ended) return this.handOver();
        this.setTimer(headersTimeoutMs);
        return;
      }
      if (parsed.kind === "fallback") return this.handOver();
      const head = parsed.head;
      const length = head.framing.kind === "length" ? head.framing.length : 0;
      if (length > maxBodyBytes) return this.handOver();
      const total = head.end + length;
      if (buffer.length < total) {
        if (this.ended) return this.handOver();
        this.setTimer(headersTimeoutMs);
        return;
      }
      const plan = options.plan({ method: head.method, pathAndQuery: head.target, headers: head.headers, bodyBytes: length }, this.info);
      if (plan === undefined) return this.handOver();
      const body = length > 0 ? buffer.subarray(head.end, total) : null;
      this.buffer = total === buffer.length ? EMPTY : buffer.subarray(total);
      this.busy = true;
      // The timer stays armed while busy (a timeout then is ignored; activity re-arms it): no timer work per request.
      if (this.timeout !== keepAliveTimeoutMs) this.setTimer(keepAliveTimeoutMs);
      this.serve(plan, body, head.keepAlive).then(
        () => this.served(head.keepAlive),
        (error: unknown) => {
          options.onError?.(error, this.info);
          this.socket.destroy();
        },
      );
    }

    private served(keepAlive: boolean): void {
      this.busy = false;
      if (this.gone) return;
      if (!keepAlive || draining) {
        this.close();
        return;
      }
      if (this.socket.isPaused()) this.socket.resume();
      this.process();
    }

    /** Ends the connection after what was written, and closes it then, as node:http does after `connection: close` (a half-open client is not waited for). */
    private close(): void {
      const socket = this.socket;
      socket.end();
      if (socket.writableFinished) socket.destroy();
      else socket.once("finish", () => socket.destroy());
    }

    /** node:http serves the rest of the connection, starting with the bytes not yet served. */
    private handOver(): void {
      this.handedOver = true;
      connections.delete(this);
      const socket = this.socket;
      socket.pause();
      socket.removeListener("data", this.onData);
      socket.removeListener("end", this.onEnd);
      socket.removeListener("close", this.onClose);
      socket.removeListener("timeout", this.onTimeout);
      socket.setTimeout(0);
      const buffered = this.buffer;
      this.buffer = EMPTY;
      options.fallback(socket, buffered, this.info);
    }

    private async serve(plan: Plan, body: Buffer | null, keepAlive: boolean): Promise<void> {
      const close = !keepAlive || draining;
      if (plan.kind === "local") return this.answer(plan, close, (bytes) => plan.complete(bytes, false));
      this.controller ??= new Cancellation();
      const outcome = await plan.send(options.upstreams.sender(plan, body), this.controller);
      if (outcome.kind === "local") return this.answer(outcome, close, (bytes) => plan.complete(bytes, this.gone));
      const response = outcome.response;
      if (this.gone) {
        response.discard();
        plan.complete(0, true);
        return;
      }
      await this.relay(response, close || draining, (bytes, complete) => plan.complete(bytes, this.gone || !complete));
    }

    /** Writes a local answer with its body. */
    private answer(answer: LocalAnswer, close: boolean, done: (bytes: number) => void): void {
      if (this.gone) return done(0);
      const body = Buffer.from(answer.body);
      const framing = ["content-length", String(body.length)];
      if (close) framing.push("connection", "close");
      const head = serializeHead(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "Unknown"}`, new HeaderList(answer.headers.flat()), undefined, framing);
      this.socket.write(body.length === 0 ? head : Buffer.concat([head, body]));
      done(body.length);
    }

    /** Writes the upstream response head and streams its body. */
    private relay(response: RawResponse, close: boolean, done: (bytes: number, complete: boolean) => void): Promise<void> {
      const socket = this.socket;
      const framing = response.framing;
      // The body's framing is this hop's own: content-length, chunked (also for a close-delimited body), or
      // for a bodiless response (HEAD, 204, 304) the length the upstream announced.
      const extra: string[] = [];
      if (framing.kind === "length") extra.push("content-length", String(framing.length));
      else if (framing.kind === "chunked" || framing.kind === "close") extra.push("transfer-encoding", "chunked");
      else if (response.headers.has("content-length")) extra.push("content-length", response.headers.get("content-length") as string);
      if (close) extra.push("connection", "close");
      const head = serializeHead(`HTTP/1.1 ${response.status} ${response.reason || (STATUS_CODES[response.status] ?? "")}`, response.headers, CONTENT_LENGTH, extra);
      const buffered = response.buffered;
      // The usual small response came with its head: one write for both.
      if (framing.kind === "length" && buffered.length >= framing.length) {
        socket.write(Buffer.concat([head, buffered.subarray(0, framing.length)]));
        return new Promise((resolve) =>
          response.pipe({ write: () => true, onDrain: (resume) => resume() }, (bytes, complete) => {
            done(bytes, complete);
            resolve();
          }),
        );
      }
      socket.cork();
      socket.write(head);
      const wrap = framing.kind === "close";
      return new Promise((resolve) => {
        response.pipe(
          {
            write: (chunk) => {
              if (this.gone) return true;
              if (!wrap) return socket.write(chunk);
              socket.write(`${chunk.length.toString(16)}\r\n`);
              socket.write(chunk);
              return socket.write(CRLF);
            },
            onDrain: (resume) => socket.once("drain", resume),
          },
          (bytes, complete) => {
            if (wrap && complete && !this.gone) socket.write(LAST_CHUNK);
            socket.uncork();
            if (!complete && !this.gone) socket.destroy();
            done(bytes, complete);
            resolve();
          },
        );
        process.nextTick(() => socket.uncork());
      });
    }
  }

  return {
    accept(socket, head, info) {
      const connection = new Connection(socket, info);
      connections.add(connection);
      connection.start(head);
    },
    drain() {
      draining = true;
      for (const connection of connections) if (connection.idle) connection.socket.destroy();
    },
    close() {
      for (const connection of connections) connection.socket.destroy();
      connections.clear();
    },
    connections: () => connections.size,
  };
}

