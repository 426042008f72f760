/**
 * @module hosts/sidecar/traffic/mesh-sender
 * The sidecar's ProxyHost.send: one attempt to one endpoint, in plain text or TLS as upstream-tls
 * decides (mesh mutual TLS for ISTIO_MUTUAL clusters and auto-mTLS endpoints, plain text for the local
 * application and the PassthroughCluster, TLS origination against the system CAs for SIMPLE; MUTUAL
 * origination is refused, its client credentials are not in the config). Attempts go through
 * send-http's `sendAttempt`, so failures
 * map to the core's UpstreamFailure kinds the same way (a failed TLS handshake, a refused peer
 * identity, a missing workload certificate are `connect-failure`).
 *
 * Connections are kept alive: plain ones in one agent per endpoint; mutual TLS ones in one https.Agent
 * per endpoint, SNI, expected identities and credentials, so a rotated certificate (or new roots) is
 * used by the next new connection while requests in flight finish on the old one, whose pool then
 * closes its connections as they become idle. An endpoint that is one of the sidecar's own listener
 * ports on a local address is refused (it would loop through the capture listeners).
 */
import type http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { UpstreamFailure, type UpstreamTarget } from "../../../core/proxy/host.js";
import { createHttpSender, sendAttempt, type AttemptTransport } from "../../node/send-http.js";
import type { MeshTlsSource, SidecarLog } from "../sidecar-contracts.js";
import { createMeshTls, ISTIO_HTTP_ALPN, type MeshCredentials, type MeshTls } from "./mesh-tls.js";
import { limitedLog } from "./limited-log.js";
import { createUpstreamChecks, subjectAltNamesCheck } from "./upstream-checks.js";
import { upstreamTls, type UpstreamTls } from "./upstream-tls.js";

export interface MeshSenderOptions {
  tls: MeshTlsSource;
  log: SidecarLog;
  /** The sidecar's own listener ports: never an upstream on a local address. */
  ownPorts: ReadonlySet<number>;
  /** The Pod's IP, a local address too. */
  podIp?: string;
  /** Shared with the capture listeners, so both use one set of TLS contexts. Default: made from `tls`. */
  meshTls?: MeshTls;
  /** A repeated warning (same event and endpoint) is written at most once per this many ms. Default 10 s; 0 writes all. */
  logIntervalMs?: number;
}

export interface MeshSender {
  send(request: Request, target: UpstreamTarget): Promise<Response>;
  /** Closes every pooled connection. */
  close(): void;
}

/** A pool serving one endpoint with one identity setup, and the credentials it was made with. */
interface Pool {
  credentialsId: number;
  transport: AttemptTransport;
}


export function createMeshSender(options: MeshSenderOptions): MeshSender {
  const { log, ownPorts, podIp } = options;
  const meshTls = options.meshTls ?? createMeshTls(options.tls);
  const plain = createHttpSender();
  const pools = new Map<string, Pool>();
  const simplePools = new Map<string, AttemptTransport>();
  const limited = limitedLog(log, options.logIntervalMs ?? 10_000);
  const warn = (key: string, event: Record<string, unknown>) => limited(key, { level: "warn", ...event });
  const checks = createUpstreamChecks({ meshTls, warn, ownPorts, podIp });

  /** Stops a pool that older credentials made: idle connections close now, busy ones after their response. */
  const retire = (transport: AttemptTransport) => {
    const agent = transport.agent;
    if (agent === false) return;
    // node:http's Agent reads `keepAlive` when a socket comes back free: false destroys it instead of pooling it.
    (agent as http.Agent & { keepAlive: boolean }).keepAlive = false;
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  };

  const meshTransport = (target: UpstreamTarget, decision: Extract<UpstreamTls, { kind: "mesh" }>, creds: MeshCredentials): AttemptTransport => {
    const tlsTarget = { servername: decision.servername, expected: decision.expected, alpn: ISTIO_HTTP_ALPN };
    if (target.maxRequestsPerConnection === 1) return { request: https.request, agent: false, secure: true, options: meshTls.clientOptions(creds, tlsTarget) };
    const endpoint = target.endpoint;
    const key = `${endpoint.address}:${endpoint.port}|${decision.servername ?? ""}|${decision.expected?.join(",") ?? ""}`;
    const pool = pools.get(key);
    if (pool !== undefined && pool.credentialsId === creds.id) return pool.transport;
    if (pool !== undefined) retire(pool.transport);
    const tlsOptions = meshTls.clientOptions(creds, tlsTarget);
    const transport: AttemptTransport = { request: https.request, agent: new https.Agent({ ...tlsOptions, keepAlive: true, maxCachedSessions: 0 }), secure: true };
    pools.set(key, { credentialsId: creds.id, transport });
    return transport;
  };

  const simpleTransport = (target: UpstreamTarget, decision: Extract<UpstreamTls, { kind: "simple" }>): AttemptTransport => {
    const expected = decision.expected;
    const tlsOptions: tls.ConnectionOptions = { rejectUnauthorized: true, minVersion: "TLSv1.2" };
    if (decision.servername !== undefined) tlsOptions.servername = decision.servername;
    if (expected !== undefined) tlsOptions.checkServerIdentity = subjectAltNamesCheck(expected);
    if (target.maxRequestsPerConnection === 1) return { request: https.request, agent: false, secure: true, options: tlsOptions };
    const key = `${target.endpoint.address}:${target.endpoint.port}|${decision.servername ?? ""}|${expected?.join(",") ?? ""}`;
    let transport = simplePools.get(key);
    if (transport === undefined) {
      transport = { request: https.request, agent: new https.Agent({ ...tlsOptions, keepAlive: true }), secure: true };
      simplePools.set(key, transport);
    }
    return transport;
  };

  const send = (request: Request, target: UpstreamTarget): Promise<Response> => {
    const own = checks.refuseOwn(target);
    if (own !== undefined) return Promise.reject(own);
    const decision = upstreamTls(target);
    switch (decision.kind) {
      case "plain":
        return plain.send(request, target);
      case "simple":
        return sendAttempt(request, target, simpleTransport(target, decision)).catch((error: unknown) => noteTlsFailure(error, target));
      case "unsupported":
        return Promise.reject(checks.unsupported(target, decision.reason));
      case "mesh": {
        const creds = checks.meshCredentials();
        if (creds instanceof UpstreamFailure) return Promise.reject(creds);
        return sendAttempt(request, target, meshTransport(target, decision, creds)).catch((error: unknown) => noteTlsFailure(error, target));
      }
    }
  };

  /** Logs a refused peer identity (rate-limited) and passes the failure on. */
  const noteTlsFailure = (error: unknown, target: UpstreamTarget): never => {
    checks.noteTlsFailure(error, target);
    throw error;
  };

  return {
    send,
    close() {
      plain.close();
      for (const pool of pools.values()) if (pool.transport.agent) pool.transport.agent.destroy();
      for (const transport of simplePools.values()) if (transport.agent) transport.agent.destroy();
      pools.clear();
      simplePools.clear();
    },
  };
}
