/**
 * @module hosts/sidecar/traffic/raw-upstreams
 * The fast path's upstream side: HTTP/1.1 attempts written straight onto pooled keep-alive sockets
 * (node:net, or node:tls for mesh mutual TLS and SIMPLE origination) and read back with the
 * http1-codec, with no node:http and no web objects. It makes the same choices as mesh-sender, the web
 * path's ProxyHost.send: TLS as upstream-tls decides, Istio's SNI and ALPN, the server's identity checked
 * by mesh-tls, pools per endpoint and identity setup and credentials (a rotated certificate gets new
 * connections, idle ones of the old credentials close), own listeners refused, maxRequestsPerConnection
 * and the connect timeout honoured, failures mapped to the core's UpstreamFailure kinds as send-http
 * maps them (before the connection is up, or during a TLS handshake: `connect-failure`; after: `reset`),
 * and a bodyless idempotent request that meets a pooled connection the upstream had closed sent once more
 * on a new one.
 *
 * `sender(plan, body)` is the AttemptSender the plan's router drives; each attempt resolves with a
 * RawResponse once the response head is read (interim 1xx heads are skipped); the caller then streams the
 * body with `pipe`, after which the connection returns to its pool when it can be reused.
 */
import net from "node:net";
import tls from "node:tls";
import { HeaderList } from "../../../core/http/header-list.js";
import type { CancelSignal } from "../../../core/proxy/cancellation.js";
import type { AttemptSender } from "../../../core/proxy/forward.js";
import type { ForwardPlan, UpstreamResponseHead } from "../../../core/proxy/head-plan.js";
import type { Cluster, Endpoint } from "../../../core/config/proxy-config.js";
import { UpstreamFailure, type UpstreamTarget } from "../../../core/proxy/host.js";
import { CONNECT_ERRORS, HOP_BY_HOP, IDEMPOTENT, STALE_ERRORS } from "../../node/send-http.js";
import type { SidecarLog } from "../sidecar-contracts.js";
import { ChunkedScanner, parseResponseHead, serializeHead, type BodyFraming } from "./http1-codec.js";
import { limitedLog } from "./limited-log.js";
import { ISTIO_HTTP_ALPN, type MeshCredentials, type MeshTls } from "./mesh-tls.js";
import { createUpstreamChecks, subjectAltNamesCheck } from "./upstream-checks.js";
import { upstreamTls } from "./upstream-tls.js";

export interface RawUpstreamsOptions {
  meshTls: MeshTls;
  log: SidecarLog;
  ownPorts: ReadonlySet<number>;
  podIp?: string;
  /** A repeated warning is written at most once per this many ms. Default 10 s; 0 writes all. */
  logIntervalMs?: number;
  /** Largest upstream response head. Default 60 KiB. */
  maxHeadBytes?: number;
}

export interface RawUpstreams {
  /** The attempts of one planned request whose whole body is `body` (null: none). */
  sender(plan: ForwardPlan, body: Buffer | null): AttemptSender<RawResponse>;
  /** Destroys every pooled connection; connections in use close when their response is over. */
  close(): void;
}

/** Where a body's bytes go: `write` returns false when the reader should wait for `drain`. */
export interface BodySink {
  write(chunk: Buffer): boolean;
  /** Calls `resume` once the sink can take more. */
  onDrain(resume: () => void): void;
}

/** Idle connections kept per pool, as node:http's Agent keeps 256 free sockets. */
const MAX_IDLE = 256;
const EMPTY = Buffer.alloc(0);

/** A pool of connections to one endpoint with one TLS setup. */
interface Pool {
  readonly idle: UpstreamConnection[];
  /** Credentials the pool's connections were made with (mesh pools). */
  readonly credentialsId: number;
  /** Retired (older credentials) or closed: connections coming back are closed, not kept. */
  retired: boolean;
}

type Connect = () => net.Socket;

/** How to reach one endpoint of one cluster: its pool key, TLS and connect function. */
interface Way {
  readonly key: string;
  readonly credentialsId: number;
  /** The mesh credentials the way was made with (mesh mTLS only). */
  readonly credentials: MeshCredentials | undefined;
  readonly secure: boolean;
  readonly connect: Connect;
  pool?: Pool;
}

