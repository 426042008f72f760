// Loopback sidecars for the traffic tests: real capture listeners, mesh sender and proxy core, with
// the original destination injected (no iptables): each listener's answer is set by the test. Also the
// "applications" behind them (an HTTP echo app, a TCP echo, a server-first greeter, an app's own TLS
// server) and small HTTP/TCP clients that report exactly what came back.
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { PROXY_CONFIG_VERSION, type ProxyConfig } from "../../../../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../../../../edge-proxy/core/config/validate-proxy-config.js";
import type { Plan } from "../../../../../edge-proxy/core/proxy/head-plan.js";
import { createProxy, type InboundContext, type Proxy } from "../../../../../edge-proxy/core/proxy/proxy.js";
import type { PeerInfo } from "../../../../../edge-proxy/core/security/types.js";
import type { MeshTrust, WorkloadCertificate } from "../../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";
import { createCaptureListeners, type CaptureListeners, type CaptureListenersOptions } from "../../../../../edge-proxy/hosts/sidecar/traffic/capture-listeners.js";
import { createMeshSender, type MeshSender } from "../../../../../edge-proxy/hosts/sidecar/traffic/mesh-sender.js";
import { createMeshTls } from "../../../../../edge-proxy/hosts/sidecar/traffic/mesh-tls.js";
import type { OriginalDestination } from "../../../../../edge-proxy/hosts/sidecar/traffic/original-destination.js";
import { switchableTls, type SwitchableTls } from "./mesh-pki.js";

export const SERVER_HOST = "server.default.svc.cluster.local";
export const SERVER_CLUSTER = `outbound|80||${SERVER_HOST}`;

export interface TestSidecar {
  readonly ports: { outbound: number; inbound: number };
  readonly listeners: CaptureListeners;
  readonly sender: MeshSender;
  readonly tls: SwitchableTls;
  readonly logs: Record<string, unknown>[];
  /** The PeerInfo of every request the inbound side handed the core. */
  readonly peers: PeerInfo[];
  /** What the injected SO_ORIGINAL_DST answers for each listener. */
  readonly destination: { outbound: OriginalDestination | undefined; inbound: OriginalDestination | undefined };
  readonly ownPorts: Set<number>;
  /** The proxy core; `setConfigured(false)` makes the listeners see none. */
  readonly proxy: Proxy;
  setConfigured(configured: boolean): void;
  update(config: ProxyConfig): void;
  close(): Promise<void>;
}

export interface SidecarSetup {
  config: ProxyConfig;
  certificate: WorkloadCertificate | undefined;
  trust: MeshTrust | undefined;
  protocolDetectionTimeoutMs?: number;
}

function valid(config: ProxyConfig): ProxyConfig {
  const checked = validateProxyConfig(config);
  if (!checked.ok) throw new Error(`test config is invalid: ${JSON.stringify(checked.errors)}`);
  return config;
}

/** Hooks called as each of the core's pipelines is entered; `plan*` ones get the plan, or undefined when there is none. */
export interface ProxyHooks {
  outbound?(): void;
  inbound?(context: InboundContext): void;
  planOutbound?(plan: Plan | undefined): void;
  planInbound?(plan: Plan | undefined, context: InboundContext): void;
}

/** The core as the listeners see it, with `hooks` told which pipeline took each request. */
export function observeProxy(core: Proxy, hooks: ProxyHooks): Proxy {
  return {
    get config() {
      return core.config;
    },
    metrics: core.metrics,
    outbound: (request, context) => {
      hooks.outbound?.();
      return core.outbound(request, context);
    },
    inbound: (request, context) => {
      hooks.inbound?.(context);
      return core.inbound(request, context);
    },
    gateway: (request, context) => core.gateway(request, context),
    planOutbound: (head, context) => {
      const plan = core.planOutbound(head, context);
      hooks.planOutbound?.(plan);
      return plan;
    },
    planInbound: (head, context) => {
      const plan = core.planInbound(head, context);
      hooks.planInbound?.(plan, context);
      return plan;
    },
    update: (config) => core.update(config),
    upstream: (name) => core.upstream(name),
  };
}

/** What loopbackListeners needs besides the listeners' own options. */
export type LoopbackListenersOptions = Pick<CaptureListenersOptions, "proxy" | "tls" | "log" | "meshTls"> & Partial<CaptureListenersOptions> & { ownPorts: Set<number> };

