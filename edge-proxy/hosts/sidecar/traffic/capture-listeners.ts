/**
 * @module hosts/sidecar/traffic/capture-listeners
 * The sidecar's two capture listeners, where weft-iptables REDIRECTs the Pod's TCP traffic (Envoy's
 * virtualOutbound 15001 and virtualInbound 15006). Every accepted connection:
 *
 * 1. learns its original destination (SO_ORIGINAL_DST); none, or one of the sidecar's own ports on a
 *    local address (a capture loop), closes the connection with a log line;
 * 2. is sniffed (sniff, detect-protocol), its first bytes kept for whoever handles it;
 * 3. outbound: an HTTP/1 request line goes to `proxy.outbound` (routing, then the mesh sender; hosts
 *    the config does not know go to the original destination), anything else (an application's own
 *    TLS, a database protocol) is piped as TCP to the original destination — over mutual TLS when
 *    that destination is a mesh endpoint of the config (mesh-endpoints);
 * 4. inbound: a TLS ClientHello offering Istio's ALPN (any TLS at all under STRICT) is terminated with
 *    our certificate, requiring a client certificate of the mesh (tls-termination); other TLS is the
 *    application's own and passes through as bytes, as do all bytes under DISABLE. Plain text is
 *    refused under STRICT (the port's PeerAuthentication mode, PERMISSIVE without config). HTTP then
 *    goes to `proxy.inbound` with what the connection proves (mTLS, SPIFFE ID, serial, SNI), anything
 *    else to 127.0.0.1:<port> after the TCP authorization check (tcp-authorization).
 *
 * Before the first config (`proxy()` undefined), HTTP is answered 503 `no config yet`; TCP still passes.
 * Connections are kept alive on both sides; `drain` stops accepting, lets requests in flight finish
 * (closing idle keep-alive connections at once, busy ones after their response) and destroys what is
 * left when the time is up.
 */
import type http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { ProxyConfig } from "../../../core/config/proxy-config.js";
import type { Proxy } from "../../../core/proxy/proxy.js";
import type { PeerInfo } from "../../../core/security/types.js";
import { toWebRequest, writeWebResponse } from "../../node/serve-http.js";
import type { MeshTlsSource, SidecarLog } from "../sidecar-contracts.js";
import { applyClientCertHeader, clientCertElement } from "./client-cert-header.js";
import { detectHttp, detectInbound, type InboundProtocol, type PlainProtocol } from "./detect-protocol.js";
import { createFastHttp } from "./fast-http.js";
import { createHttpHandoff } from "./http-handoff.js";
import { limitedLog } from "./limited-log.js";
import { meshTcpTarget } from "./mesh-endpoints.js";
import { createMeshTls, ISTIO_TCP_ALPN, offersIstioAlpn, type MeshCredentials, type MeshTls } from "./mesh-tls.js";
import { originalDestination as kernelOriginalDestination, type OriginalDestination } from "./original-destination.js";
import { isOwnDestination, unmapIpv4 } from "./own-destination.js";
import { createRawUpstreams, type RawUpstreams } from "./raw-upstreams.js";
import { sniff, type Sniffed } from "./sniff.js";
import { authorizeTcp, inboundMtlsMode } from "./tcp-authorization.js";
import { connectPlain, passTcp } from "./tcp-passthrough.js";
import { createTlsTermination } from "./tls-termination.js";

