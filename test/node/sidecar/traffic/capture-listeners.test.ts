// The capture listeners on loopback with real sockets (original destinations injected, no iptables):
// PeerAuthentication modes on the inbound side (PERMISSIVE takes plain text and mTLS, STRICT closes
// plain text, portLevel overrides, DISABLE passes TLS through), an application's own TLS passing
// through, TCP passthrough both ways (half-close, large transfers, server-first protocols after the
// detection timeout, TCP authorization), HTTP passthrough to the original destination with pipelined
// requests and large bodies, no config yet, capture loops, and draining.
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProxyConfig } from "../../../../edge-proxy/core/config/proxy-config.js";
import { UpstreamFailure } from "../../../../edge-proxy/core/proxy/host.js";
import { createMeshPki, type MeshPki } from "./support/mesh-pki.js";
import {
  eventually,
  httpRequest,
  meshConnect,
  patternBytes,
  rawExchange,
  serverConfig,
  startHttpApp,
  startSidecar,
  startTcpApp,
  startTlsApp,
  type App,
  type TestSidecar,
} from "./support/sidecar-harness.js";

const CLIENT_ID = "spiffe://cluster.local/ns/default/sa/client";

let pki: MeshPki;
let app: App;
let echo: App & { connections: number };
let greeter: App & { connections: number };
let tlsApp: App;
let sidecar: TestSidecar;

const local = (port: number) => ({ address: "127.0.0.1", port });
const config = (mode: "STRICT" | "PERMISSIVE" | "DISABLE", portLevel?: Record<string, "STRICT" | "PERMISSIVE" | "DISABLE">): ProxyConfig => serverConfig(pki.trust(), [app.port, echo.port, greeter.port, tlsApp.port], mode, portLevel);
const eventsOf = (name: string) => sidecar.logs.filter((l) => l.event === name);

/** Splits a byte stream of HTTP/1.1 responses that carry Content-Length into their bodies. */
function responseBodies(stream: Buffer): string[] {
  const bodies: string[] = [];
  let at = 0;
  while (at < stream.length) {
    const end = stream.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const head = stream.toString("latin1", at, end);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? "0");
    bodies.push(stream.toString("utf8", end + 4, end + 4 + length));
    at = end + 4 + length;
  }
  return bodies;
}

beforeAll(async () => {
  pki = createMeshPki();
  [app, echo, greeter, tlsApp] = await Promise.all([startHttpApp(), startTcpApp(), startTcpApp("hello from the server\n"), startTlsApp(pki.leaf("untrustedServer"))]);
  sidecar = await startSidecar({ config: config("PERMISSIVE"), certificate: pki.leaf("server"), trust: pki.trust(), protocolDetectionTimeoutMs: 300 });
});

afterAll(async () => {
  await sidecar?.close();
  await Promise.all([app, echo, greeter, tlsApp].map((a) => a?.close()));
  pki?.cleanup();
});

beforeEach(() => {
  sidecar.update(config("PERMISSIVE"));
  sidecar.setConfigured(true);
  sidecar.logs.length = 0;
  sidecar.destination.outbound = undefined;
  sidecar.destination.inbound = undefined;
});