class UpstreamConnection {
  uses = 0;
  private buffer: Buffer = EMPTY;
  private connected: boolean;
  /** In its pool between requests: any byte from the upstream now makes it unusable. */
  private idle = false;
  private onBytes: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly pool: Pool | undefined,
    readonly secure: boolean,
  ) {
    this.connected = !secure && !socket.connecting;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      if (this.onBytes !== undefined) this.onBytes();
      else if (this.idle) socket.destroy(); // bytes nobody asked for: not reusable
    });
    socket.on("end", () => {
      this.ended = true;
      this.onBytes?.();
    });
    socket.on("error", (error: Error) => {
      this.failure ??= error;
    });
    socket.on("close", () => {
      this.ended = true;
      if (this.pool !== undefined) removeIdle(this.pool, this);
      this.onBytes?.();
    });
    if (!this.connected) socket.once(secure ? "secureConnect" : "connect", () => (this.connected = true));
  }

  get reusable(): boolean {
    return !this.ended && !this.socket.destroyed;
  }

  /**
   * Writes one request and resolves with its response head; rejects with UpstreamFailure. `retryStale`
   * is called instead of rejecting when a reused connection turns out closed before any response byte.
   */
  exchange(request: Buffer, body: Buffer | null, method: string, target: UpstreamTarget, signal: CancelSignal, maxHeadBytes: number, retryStale: (() => void) | undefined, resolve: (r: RawResponse) => void, reject: (e: unknown) => void): void {
    const socket = this.socket;
    const reused = this.uses > 0;
    this.uses++;
    this.idle = false;
    let settled = false;
    const fail = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      this.onBytes = undefined;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error instanceof UpstreamFailure) return reject(error);
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (retryStale !== undefined && reused && this.buffer.length === 0 && (code === undefined || STALE_ERRORS.has(code)) && !signal.aborted) return retryStale();
      const beforeConnect = !this.connected && (this.secure || (code !== undefined && CONNECT_ERRORS.has(code)));
      reject(new UpstreamFailure(beforeConnect ? "connect-failure" : "reset", `${target.endpoint.address}:${target.endpoint.port}: ${error?.message ?? "connection closed"}`, { cause: error }));
    };
    const onAbort = () => fail(new UpstreamFailure("reset", "attempt aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const connectTimeout = target.connectTimeoutMs;
    if (!this.connected && connectTimeout !== undefined && connectTimeout > 0) {
      const timer = setTimeout(() => {
        if (!this.connected) fail(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
      }, connectTimeout);
      socket.once("close", () => clearTimeout(timer));
      socket.once(this.secure ? "secureConnect" : "connect", () => clearTimeout(timer));
    }
    this.onBytes = () => {
      if (settled) return;
      let offset = 0;
      for (;;) {
        const parsed = parseResponseHead(this.buffer, offset, maxHeadBytes, method);
        if (parsed.kind === "incomplete") {
          if (this.ended || this.socket.destroyed) fail(this.failure);
          return;
        }
        if (parsed.kind === "invalid") return fail(new Error(`bad response: ${parsed.reason}`));
        const head = parsed.head;
        if (head.status >= 100 && head.status < 200) {
          offset = head.end; // interim responses (100 Continue, 103 Early Hints) are not passed on
          continue;
        }
        settled = true;
        this.onBytes = undefined;
        signal.removeEventListener("abort", onAbort);
        const rest = this.buffer.subarray(head.end);
        this.buffer = EMPTY;
        const headers = new HeaderList();
        head.headers.forEach((value, name) => {
          if (!HOP_BY_HOP.has(name)) headers.append(name, value);
        });
        resolve(new RawResponse(head.status, head.reason, headers, head.framing, head.keepAlive, rest, this, target));
        return;
      }
    };
    if (body === null || body.length === 0) socket.write(request);
    else if (body.length < 16384) socket.write(Buffer.concat([request, body]));
    else {
      socket.write(request);
      socket.write(body);
    }
    if (this.buffer.length > 0 || this.ended || socket.destroyed) this.onBytes();
  }

  /** Streams the response body to `sink`; `done(bytes, complete)` once it ended or failed. */
  pipe(framing: BodyFraming, rest: Buffer, sink: BodySink, done: (bytes: number, complete: boolean) => void): void {
    const socket = this.socket;
    let bytes = 0;
    let remaining = framing.kind === "length" ? framing.length : 0;
    const scanner = framing.kind === "chunked" ? new ChunkedScanner() : undefined;
    let finished = false;
    const finish = (complete: boolean) => {
      if (finished) return;
      finished = true;
      this.onBytes = undefined;
      done(bytes, complete);
    };
    const take = (piece: Buffer): boolean => {
      // Returns true when the body is complete.
      let used = piece.length;
      if (remaining > 0) {
        used = Math.min(piece.length, remaining);
        remaining -= used;
      } else if (scanner !== undefined) {
        used = scanner.push(piece);
        if (used < 0) {
          socket.destroy();
          finish(false);
          return true;
        }
      }
      if (used < piece.length) socket.destroy(); // bytes past the response: the connection cannot be trusted
      const chunk = used === piece.length ? piece : piece.subarray(0, used);
      if (chunk.length > 0) {
        // A chunked body is passed on with its framing; its length is the payload alone.
        bytes = scanner !== undefined ? scanner.dataBytes : bytes + chunk.length;
        if (!sink.write(chunk) && !socket.destroyed) {
          socket.pause();
          sink.onDrain(() => socket.resume());
        }
      }
      return framing.kind === "length" ? remaining === 0 : scanner !== undefined ? scanner.done : false;
    };
    if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) return finish(true);
    if (rest.length > 0 && take(rest)) return finish(!finished);
    this.onBytes = () => {
      const piece = this.buffer;
      this.buffer = EMPTY;
      if (piece.length > 0 && take(piece)) return finish(true);
      if (this.ended || socket.destroyed) finish(framing.kind === "close" && !socket.errored);
    };
    if (this.ended || socket.destroyed) this.onBytes();
  }

  /** After a complete response: back to the pool, or closed. */
  release(reuse: boolean): void {
    const pool = this.pool;
    if (!reuse || pool === undefined || pool.retired || !this.reusable || pool.idle.length >= MAX_IDLE) {
      this.socket.destroy();
      return;
    }
    this.idle = true;
    pool.idle.push(this);
  }
}