export interface CaptureListenersOptions {
  /** Default 15001. 0 picks a free port (tests); see `ports()`. */
  outboundPort?: number;
  /** Default 15006. */
  inboundPort?: number;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  /** The Pod's IP: a local address for the loop guard. */
  podIp: string;
  /** The sidecar's own ports: a connection originally for one of them on a local address is a loop. */
  ownPorts: ReadonlySet<number>;
  /** The proxy core once a config is applied. */
  proxy(): Proxy | undefined;
  tls: MeshTlsSource;
  log: SidecarLog;
  /** Where an accepted connection was going. Default: the SO_ORIGINAL_DST addon. */
  originalDestination?(socket: net.Socket): OriginalDestination | undefined;
  /** Shared with the mesh sender (one set of TLS contexts). Default: made from `tls`. */
  meshTls?: MeshTls;
  /** How long to wait for a client's first bytes before taking the connection as TCP (server-first protocols). Default 1000 ms. */
  protocolDetectionTimeoutMs?: number;
  /** Default 10 s. */
  tlsHandshakeTimeoutMs?: number;
  /** Idle keep-alive connections close after this. Default one hour (Envoy's idle_timeout). */
  keepAliveTimeoutMs?: number;
  /** A repeated per-connection warning (same event, port, source and reason) is written at most once per this many ms. Default 10 s; 0 writes all. */
  logIntervalMs?: number;
  /**
   * HTTP/1.1 through the fast path (fast-http: the core's plans over raw sockets, node:http and the web
   * pipeline only for what it does not take). Default true; false serves all HTTP with node:http.
   */
  fastPath?: boolean;
  /** The fast path's upstream connections. Default: made from `meshTls`. */
  upstreams?: RawUpstreams;
}

export interface CaptureListeners {
  listen(): Promise<void>;
  /** Stops accepting, lets requests in flight finish; resolves when every connection is gone or at the timeout, then destroys the rest. */
  drain(timeoutMs: number): Promise<void>;
  /** Stops at once: listeners closed, every connection destroyed. */
  close(): void;
  /** Accepted connections still open. */
  connections(): number;
  /** The ports listened on (after `listen`). */
  ports(): { outbound: number; inbound: number };
}

interface OutboundConnection {
  destination: OriginalDestination;
  peer: PeerInfo;
}

interface InboundConnection {
  peer: PeerInfo;
  /** This hop's X-Forwarded-Client-Cert element (mutual TLS only). */
  clientCert?: string;
}

interface PendingTls {
  destination: OriginalDestination;
  peer: PeerInfo;
  credentials: MeshCredentials;
}

const NO_CONFIG_BODY = "no config yet";
/** The core gets the client's signal through its context; a signal on the Request would cost without use. */
const NO_REQUEST_SIGNAL = { requestSignal: false } as const;
/** Bytes to read at most while detecting (a whole TLS record fits). */
const SNIFF_MAX_BYTES = 5 + 16384 + 2048;