describe("inbound capture: PeerAuthentication modes", () => {
  it("PERMISSIVE serves plain-text HTTP as a peer without mTLS, removing a forged X-Forwarded-Client-Cert", async () => {
    sidecar.destination.inbound = local(app.port);
    const response = await httpRequest(sidecar.ports.inbound, "/plain", { headers: { "x-forwarded-client-cert": "By=forged;URI=spiffe://cluster.local/ns/default/sa/admin" } });
    expect(response.status).toBe(200);
    const seen = JSON.parse(response.body.toString()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("/plain");
    expect(seen.headers["x-forwarded-client-cert"]).toBeUndefined();
    expect(sidecar.peers.at(-1)).toMatchObject({ port: app.port, mtls: false, sourceIp: "127.0.0.1", destinationIp: "127.0.0.1" });
  });

  it("PERMISSIVE terminates mutual TLS from a mesh peer (Istio ALPN)", async () => {
    sidecar.destination.inbound = local(app.port);
    const socket = await meshConnect(sidecar.ports.inbound, pki.leaf("client"), pki.trust(), { alpn: ["istio-http/1.1", "istio"] });
    socket.write("GET /over-mtls HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(sidecar.peers.at(-1)).toMatchObject({ mtls: true, spiffeId: CLIENT_ID, certificateSerial: "0b21", sni: "outbound_.80_._.server.default.svc.cluster.local" });
  });

  it("STRICT closes plain-text connections (HTTP and TCP) without an answer and logs it; mTLS is still served", async () => {
    sidecar.update(config("STRICT"));
    sidecar.destination.inbound = local(app.port);
    const http1 = await rawExchange(sidecar.ports.inbound, "GET / HTTP/1.1\r\nHost: server\r\n\r\n", { keepOpen: true });
    expect(http1.received.length).toBe(0);
    expect(http1.closedBy).not.toBe("timeout");
    sidecar.destination.inbound = local(echo.port);
    const tcp = await rawExchange(sidecar.ports.inbound, "\u0000binary", { keepOpen: true });
    expect(tcp.received.length).toBe(0);
    expect(eventsOf("inbound_plaintext_refused").map((l) => l.port)).toEqual([app.port, echo.port]);
    expect(echo.connections).toBe(0);

    sidecar.destination.inbound = local(app.port);
    const socket = await meshConnect(sidecar.ports.inbound, pki.leaf("client"), pki.trust());
    socket.end("GET /strict HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it("STRICT with a portLevel PERMISSIVE port: plain text is taken on that port only", async () => {
    sidecar.update(config("STRICT", { [String(echo.port)]: "PERMISSIVE" }));
    sidecar.destination.inbound = local(echo.port);
    expect((await rawExchange(sidecar.ports.inbound, "ping")).received.toString()).toBe("ping");
    sidecar.destination.inbound = local(app.port);
    expect((await rawExchange(sidecar.ports.inbound, "GET / HTTP/1.1\r\nHost: s\r\n\r\n", { keepOpen: true })).received.length).toBe(0);
  });

  it("passes an application's own TLS through untouched (PERMISSIVE without Istio ALPN, and any TLS under DISABLE)", async () => {
    for (const mode of ["PERMISSIVE", "DISABLE"] as const) {
      sidecar.update(config(mode));
      sidecar.destination.inbound = local(tlsApp.port);
      const socket = tls.connect({ host: "127.0.0.1", port: sidecar.ports.inbound, rejectUnauthorized: false, servername: "app.example.com", ALPNProtocols: mode === "DISABLE" ? ["istio", "http/1.1"] : ["http/1.1"] });
      await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      // The application's own certificate answered, not the sidecar's.
      expect(socket.getPeerCertificate().serialNumber, mode).toBe("0E52");
      socket.end("through the sidecar");
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString(), mode).toBe("through the sidecar");
    }
  });
});

describe("TCP passthrough", () => {
  it("outbound: non-HTTP bytes reach the original destination and come back, half-close included", async () => {
    sidecar.destination.outbound = local(echo.port);
    const data = Buffer.concat([Buffer.from([0, 1, 2, 0x16, 3]), patternBytes(3 * 1024 * 1024)]);
    const result = await rawExchange(sidecar.ports.outbound, data, { timeoutMs: 10_000 });
    expect(result.closedBy).toBe("end");
    expect(result.received.length).toBe(data.length);
    expect(result.received.equals(data)).toBe(true);
  });

  it("outbound: an application's TLS (not HTTP) passes through to its destination", async () => {
    sidecar.destination.outbound = local(tlsApp.port);
    const socket = tls.connect({ host: "127.0.0.1", port: sidecar.ports.outbound, rejectUnauthorized: false });
    await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    expect(socket.getPeerCertificate().serialNumber).toBe("0E52");
    socket.end("hi");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("hi");
  });

  it("inbound: plain TCP (PERMISSIVE) and TCP over mutual TLS reach 127.0.0.1:<port>", async () => {
    sidecar.destination.inbound = local(echo.port);
    expect((await rawExchange(sidecar.ports.inbound, "\u0000plain")).received.toString()).toBe("\u0000plain");
    const socket = await meshConnect(sidecar.ports.inbound, pki.leaf("client"), pki.trust());
    socket.end("\u0000over mtls");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("\u0000over mtls");
  });

  it("inbound TCP obeys AuthorizationPolicies: an ALLOW for the client's principal admits mTLS and refuses plain text", async () => {
    const base = config("PERMISSIVE");
    sidecar.update({ ...base, inbound: { ...base.inbound!, authorizationPolicies: [{ name: "default/allow-client", action: "ALLOW", rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/client"] } }] }] }] } });
    sidecar.destination.inbound = local(echo.port);
    const socket = await meshConnect(sidecar.ports.inbound, pki.leaf("client"), pki.trust());
    socket.end("allowed");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("allowed");
    const plain = await rawExchange(sidecar.ports.inbound, "\u0000denied", { keepOpen: true });
    expect(plain.received.length).toBe(0);
    expect(eventsOf("inbound_tcp_denied")[0]).toMatchObject({ port: echo.port, details: "rbac_access_denied_matched_policy[none]" });
  });

  it("a server-first protocol (the client sends nothing) is TCP once the detection timeout passes", async () => {
    sidecar.destination.outbound = local(greeter.port);
    const started = Date.now();
    const socket = net.connect({ host: "127.0.0.1", port: sidecar.ports.outbound });
    const greeting = await new Promise<string>((resolve) => socket.once("data", (c: Buffer) => resolve(c.toString())));
    expect(greeting).toBe("hello from the server\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    socket.write("and back");
    const echoed = await new Promise<string>((resolve) => socket.once("data", (c: Buffer) => resolve(c.toString())));
    expect(echoed).toBe("and back");
    socket.destroy();
  });
});

describe("HTTP through the capture listeners", () => {
  it("outbound HTTP to a host the config does not know goes to the original destination (PassthroughCluster)", async () => {
    sidecar.destination.outbound = local(app.port);
    const response = await httpRequest(sidecar.ports.outbound, "/passthrough", { host: "unknown.example.com" });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toMatchObject({ url: "/passthrough", headers: { host: "unknown.example.com" } });
  });

  it("answers pipelined requests in order, outbound and inbound, none lost", async () => {
    const pipelined = ["/1", "/2", "/3"].map((p) => `GET ${p} HTTP/1.1\r\nHost: unknown.example.com\r\n\r\n`).join("") + "POST /4 HTTP/1.1\r\nHost: unknown.example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    for (const side of ["outbound", "inbound"] as const) {
      sidecar.destination[side] = local(app.port);
      const result = await rawExchange(sidecar.ports[side], pipelined, { keepOpen: true });
      const bodies = responseBodies(result.received).map((b) => JSON.parse(b) as { url: string; bodyLength: number });
      expect(bodies.map((b) => b.url), side).toEqual(["/1", "/2", "/3", "/4"]);
      expect(bodies[3]?.bodyLength, side).toBe(5);
    }
  });

  it("carries large request and response bodies intact, a request line split across packets too", async () => {
    sidecar.destination.outbound = local(app.port);
    const upload = patternBytes(8 * 1024 * 1024 + 1);
    const posted = await httpRequest(sidecar.ports.outbound, "/upload", { host: "unknown.example.com", method: "POST", body: upload });
    expect(JSON.parse(posted.body.toString())).toMatchObject({ bodyLength: upload.length, bodySha256: createHash("sha256").update(upload).digest("hex") });
    sidecar.destination.inbound = local(app.port);
    const download = await httpRequest(sidecar.ports.inbound, `/big?bytes=${4 * 1024 * 1024}`);
    expect(download.body.equals(patternBytes(4 * 1024 * 1024))).toBe(true);

    const socket = net.connect({ host: "127.0.0.1", port: sidecar.ports.outbound });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GE");
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write("T /split HTTP/1.1\r\nHost: unknown.example.com\r\nConnection: close\r\n\r\n");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(responseBodies(Buffer.concat(chunks)).map((b) => (JSON.parse(b) as { url: string }).url)).toEqual(["/split"]);
  });

  it("before the first config, HTTP gets 503 'no config yet' and TCP still passes", async () => {
    sidecar.setConfigured(false);
    sidecar.destination.outbound = local(app.port);
    const response = await httpRequest(sidecar.ports.outbound, "/");
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe("no config yet");
    sidecar.destination.inbound = local(app.port);
    expect((await httpRequest(sidecar.ports.inbound, "/")).body.toString()).toBe("no config yet");
    sidecar.destination.outbound = local(echo.port);
    expect((await rawExchange(sidecar.ports.outbound, "\u0000tcp")).received.toString()).toBe("\u0000tcp");
    sidecar.destination.inbound = local(echo.port);
    expect((await rawExchange(sidecar.ports.inbound, "\u0000tcp")).received.toString()).toBe("\u0000tcp");
  });
});

describe("loops and missing destinations", () => {
  it("closes a connection whose original destination is one of the sidecar's own ports on a local address", async () => {
    for (const side of ["outbound", "inbound"] as const) {
      sidecar.destination[side] = local(sidecar.ports.inbound);
      const result = await rawExchange(sidecar.ports[side], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { keepOpen: true });
      expect(result.received.length, side).toBe(0);
    }
    expect(eventsOf("capture_loop_refused").map((l) => l.listener)).toEqual(["outbound", "inbound"]);
  });

  it("closes a connection without an original destination", async () => {
    const result = await rawExchange(sidecar.ports.inbound, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { keepOpen: true });
    expect(result.received.length).toBe(0);
    expect(eventsOf("no_original_destination")).toHaveLength(1);
  });

  it("the sender refuses an endpoint that is one of the sidecar's own ports", async () => {
    const cluster = { name: "outbound|80||loop", host: "loop", port: 80, endpoints: [{ address: "127.0.0.1", port: sidecar.ports.outbound, labels: {} }], policy: { loadBalancer: { kind: "ROUND_ROBIN" as const } } };
    const failure = await sidecar.sender.send(new Request("http://loop/"), { cluster, endpoint: cluster.endpoints[0]!, maxRequestsPerConnection: 0, direction: "outbound" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UpstreamFailure);
    expect((failure as UpstreamFailure).kind).toBe("connect-failure");
  });
});

describe("drain", () => {
  it("lets a request in flight finish (Connection: close), closes idle keep-alive connections at once, then stops", async () => {
    const drained = await startSidecar({ config: config("PERMISSIVE"), certificate: pki.leaf("server"), trust: pki.trust() });
    drained.destination.inbound = local(app.port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    try {
      // One idle keep-alive connection, one busy with a slow request.
      expect((await httpRequest(drained.ports.inbound, "/warm", { agent })).status).toBe(200);
      const idle = Object.values(agent.freeSockets).flat()[0]!;
      const idleClosed = new Promise((resolve) => idle.once("close", resolve));
      const slow = httpRequest(drained.ports.inbound, "/slow?ms=400", { agent: false });
      await eventually(() => drained.listeners.connections() === 2, 2000, "two connections");
      await new Promise((resolve) => setTimeout(resolve, 50));

      const started = Date.now();
      const draining = drained.listeners.drain(5000);
      await idleClosed;
      expect(Date.now() - started).toBeLessThan(300);
      const response = await slow;
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe("close");
      await draining;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(drained.listeners.connections()).toBe(0);
      const refused = await rawExchange(drained.ports.inbound, "GET / HTTP/1.1\r\n\r\n", { timeoutMs: 1000 });
      expect(refused.error).toBe("ECONNREFUSED");
    } finally {
      agent.destroy();
      await drained.close();
    }
  });

  it("destroys what is still open when the drain time is up", async () => {
    const drained = await startSidecar({ config: config("PERMISSIVE"), certificate: pki.leaf("server"), trust: pki.trust() });
    drained.destination.inbound = local(echo.port);
    try {
      const socket = net.connect({ host: "127.0.0.1", port: drained.ports.inbound });
      socket.write("\u0000open");
      await new Promise((resolve) => socket.once("data", resolve));
      const closed = new Promise((resolve) => socket.once("close", resolve));
      const started = Date.now();
      await drained.listeners.drain(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      await closed;
      await eventually(() => drained.listeners.connections() === 0, 1000, "no connections");
    } finally {
      await drained.close();
    }
  });
});
