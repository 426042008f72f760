// Mutual TLS between two real sidecars on loopback: a "client" sidecar (outbound capture listener,
// proxy core, mesh sender) calls a "server" sidecar (inbound capture listener, proxy core) in front of
// an HTTP application, with certificates openssl made for this test (support/mesh-pki). The original
// destinations are injected, so no iptables is needed. Covers the identities the inbound side reports,
// refusals of revoked / foreign-trust-domain / untrusted certificates in both directions, expected
// identities (subjectAltNames), auto mTLS versus DISABLE, rotation, and large bodies over mTLS.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UpstreamFailure, type UpstreamTarget } from "../../../../edge-proxy/core/proxy/host.js";
import { createMeshPki, type MeshPki } from "./support/mesh-pki.js";
import { createHash } from "node:crypto";
import { clientConfig, httpRequest, meshConnect, patternBytes, rawExchange, SERVER_HOST, serverConfig, startHttpApp, startSidecar, startTcpApp, type App, type TestSidecar } from "./support/sidecar-harness.js";

const CLIENT_ID = "spiffe://cluster.local/ns/default/sa/client";
const SERVER_ID = "spiffe://cluster.local/ns/default/sa/server";
const ISTIO_SNI = `outbound_.80_._.${SERVER_HOST}`;
const CONNECT_FAILURE_BODY = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

let pki: MeshPki;
let app: App;
let server: TestSidecar;
let client: TestSidecar;

beforeAll(async () => {
  pki = createMeshPki();
  app = await startHttpApp();
  const trust = pki.trust();
  server = await startSidecar({ config: serverConfig(trust, [app.port], "PERMISSIVE"), certificate: pki.leaf("server"), trust });
  server.destination.inbound = { address: "127.0.0.1", port: app.port };
  client = await startSidecar({ config: clientConfig(trust, server.ports.inbound), certificate: pki.leaf("client"), trust });
  // The application called the Service's cluster IP; iptables sent it to the outbound listener.
  client.destination.outbound = { address: "10.96.0.10", port: 80 };
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await app?.close();
  pki?.cleanup();
});

beforeEach(() => {
  // Every test starts from the good certificates, the base configs and no pooled connections.
  const trust = pki.trust();
  client.tls.use(pki.leaf("client"));
  server.tls.use(pki.leaf("server"));
  client.update(clientConfig(trust, server.ports.inbound));
  server.update(serverConfig(trust, [app.port], "PERMISSIVE"));
  client.sender.close();
  server.logs.length = 0;
  client.logs.length = 0;
});

const lastPeer = () => server.peers.at(-1);
const appSaw = (response: { body: Buffer }) => JSON.parse(response.body.toString()) as { url: string; headers: Record<string, string>; bodyLength: number; bodySha256: string };