function removeIdle(pool: Pool, connection: UpstreamConnection): void {
  const index = pool.idle.indexOf(connection);
  if (index >= 0) pool.idle.splice(index, 1);
}

/** An upstream response head (hop-by-hop fields removed) with its body still on the connection. */
export class RawResponse implements UpstreamResponseHead {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: HeaderList,
    readonly framing: BodyFraming,
    private readonly keepAlive: boolean,
    private readonly rest: Buffer,
    private readonly connection: UpstreamConnection,
    private readonly target: UpstreamTarget,
  ) {}

  /** Bytes of the body already read with the head. */
  get buffered(): Buffer {
    return this.rest;
  }

  /** Streams the body; `done(bytes, complete)` when it is over. Call once. */
  pipe(sink: BodySink, done: (bytes: number, complete: boolean) => void): void {
    const connection = this.connection;
    connection.pipe(this.framing, this.rest, sink, (bytes, complete) => {
      const max = this.target.maxRequestsPerConnection;
      connection.release(complete && this.keepAlive && this.framing.kind !== "close" && (max === 0 || connection.uses < max));
      done(bytes, complete);
    });
  }

  /** Drops the response (a retried attempt): its connection is closed. */
  discard(): void {
    this.connection.socket.destroy();
  }
}

export function createRawUpstreams(options: RawUpstreamsOptions): RawUpstreams {
  const { meshTls, ownPorts, podIp } = options;
  const maxHeadBytes = options.maxHeadBytes ?? 60 * 1024;
  const limited = limitedLog(options.log, options.logIntervalMs ?? 10_000);
  const warn = (key: string, event: Record<string, unknown>) => limited(key, { level: "warn", ...event });
  const checks = createUpstreamChecks({ meshTls, warn, ownPorts, podIp });
  const pools = new Map<string, Pool>();
  /** After close(): new connections serve one request each. */
  let closed = false;

  const poolFor = (key: string, credentialsId: number): Pool => {
    let pool = pools.get(key);
    if (pool !== undefined && pool.credentialsId !== credentialsId) {
      // Older credentials: idle connections close now, busy ones are not pooled again.
      pool.retired = true;
      for (const connection of pool.idle.splice(0)) connection.socket.destroy();
      pool = undefined;
    }
    if (pool === undefined) {
      pool = { idle: [], credentialsId, retired: closed };
      pools.set(key, pool);
    }
    return pool;
  };

  /** How to reach `target`, or an UpstreamFailure. */
  const route = (target: UpstreamTarget): Way | UpstreamFailure => {
    const own = checks.refuseOwn(target);
    if (own !== undefined) return own;
    const endpoint = target.endpoint;
    const host = endpoint.address;
    const port = endpoint.port;
    const decision = upstreamTls(target);
    switch (decision.kind) {
      case "plain":
        return { key: `p|${host}:${port}`, credentialsId: 0, credentials: undefined, secure: false, connect: () => net.connect({ host, port, noDelay: true }) };
      case "unsupported":
        return checks.unsupported(target, decision.reason);
      case "simple": {
        const expected = decision.expected;
        const tlsOptions: tls.ConnectionOptions = { host, port, rejectUnauthorized: true, minVersion: "TLSv1.2" };
        if (decision.servername !== undefined) tlsOptions.servername = decision.servername;
        if (expected !== undefined) tlsOptions.checkServerIdentity = subjectAltNamesCheck(expected);
        return { key: `s|${host}:${port}|${decision.servername ?? ""}|${expected?.join(",") ?? ""}`, credentialsId: 0, credentials: undefined, secure: true, connect: () => tls.connect(tlsOptions) };
      }
      case "mesh": {
        const creds = checks.meshCredentials();
        if (creds instanceof UpstreamFailure) return creds;
        const tlsOptions = meshTls.clientOptions(creds, { servername: decision.servername, expected: decision.expected, alpn: ISTIO_HTTP_ALPN });
        return {
          key: `m|${host}:${port}|${decision.servername ?? ""}|${decision.expected?.join(",") ?? ""}`,
          credentialsId: creds.id,
          credentials: creds,
          secure: true,
          connect: () => tls.connect({ ...tlsOptions, host, port } as tls.ConnectionOptions),
        };
      }
    }
  };

  /** Ways by endpoint and cluster, made again when the mesh credentials change. */
  const ways = new WeakMap<Endpoint, { cluster: Cluster; way: Way }>();
  const wayTo = (target: UpstreamTarget): Way | UpstreamFailure => {
    const known = ways.get(target.endpoint);
    if (known !== undefined && known.cluster === target.cluster && (known.way.credentials === undefined || known.way.credentials === currentCredentials())) return known.way;
    const way = route(target);
    if (!(way instanceof UpstreamFailure)) ways.set(target.endpoint, { cluster: target.cluster, way });
    return way;
  };
  const currentCredentials = (): MeshCredentials | undefined => {
    try {
      return meshTls.credentials();
    } catch {
      return undefined;
    }
  };

  const attempt = (plan: ForwardPlan, head: Buffer, body: Buffer | null, target: UpstreamTarget, signal: CancelSignal): Promise<RawResponse> =>
    new Promise<RawResponse>((resolve, reject) => {
      const way = wayTo(target);
      if (way instanceof UpstreamFailure) return reject(way);
      const single = target.maxRequestsPerConnection === 1;
      let pool: Pool | undefined;
      if (!single) {
        pool = way.pool;
        if (pool === undefined || pool.retired) way.pool = pool = poolFor(way.key, way.credentialsId);
      }
      const start = (allowStale: boolean) => {
        let connection: UpstreamConnection | undefined;
        while (allowStale && pool !== undefined && pool.idle.length > 0) {
          const candidate = pool.idle.pop() as UpstreamConnection;
          if (candidate.reusable) {
            connection = candidate;
            break;
          }
        }
        connection ??= new UpstreamConnection(way.connect(), pool, way.secure);
        const mayResend = allowStale && (body === null || body.length === 0) && IDEMPOTENT.has(plan.method);
        const onReject = (error: unknown) => {
          if (way.secure) checks.noteTlsFailure(error, target);
          reject(error);
        };
        connection.exchange(head, body, plan.method, target, signal, maxHeadBytes, mayResend ? () => start(false) : undefined, resolve, onReject);
      };
      start(true);
    });

  return {
    sender(plan, body) {
      // Each form is made when an attempt first needs it, and kept for retries.
      let keepAlive: Buffer | undefined;
      let last: Buffer | undefined;
      const headFor = (close: boolean): Buffer => (close ? (last ??= requestHead(plan, body, true)) : (keepAlive ??= requestHead(plan, body, false)));
      return {
        replayable: true,
        send: (target, signal) => attempt(plan, headFor(target.maxRequestsPerConnection === 1), body, target, signal),
        discard: (response) => response.discard(),
      };
    },
    close() {
      closed = true;
      for (const pool of pools.values()) {
        pool.retired = true;
        for (const connection of pool.idle.splice(0)) connection.socket.destroy();
      }
      pools.clear();
    },
  };
}

/** Request fields never sent upstream: hop-by-hop ones, and Set-Cookie (a response field), as send-http leaves them out. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "set-cookie"]);

/** The upstream request head: a keep-alive request, or (`close`) the connection's last one. */
function requestHead(plan: ForwardPlan, body: Buffer | null, close: boolean): Buffer {
  const extra: string[] = [];
  if (body !== null && body.length > 0 && !plan.headers.has("content-length")) extra.push("content-length", String(body.length));
  if (close) extra.push("connection", "close");
  return serializeHead(`${plan.method} ${plan.pathAndQuery} HTTP/1.1`, plan.headers, NOT_FORWARDED, extra);
}
