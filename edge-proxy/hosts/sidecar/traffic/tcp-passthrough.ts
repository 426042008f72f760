/**
 * @module hosts/sidecar/traffic/tcp-passthrough
 * Istio's TCP proxying for a captured connection that is not HTTP: a new connection to the upstream
 * (the original destination, or the local application), the bytes already sniffed written first, then
 * both directions piped with backpressure. Half-closes pass through (a client that shuts down its
 * sending side still gets the answer), an error or reset on either side closes both, and a connection
 * idle in both directions for `idleTimeoutMs` (Envoy's TCP proxy default: one hour) is closed.
 */
import net from "node:net";

export interface TcpPassthroughOptions {
  /** The accepted (or TLS-terminated) client side, paused, its first bytes already read. */
  client: net.Socket;
  /** What was read from the client before the pipe: sent upstream first. */
  head: Buffer;
  /** The client already ended its side: after `head` the upstream gets an end too. */
  clientEnded: boolean;
  /** Opens the upstream connection (net.connect / tls.connect, with allowHalfOpen). */
  connect(): net.Socket;
  /** `connect` returns a TLS socket: it is up once the handshake is done. */
  secure?: boolean;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Called once, when both sides are closed; `error` when it ended by a failure (connect, reset, timeout). */
  onClose?(outcome: { error?: Error; connected: boolean; bytesFromClient: number; bytesToClient: number }): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** Starts piping; returns the upstream socket. */
export function passTcp(options: TcpPassthroughOptions): net.Socket {
  const { client, head } = options;
  const upstream = options.connect();
  let connected = false;
  let failure: Error | undefined;
  let closed = 0;
  let bytesFromClient = head.length;
  let bytesToClient = 0;

  const fail = (error: Error) => {
    failure ??= error;
    client.destroy();
    upstream.destroy();
  };
  const onClosed = () => {
    if (++closed < 2) return;
    options.onClose?.({ ...(failure !== undefined ? { error: failure } : {}), connected, bytesFromClient, bytesToClient });
  };

  upstream.setTimeout(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  upstream.once(options.secure === true ? "secureConnect" : "connect", () => {
    connected = true;
    const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    upstream.setTimeout(idle);
    client.setTimeout(idle);
  });
  const onTimeout = () => fail(new Error(connected ? "idle timeout" : "connect timeout"));
  upstream.on("timeout", onTimeout);
  client.on("timeout", onTimeout);
  upstream.on("error", fail);
  client.on("error", fail);
  // A side gone for good (not just half-closed) takes the other with it.
  upstream.once("close", () => {
    if (!client.destroyed && !(client.writableEnded && client.readableEnded)) {
      if (upstream.readableEnded) client.end();
      else client.destroy();
    }
    onClosed();
  });
  client.once("close", () => {
    if (!upstream.destroyed) upstream.destroy();
    onClosed();
  });

  client.on("data", (chunk: Buffer) => (bytesFromClient += chunk.length));
  upstream.on("data", (chunk: Buffer) => (bytesToClient += chunk.length));
  if (head.length > 0) upstream.write(head);
  if (options.clientEnded) upstream.end();
  else client.pipe(upstream);
  upstream.pipe(client);
  return upstream;
}

/** A plain TCP upstream with half-close kept open. */
export function connectPlain(host: string, port: number): net.Socket {
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
  return socket;
}