describe("mesh mutual TLS between two sidecars", () => {
  it("carries a request over mutual TLS; the inbound side reports the caller's SPIFFE ID, serial and SNI", async () => {
    const response = await httpRequest(client.ports.outbound, "/hello?x=1");
    expect(response.status).toBe(200);
    const seen = appSaw(response);
    expect(seen.url).toBe("/hello?x=1");
    expect(lastPeer()).toMatchObject({ port: app.port, mtls: true, spiffeId: CLIENT_ID, certificateSerial: "0b21", sourceIp: "127.0.0.1", destinationIp: "127.0.0.1", sni: ISTIO_SNI });
    // Istio's sidecar XFCC element: who terminated, the client certificate's hash and identity.
    expect(seen.headers["x-forwarded-client-cert"]).toMatch(new RegExp(`^By=${SERVER_ID};Hash=[0-9a-f]{64};Subject="";URI=${CLIENT_ID}$`));
  });

  it("keeps the connection alive: a second request reuses it", async () => {
    await httpRequest(client.ports.outbound, "/one");
    const before = server.listeners.connections();
    await httpRequest(client.ports.outbound, "/two");
    expect(server.listeners.connections()).toBe(before);
    expect(server.peers.slice(-2).every((p) => p.mtls)).toBe(true);
  });

  it("sends and receives large bodies intact over mutual TLS", async () => {
    const upload = patternBytes(6 * 1024 * 1024 + 7);
    const posted = await httpRequest(client.ports.outbound, "/upload", { method: "POST", body: upload, headers: { "content-type": "application/octet-stream" } });
    expect(posted.status).toBe(200);
    expect(appSaw(posted)).toMatchObject({ bodyLength: upload.length, bodySha256: createHash("sha256").update(upload).digest("hex") });
    const download = await httpRequest(client.ports.outbound, `/big?bytes=${5 * 1024 * 1024 + 3}`);
    expect(download.status).toBe(200);
    expect(download.body.equals(patternBytes(5 * 1024 * 1024 + 3))).toBe(true);
  });

  it("refuses a caller whose certificate is revoked, of another trust domain, or not signed by the mesh roots", async () => {
    for (const [leaf, reason] of [
      ["revoked", /revoked certificate serial 0c31/],
      ["foreign", /not in trust domain cluster\.local/],
      ["untrusted", /TLS handshake/],
    ] as const) {
      client.tls.use(pki.leaf(leaf));
      client.sender.close();
      server.logs.length = 0;
      const peersBefore = server.peers.length;
      const response = await httpRequest(client.ports.outbound, "/secret");
      expect(response.status, leaf).toBe(503);
      expect(server.peers.length, leaf).toBe(peersBefore); // nothing reached the server's core
      const refusal = server.logs.find((l) => l.event === "inbound_tls_refused");
      expect(refusal, leaf).toBeDefined();
      expect(String(refusal?.reason), leaf).toMatch(reason);
    }
  });

  it("refuses a caller with a revoked certificate even when the config's serial has no leading zero (Node prints 0C31)", async () => {
    server.tls.useTrust(pki.trust(["c31"]));
    const socket = await meshConnect(server.ports.inbound, pki.leaf("revoked"), pki.trust()).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket === undefined || socket.destroyed || socket.readableEnded).toBe(true);
    socket?.destroy();
    expect(server.logs.find((l) => l.event === "inbound_tls_refused")?.reason).toMatch(/revoked/);
  });

  it("the sender refuses a server whose certificate is revoked, of another trust domain, or untrusted: connect-failure", async () => {
    const target: UpstreamTarget = { cluster: client.proxy.config.clusters[0]!, endpoint: client.proxy.config.clusters[0]!.endpoints[0]!, maxRequestsPerConnection: 0, direction: "outbound" };
    for (const [leaf, message] of [
      ["revokedServer", /revoked certificate serial 0c32/],
      ["foreignServer", /not in trust domain/],
      ["untrustedServer", /certificate|verify/i],
    ] as const) {
      server.tls.use(pki.leaf(leaf));
      client.sender.close();
      const failure = await client.sender.send(new Request(`http://${SERVER_HOST}/`), target).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure, leaf).toBeInstanceOf(UpstreamFailure);
      expect((failure as UpstreamFailure).kind, leaf).toBe("connect-failure");
      expect((failure as UpstreamFailure).message, leaf).toMatch(message);
      // Through the client's core: Envoy's connection-failure local reply.
      const response = await httpRequest(client.ports.outbound, "/");
      expect(response.status, leaf).toBe(503);
      expect(response.body.toString(), leaf).toBe(CONNECT_FAILURE_BODY);
    }
  });

  it("checks the server against the DestinationRule's subjectAltNames when given", async () => {
    const trust = pki.trust();
    client.update(clientConfig(trust, server.ports.inbound, { tls: { mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/default/sa/someone-else"] } }));
    const refused = await httpRequest(client.ports.outbound, "/");
    expect(refused.status).toBe(503);
    expect(client.logs.find((l) => l.event === "upstream_tls_refused")?.error).toMatch(/not one of the expected identities/);
    client.update(clientConfig(trust, server.ports.inbound, { tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID] } }));
    expect((await httpRequest(client.ports.outbound, "/")).status).toBe(200);
    expect(lastPeer()?.mtls).toBe(true);
  });

  it("uses mutual TLS for ISTIO_MUTUAL without the endpoint label, and plain text under DISABLE or without label and mode", async () => {
    const trust = pki.trust();
    client.update(clientConfig(trust, server.ports.inbound, { tls: { mode: "ISTIO_MUTUAL" } }, {}));
    await httpRequest(client.ports.outbound, "/");
    expect(lastPeer()?.mtls).toBe(true);
    client.update(clientConfig(trust, server.ports.inbound, { tls: { mode: "DISABLE" } }));
    await httpRequest(client.ports.outbound, "/");
    expect(lastPeer()).toMatchObject({ mtls: false });
    expect(lastPeer()?.spiffeId).toBeUndefined();
    client.update(clientConfig(trust, server.ports.inbound, {}, {}));
    await httpRequest(client.ports.outbound, "/");
    expect(lastPeer()?.mtls).toBe(false);
  });

  it("uses a rotated certificate for new connections, on both sides", async () => {
    await httpRequest(client.ports.outbound, "/");
    expect(lastPeer()?.certificateSerial).toBe("0b21");
    client.tls.use(pki.leaf("client2"));
    await httpRequest(client.ports.outbound, "/");
    expect(lastPeer()?.certificateSerial).toBe("0b22");

    const before = await meshConnect(server.ports.inbound, pki.leaf("client"), pki.trust());
    expect(before.getPeerCertificate().serialNumber).toBe("0A11");
    before.destroy();
    server.tls.use(pki.leaf("server2"));
    const after = await meshConnect(server.ports.inbound, pki.leaf("client"), pki.trust());
    expect(after.getPeerCertificate().serialNumber).toBe("0A12");
    after.destroy();
    expect((await httpRequest(client.ports.outbound, "/")).status).toBe(200);
  });

  it("wraps outbound TCP to a mesh endpoint in mutual TLS, which a STRICT server accepts", async () => {
    const echo = await startTcpApp();
    try {
      const trust = pki.trust();
      server.update(serverConfig(trust, [app.port, echo.port], "STRICT"));
      server.destination.inbound = { address: "127.0.0.1", port: echo.port };
      // The application connects straight to the endpoint's address (a headless Service, a Pod IP).
      client.destination.outbound = { address: "127.0.0.1", port: server.ports.inbound };
      const data = Buffer.concat([Buffer.from([0, 0x16, 1]), patternBytes(256 * 1024)]);
      const result = await rawExchange(client.ports.outbound, data);
      expect(result.closedBy).toBe("end");
      expect(result.received.equals(data)).toBe(true);
      // Without the mesh label the same bytes go in plain text, and STRICT refuses them.
      client.update(clientConfig(trust, server.ports.inbound, {}, {}));
      const plain = await rawExchange(client.ports.outbound, data, { keepOpen: true });
      expect(plain.received.length).toBe(0);
      expect(server.logs.some((l) => l.event === "inbound_plaintext_refused" && l.port === echo.port)).toBe(true);
    } finally {
      client.destination.outbound = { address: "10.96.0.10", port: 80 };
      server.destination.inbound = { address: "127.0.0.1", port: app.port };
      await echo.close();
    }
  });

  it("answers 503 connection failure while the sidecar has no certificate yet", async () => {
    client.tls.use(undefined);
    const response = await httpRequest(client.ports.outbound, "/");
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe(CONNECT_FAILURE_BODY);
  });
});