export function createCaptureListeners(options: CaptureListenersOptions): CaptureListeners {
  const { log, ownPorts, podIp } = options;
  const limited = limitedLog(log, options.logIntervalMs ?? 10_000);
  /** A warning about one connection, rate-limited per event and `key` (port, source, reason, ...). */
  const warn = (event: Record<string, unknown>, ...key: unknown[]) => limited([event.event, ...key].join("|"), { level: "warn", ...event });
  const readDestination = options.originalDestination ?? kernelOriginalDestination;
  const meshTls = options.meshTls ?? createMeshTls(options.tls);
  const sniffOptions = { timeoutMs: options.protocolDetectionTimeoutMs ?? 1000, maxBytes: SNIFF_MAX_BYTES };
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  let boundPorts = { outbound: options.outboundPort ?? 15001, inbound: options.inboundPort ?? 15006 };
  let allClosed: (() => void) | undefined;

  const config = (): ProxyConfig | undefined => options.proxy()?.config;
  const swallow = () => {};
  /** Our certificate and roots for a new mutual TLS connection; unusable PEM is logged (rate-limited) and gives none. */
  const currentCredentials = (): MeshCredentials | undefined => {
    try {
      return meshTls.credentials();
    } catch (error) {
      limited(`credentials|${(error as Error).message}`, { level: "error", event: "mesh_tls_credentials_unusable", error: (error as Error).message });
      return undefined;
    }
  };

  const noConfig = (outgoing: http.ServerResponse) => {
    outgoing.writeHead(503, { "content-type": "text/plain", "content-length": String(NO_CONFIG_BODY.length) });
    outgoing.end(NO_CONFIG_BODY);
  };

  const outboundHttp = createHttpHandoff<OutboundConnection>({
    ...(options.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: options.keepAliveTimeoutMs } : {}),
    async handle(incoming, outgoing, connection) {
      const proxy = options.proxy();
      if (proxy === undefined) return noConfig(outgoing);
      const { request, signal } = toWebRequest(incoming, "http", NO_REQUEST_SIGNAL);
      const response = await proxy.outbound(request, { port: connection.destination.port, peer: connection.peer, signal, originalDestination: connection.destination });
      await writeWebResponse(response, outgoing);
    },
    onError: (error, connection) => log({ level: "error", event: "outbound_request_failed", destination: `${connection.destination.address}:${connection.destination.port}`, error: String(error) }),
  });

  const inboundHttp = createHttpHandoff<InboundConnection>({
    ...(options.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: options.keepAliveTimeoutMs } : {}),
    async handle(incoming, outgoing, connection) {
      const proxy = options.proxy();
      if (proxy === undefined) return noConfig(outgoing);
      const { request, signal } = toWebRequest(incoming, "http", NO_REQUEST_SIGNAL);
      applyClientCertHeader(request.headers, connection.clientCert);
      const response = await proxy.inbound(request, { peer: connection.peer, signal });
      await writeWebResponse(response, outgoing);
    },
    onError: (error, connection) => log({ level: "error", event: "inbound_request_failed", port: connection.peer.port, error: String(error) }),
  });

  const upstreams = options.upstreams ?? createRawUpstreams({ meshTls, log, ownPorts, podIp, ...(options.logIntervalMs !== undefined ? { logIntervalMs: options.logIntervalMs } : {}) });
  const fastOptions = { upstreams, ...(options.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: options.keepAliveTimeoutMs } : {}) };
  const fastOutbound = createFastHttp<OutboundConnection>({
    ...fastOptions,
    plan: (head, connection) => options.proxy()?.planOutbound(head, { port: connection.destination.port, peer: connection.peer, originalDestination: connection.destination }),
    fallback: (socket, buffered, connection) => outboundHttp.accept(socket, buffered, connection),
    onError: (error, connection) => log({ level: "error", event: "outbound_request_failed", destination: `${connection.destination.address}:${connection.destination.port}`, error: String(error) }),
  });
  const fastInbound = createFastHttp<InboundConnection>({
    ...fastOptions,
    plan(head, connection) {
      const proxy = options.proxy();
      if (proxy === undefined) return undefined;
      applyClientCertHeader(head.headers, connection.clientCert);
      return proxy.planInbound(head, { peer: connection.peer });
    },
    fallback: (socket, buffered, connection) => inboundHttp.accept(socket, buffered, connection),
    onError: (error, connection) => log({ level: "error", event: "inbound_request_failed", port: connection.peer.port, error: String(error) }),
  });
  const fastPath = options.fastPath !== false;
  /** HTTP on an accepted connection: the fast path, which hands what it does not take to node:http. */
  const serveOutbound = fastPath ? fastOutbound : outboundHttp;
  const serveInbound = fastPath ? fastInbound : inboundHttp;

  /** Inbound bytes that are not HTTP (or not terminated here): checked, then piped to the application. */
  const inboundTcp = (client: net.Socket, sniffed: Sniffed<unknown>, peer: PeerInfo) => {
    const current = config();
    const decision = authorizeTcp(current, peer);
    if (!decision.allowed) {
      warn({ event: "inbound_tcp_denied", port: peer.port, source: peer.sourceIp, ...(peer.spiffeId !== undefined ? { peer: peer.spiffeId } : {}), details: decision.details }, peer.port, peer.sourceIp, decision.details);
      client.destroy();
      return;
    }
    const port = current?.inbound?.ports.find((p) => p.port === peer.port)?.targetPort ?? peer.port;
    passTcp({
      client,
      head: sniffed.head,
      clientEnded: sniffed.ended,
      connect: () => connectPlain("127.0.0.1", port),
      onClose: ({ error, connected }) => {
        if (error !== undefined && !connected) warn({ event: "inbound_tcp_connect_failed", port, error: error.message }, port, error.message);
      },
    });
  };

  const termination = createTlsTermination<PendingTls>(
    meshTls,
    {
      secure(socket: tls.TLSSocket, identity, certificate, pending) {
        socket.on("error", swallow);
        const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
        const peer: PeerInfo = { ...pending.peer, mtls: true, spiffeId: identity.spiffeId, certificateSerial: identity.serial, ...(typeof servername === "string" && servername !== "" ? { sni: servername } : {}) };
        void sniff<PlainProtocol>(socket, detectHttp, sniffOptions).then((sniffed) => {
          if (sniffed === undefined) return void socket.destroy();
          if (sniffed.verdict === "http" && !sniffed.ended) serveInbound.accept(socket, sniffed.head, { peer, clientCert: clientCertElement(pending.credentials.spiffeId, certificate, identity.spiffeId) });
          else inboundTcp(socket, sniffed, peer);
        });
      },
      refused(reason, pending) {
        warn({ event: "inbound_tls_refused", port: pending.destination.port, source: pending.peer.sourceIp, reason }, pending.destination.port, pending.peer.sourceIp, reason);
      },
    },
    options.tlsHandshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.tlsHandshakeTimeoutMs } : {},
  );

  const outbound = async (socket: net.Socket, destination: OriginalDestination, sourceIp: string) => {
    const sniffed = await sniff<PlainProtocol>(socket, detectHttp, sniffOptions);
    if (sniffed === undefined) return void socket.destroy();
    if (sniffed.verdict === "http" && !sniffed.ended) {
      serveOutbound.accept(socket, sniffed.head, { destination, peer: { port: destination.port, mtls: false, sourceIp } });
      return;
    }
    const mesh = meshTcpTarget(config(), destination.address, destination.port);
    let connect = () => connectPlain(destination.address, destination.port);
    if (mesh !== undefined) {
      // A mesh endpoint: the bytes go over mutual TLS (Istio ALPN for TCP), as the peer's STRICT mode expects.
      const credentials = currentCredentials();
      if (credentials === undefined) {
        warn({ event: "outbound_tcp_connect_failed", destination: `${destination.address}:${destination.port}`, error: "mesh TLS: no workload certificate or trust roots yet" }, destination.address, destination.port, "no certificate");
        return void socket.destroy();
      }
      const tlsOptions = meshTls.clientOptions(credentials, { servername: mesh.tls.servername, expected: mesh.tls.expected, alpn: ISTIO_TCP_ALPN });
      connect = () => tls.connect({ ...tlsOptions, host: destination.address, port: destination.port, allowHalfOpen: true } as tls.ConnectionOptions);
    }
    passTcp({
      client: socket,
      head: sniffed.head,
      clientEnded: sniffed.ended,
      connect,
      secure: mesh !== undefined,
      onClose: ({ error, connected }) => {
        if (error !== undefined && !connected) warn({ event: "outbound_tcp_connect_failed", destination: `${destination.address}:${destination.port}`, ...(mesh !== undefined ? { cluster: mesh.target.cluster.name, mtls: true } : {}), error: error.message }, destination.address, destination.port, error.message);
      },
    });
  };

  const inbound = async (socket: net.Socket, destination: OriginalDestination, sourceIp: string) => {
    const sniffed = await sniff<InboundProtocol>(socket, detectInbound, sniffOptions);
    if (sniffed === undefined) return void socket.destroy();
    const mode = inboundMtlsMode(config(), destination.port);
    const verdict = sniffed.verdict;
    const peer: PeerInfo = { port: destination.port, mtls: false, sourceIp, destinationIp: destination.address };
    if (verdict.kind === "tls" && !sniffed.ended && mode !== "DISABLE" && (mode === "STRICT" || verdict.hello === undefined || offersIstioAlpn(verdict.hello.alpn))) {
      const credentials = currentCredentials();
      if (credentials === undefined) {
        warn({ event: "inbound_tls_refused", port: destination.port, source: sourceIp, reason: "no workload certificate or trust roots yet" }, destination.port, sourceIp, "no certificate");
        return void socket.destroy();
      }
      termination.accept(socket, sniffed.head, credentials, { destination, peer, credentials });
      return;
    }
    if (mode === "STRICT") {
      warn({ event: "inbound_plaintext_refused", port: destination.port, source: sourceIp, mode }, destination.port, sourceIp);
      return void socket.destroy();
    }
    if (verdict.kind === "http" && !sniffed.ended) return void serveInbound.accept(socket, sniffed.head, { peer });
    // An application's own TLS (no Istio ALPN) or any bytes under DISABLE reach it untouched.
    if (verdict.kind === "tls" && verdict.hello?.serverName !== undefined) peer.sni = verdict.hello.serverName;
    inboundTcp(socket, sniffed, peer);
  };

  const accept = (direction: "outbound" | "inbound") => (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("error", swallow);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) allClosed?.();
    });
    socket.setNoDelay(true);
    let destination: OriginalDestination | undefined;
    try {
      destination = readDestination(socket);
    } catch (error) {
      limited(`original_destination_failed|${direction}|${(error as Error).message}`, { level: "error", event: "original_destination_failed", listener: direction, source: socket.remoteAddress, error: (error as Error).message });
      return void socket.destroy();
    }
    if (destination === undefined) {
      warn({ event: "no_original_destination", listener: direction, source: socket.remoteAddress }, direction, socket.remoteAddress);
      return void socket.destroy();
    }
    if (isOwnDestination(destination.address, destination.port, ownPorts, podIp)) {
      warn({ event: "capture_loop_refused", listener: direction, destination: `${destination.address}:${destination.port}`, source: socket.remoteAddress }, direction, destination.address, destination.port);
      return void socket.destroy();
    }
    const sourceIp = unmapIpv4(socket.remoteAddress ?? "");
    const handled = direction === "outbound" ? outbound(socket, destination, sourceIp) : inbound(socket, destination, sourceIp);
    handled.catch((error: unknown) => {
      log({ level: "error", event: "capture_connection_failed", listener: direction, error: String(error) });
      socket.destroy();
    });
  };

  const listenOn = (port: number, direction: "outbound" | "inbound") =>
    new Promise<number>((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, accept(direction));
      server.once("error", (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${options.bindAddress ?? "0.0.0.0"}:${port} (${direction} capture): ${error.message}`, { cause: error })));
      server.listen({ port, host: options.bindAddress ?? "0.0.0.0" }, () => {
        servers.push(server);
        resolve((server.address() as net.AddressInfo).port);
      });
    });

  const stopAccepting = () => {
    for (const server of servers) server.close();
    servers.length = 0;
  };

  return {
    async listen() {
      const [outboundPort, inboundPort] = await Promise.all([listenOn(boundPorts.outbound, "outbound"), listenOn(boundPorts.inbound, "inbound")]);
      boundPorts = { outbound: outboundPort, inbound: inboundPort };
    },
    async drain(timeoutMs) {
      stopAccepting();
      fastOutbound.drain();
      fastInbound.drain();
      outboundHttp.drain();
      inboundHttp.drain();
      if (sockets.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          allClosed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      allClosed = undefined;
      for (const socket of sockets) socket.destroy();
      // The fast path's upstream pools: idle connections would keep the process alive after the drain.
      if (options.upstreams === undefined) upstreams.close();
    },
    close() {
      stopAccepting();
      fastOutbound.close();
      fastInbound.close();
      if (options.upstreams === undefined) upstreams.close();
      outboundHttp.close();
      inboundHttp.close();
      for (const socket of sockets) socket.destroy();
    },
    connections: () => sockets.size,
    ports: () => ({ ...boundPorts }),
  };
}