/**
 * Capture listeners on free loopback ports, with the original destination injected (no iptables): what
 * SO_ORIGINAL_DST answers for each listener is `destination.outbound` / `.inbound`, set by the test. Their
 * ports are added to `ownPorts`.
 */
export async function loopbackListeners(options: LoopbackListenersOptions): Promise<{ listeners: CaptureListeners; ports: { outbound: number; inbound: number }; destination: TestSidecar["destination"] }> {
  const destination: TestSidecar["destination"] = { outbound: undefined, inbound: undefined };
  let ports = { outbound: 0, inbound: 0 };
  const listeners = createCaptureListeners({
    outboundPort: 0,
    inboundPort: 0,
    bindAddress: "127.0.0.1",
    podIp: "127.0.0.1",
    logIntervalMs: 0,
    originalDestination: (socket) => (socket.localPort === ports.outbound ? destination.outbound : destination.inbound),
    ...options,
  });
  await listeners.listen();
  ports = listeners.ports();
  options.ownPorts.add(ports.outbound).add(ports.inbound);
  return { listeners, ports, destination };
}

export async function startSidecar(setup: SidecarSetup): Promise<TestSidecar> {
  const logs: Record<string, unknown>[] = [];
  const log = (event: Record<string, unknown>) => void logs.push(event);
  const source = switchableTls(setup.certificate, setup.trust);
  const meshTls = createMeshTls(source);
  const ownPorts = new Set<number>();
  const sender = createMeshSender({ tls: source, log, ownPorts, podIp: "127.0.0.1", meshTls, logIntervalMs: 0 });
  const core = createProxy(valid(setup.config), { send: sender.send });
  const peers: PeerInfo[] = [];
  let configured = true;
  // The core as the listeners see it, recording what the inbound side is told about each peer (once: a
  // request without a plan comes back through inbound()).
  const observed = observeProxy(core, {
    inbound: (context) => void peers.push(context.peer),
    planInbound: (plan, context) => void (plan !== undefined && peers.push(context.peer)),
  });
  const { listeners, ports, destination } = await loopbackListeners({
    ownPorts,
    proxy: () => (configured ? observed : undefined),
    tls: source,
    log,
    meshTls,
    ...(setup.protocolDetectionTimeoutMs !== undefined ? { protocolDetectionTimeoutMs: setup.protocolDetectionTimeoutMs } : {}),
  });
  return {
    ports,
    listeners,
    sender,
    tls: source,
    logs,
    peers,
    destination,
    ownPorts,
    proxy: core,
    setConfigured: (value) => (configured = value),
    update: (config) => core.update(valid(config)),
    async close() {
      listeners.close();
      sender.close();
    },
  };
}

/** The client sidecar's config: `server.default.svc.cluster.local:80` → one endpoint (the server sidecar's inbound listener). */
export function clientConfig(trust: MeshTrust, endpointPort: number, policy: Partial<ProxyConfig["clusters"][number]["policy"]> = {}, labels: Record<string, string> = { "security.istio.io/tlsMode": "istio" }): ProxyConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "client" }, gateways: ["mesh"], serviceAccount: "client" },
    listeners: [
      {
        port: 80,
        virtualHosts: [{ name: "default/server", domains: [SERVER_HOST, "server"], routes: [{ name: "default", match: [], action: { kind: "route", destinations: [{ cluster: SERVER_CLUSTER, weight: 100 }] } }] }],
      },
    ],
    clusters: [{ name: SERVER_CLUSTER, host: SERVER_HOST, port: 80, endpoints: [{ address: "127.0.0.1", port: endpointPort, labels }], policy: { loadBalancer: { kind: "ROUND_ROBIN" }, ...policy } }],
    trust: { trustDomain: trust.trustDomain, roots: [...trust.roots], revokedSerials: [...trust.revokedSerials] },
  };
}

/** The server sidecar's config: its application's ports and the PeerAuthentication mode. */
export function serverConfig(trust: MeshTrust, appPorts: number[], mode: "STRICT" | "PERMISSIVE" | "DISABLE", portLevel?: Record<string, "STRICT" | "PERMISSIVE" | "DISABLE">): ProxyConfig {
  return {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "server" }, gateways: ["mesh"], serviceAccount: "server" },
    listeners: [],
    clusters: [],
    inbound: {
      ports: appPorts.map((port) => ({ port, targetPort: port })),
      peerAuthentication: { mode, ...(portLevel !== undefined ? { portLevel } : {}) },
      jwtRules: [],
      authorizationPolicies: [],
    },
    trust: { trustDomain: trust.trustDomain, roots: [...trust.roots], revokedSerials: [...trust.revokedSerials] },
  };
}

