/**
 * @module hosts/sidecar/traffic/tls-termination
 * Terminates the mesh's mutual TLS on an accepted inbound socket: a node:tls Server that never listens
 * is given each connection (`emit("connection")`, the sniffed ClientHello unshifted first; node:tls
 * reads a socket's buffered bytes before its own), with our current certificate (the server's context
 * is replaced when mesh-tls hands out new credentials, so new connections use a rotated certificate),
 * requiring a client certificate that chains to the trust roots. Once the handshake is done the peer
 * is checked as mesh-tls says (trust domain, revoked serials); a refused peer's connection is closed.
 *
 * Each connection's own context (the caller's `T`) is found again by the remote address and port,
 * which the TLS socket reports as the TCP socket under it does.
 */
import type net from "node:net";
import tls from "node:tls";
import { SERVER_TLS_OPTIONS, type MeshCredentials, type MeshTls } from "./mesh-tls.js";
import type { PeerIdentity } from "./peer-certificate.js";

export interface TlsTerminationHandlers<T> {
  /** The handshake succeeded and the peer is accepted: the TLS socket, paused. */
  secure(socket: tls.TLSSocket, identity: PeerIdentity, peerCertificate: tls.DetailedPeerCertificate, context: T): void;
  /** The handshake failed, or the peer was refused; the connection is already being closed. */
  refused(reason: string, context: T): void;
}

export interface TlsTermination<T> {
  /** Starts the server side of TLS on `socket` (paused, `head` read from it) with `credentials`. */
  accept(socket: net.Socket, head: Buffer, credentials: MeshCredentials, context: T): void;
}

const keyOf = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`;

export function createTlsTermination<T>(meshTls: MeshTls, handlers: TlsTerminationHandlers<T>, options: { handshakeTimeoutMs?: number } = {}): TlsTermination<T> {
  let server: tls.Server | undefined;
  let serverCredentials = 0;
  const pending = new Map<string, T>();

  const take = (socket: net.Socket): T | undefined => {
    const key = keyOf(socket);
    const context = pending.get(key);
    pending.delete(key);
    return context;
  };

  const serverFor = (credentials: MeshCredentials): tls.Server => {
    if (server === undefined) {
      server = tls.createServer({ ...credentials.options, ...SERVER_TLS_OPTIONS, handshakeTimeout: options.handshakeTimeoutMs ?? 10_000 });
      server.on("secureConnection", (socket: tls.TLSSocket) => {
        const context = take(socket);
        if (context === undefined) {
          socket.destroy();
          return;
        }
        const certificate = socket.getPeerCertificate(true);
        const check = meshTls.checkPeer(certificate);
        if (!check.ok) {
          socket.destroy();
          handlers.refused(check.reason, context);
          return;
        }
        socket.pause();
        handlers.secure(socket, check.identity, certificate, context);
      });
      server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
        const context = take(socket);
        socket.destroy();
        if (context !== undefined) handlers.refused(error.message, context);
      });
    } else if (serverCredentials !== credentials.id) {
      server.setSecureContext({ ...credentials.options });
    }
    serverCredentials = credentials.id;
    return server;
  };

  return {
    accept(socket, head, credentials, context) {
      const key = keyOf(socket);
      pending.set(key, context);
      socket.once("close", () => {
        // node:tls closes a client without a certificate, or with one the roots did not sign, silently.
        if (pending.get(key) !== context) return;
        pending.delete(key);
        handlers.refused("the connection closed before the TLS handshake completed (no client certificate, or one the mesh roots did not sign)", context);
      });
      if (head.length > 0) socket.unshift(head);
      serverFor(credentials).emit("connection", socket);
    },
  };
}