// ------------------------------------------------------------------------------------------------
// Applications

export interface AppRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyLength: number;
  bodySha256: string;
}

export interface App {
  port: number;
  requests: AppRequest[];
  close(): Promise<void>;
}

/**
 * HTTP echo application: answers JSON describing the request (method, url, headers, body length and
 * SHA-256). `/slow?ms=N` answers after N ms; `/big?bytes=N` answers N bytes (byte i = i % 251).
 */
export async function startHttpApp(): Promise<App> {
  const requests: AppRequest[] = [];
  const server = http.createServer((incoming, outgoing) => {
    const hash = createHash("sha256");
    let length = 0;
    incoming.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    incoming.on("end", () => {
      const record: AppRequest = { method: incoming.method ?? "", url: incoming.url ?? "", headers: incoming.headers, bodyLength: length, bodySha256: hash.digest("hex") };
      requests.push(record);
      const url = new URL(incoming.url ?? "/", "http://app");
      if (url.pathname === "/big") {
        const bytes = patternBytes(Number(url.searchParams.get("bytes")));
        outgoing.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.length) });
        outgoing.end(bytes);
        return;
      }
      const delay = url.pathname === "/slow" ? Number(url.searchParams.get("ms")) : 0;
      setTimeout(() => {
        const json = JSON.stringify(record);
        outgoing.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(json)) });
        outgoing.end(json);
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function patternBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

/** A TCP application: echoes every byte back and ends when the client ends; `greeting` is sent first, unasked (a server-first protocol). */
export async function startTcpApp(greeting?: string): Promise<App & { connections: number }> {
  const app = {
    port: 0,
    requests: [] as AppRequest[],
    connections: 0,
    close: async () => {},
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    app.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (greeting !== undefined) socket.write(greeting);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  app.port = (server.address() as net.AddressInfo).port;
  app.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return app;
}

/** An application serving its own TLS (not the mesh's): echoes the decrypted bytes back. */
export async function startTlsApp(certificate: WorkloadCertificate): Promise<App> {
  const server = tls.createServer({ key: certificate.keyPem, cert: certificate.certChainPem, allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ------------------------------------------------------------------------------------------------
// Clients

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function httpRequest(port: number, path: string, options: { host?: string; method?: string; body?: Buffer | string; headers?: Record<string, string>; agent?: http.Agent | false } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: { host: options.host ?? SERVER_HOST, ...options.headers }, agent: options.agent ?? false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (c: Buffer) => chunks.push(c));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

/** Writes `data` on a raw TCP connection (then ends it unless `keepOpen`) and collects what comes back until the server ends or closes. */
export function rawExchange(port: number, data: Buffer | string, options: { keepOpen?: boolean; timeoutMs?: number; host?: string } = {}): Promise<{ received: Buffer; closedBy: "end" | "close" | "error" | "timeout"; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: options.host ?? "127.0.0.1", port, allowHalfOpen: true });
    let done = false;
    const finish = (closedBy: "end" | "close" | "error" | "timeout", error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedBy, ...(error !== undefined ? { error } : {}) });
    };
    const timer = setTimeout(() => finish("timeout"), options.timeoutMs ?? 5000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => finish("end"));
    socket.on("close", () => finish("close"));
    socket.on("error", (e: NodeJS.ErrnoException) => finish("error", e.code ?? e.message));
    socket.write(data);
    if (options.keepOpen !== true) socket.end();
  });
}

/** A mesh client connection made by hand: tls.connect with `certificate`, Istio ALPN unless given. */
export function meshConnect(port: number, certificate: WorkloadCertificate, trust: MeshTrust, options: { alpn?: string[]; servername?: string } = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      key: certificate.keyPem,
      cert: certificate.certChainPem,
      ca: trust.roots,
      ALPNProtocols: options.alpn ?? ["istio-peer-exchange", "istio"],
      servername: options.servername ?? "outbound_.80_._.server.default.svc.cluster.local",
      checkServerIdentity: () => undefined,
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves when `predicate` holds (polled), or rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
