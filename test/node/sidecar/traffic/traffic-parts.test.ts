// The traffic side's pure parts: protocol detection (HTTP/1 request lines, TLS ClientHellos read from a
// real node:tls client), peer certificate checks on real openssl-made certificates (URI SANs, trust
// domain, revoked serials compared without leading zeros or case), TCP authorization (Istio's handling
// of HTTP-only fields), which TLS an upstream gets, the loop guard, and the addon loader's error.
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROXY_CONFIG_VERSION, type AuthorizationPolicyConfig, type Cluster, type ProxyConfig } from "../../../../edge-proxy/core/config/proxy-config.js";
import type { PeerInfo } from "../../../../edge-proxy/core/security/types.js";
import { parseClientHello } from "../../../../edge-proxy/hosts/sidecar/traffic/client-hello.js";
import { detectHttp, detectInbound } from "../../../../edge-proxy/hosts/sidecar/traffic/detect-protocol.js";
import { limitedLog } from "../../../../edge-proxy/hosts/sidecar/traffic/limited-log.js";
import { isOwnDestination } from "../../../../edge-proxy/hosts/sidecar/traffic/own-destination.js";
import { checkPeerCertificate, uriSans } from "../../../../edge-proxy/hosts/sidecar/traffic/peer-certificate.js";
import { authorizeTcp, inboundMtlsMode, tcpPolicy } from "../../../../edge-proxy/hosts/sidecar/traffic/tcp-authorization.js";
import { istioSni, upstreamTls } from "../../../../edge-proxy/hosts/sidecar/traffic/upstream-tls.js";
import { createMeshPki, type MeshPki } from "./support/mesh-pki.js";

let pki: MeshPki;
beforeAll(() => {
  pki = createMeshPki();
});
afterAll(() => pki?.cleanup());

/** The bytes a real node:tls client opens with. */
async function clientHelloBytes(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const received = new Promise<Buffer>((resolve) => {
    server.once("connection", (socket) => {
      let head = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (head.length >= 5 && head.length >= 5 + head.readUInt16BE(3)) {
          resolve(head);
          socket.destroy();
        }
      });
    });
  });
  const client = tls.connect({ host: "127.0.0.1", port, ...options });
  client.on("error", () => {});
  const bytes = await received;
  client.destroy();
  server.close();
  return bytes;
}

describe("protocol detection", () => {
  const b = (text: string) => Buffer.from(text, "latin1");
  it("recognises HTTP/1.x request lines, waiting while one is incomplete", () => {
    expect(detectHttp(b("GET / HTTP/1.1\r\n"), false)).toBe("http");
    expect(detectHttp(b("DELETE /x?y HTTP/1.0\n"), false)).toBe("http");
    expect(detectHttp(b("M-SEARCH * HTTP/1.1\r\n"), false)).toBe("http");
    expect(detectHttp(b("GE"), false)).toBeUndefined();
    expect(detectHttp(b("GET /long/path"), false)).toBeUndefined();
    expect(detectHttp(b("GET /long/path"), true)).toBe("tcp");
    expect(detectHttp(b(""), true)).toBe("tcp");
  });
  it("takes everything else as TCP: binary, lowercase, HTTP/2 preface, CONNECT, other versions", () => {
    expect(detectHttp(Buffer.from([0, 1, 2]), false)).toBe("tcp");
    expect(detectHttp(b("get / HTTP/1.1\r\n"), false)).toBe("tcp");
    expect(detectHttp(b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), false)).toBe("tcp");
    expect(detectHttp(b("CONNECT example.com:443 HTTP/1.1\r\n"), false)).toBe("tcp");
    expect(detectHttp(b("GET key\r\n"), false)).toBe("tcp");
    expect(detectHttp(b("*2\r\n$3\r\nGET\r\n"), false)).toBe("tcp");
    expect(detectHttp(b("SSH-2.0-OpenSSH_9.6\r\n"), false)).toBe("tcp");
  });
  it("reads a real ClientHello's ALPN and SNI, and tells TLS from plain text inbound", async () => {
    const hello = await clientHelloBytes({ ALPNProtocols: ["istio-http/1.1", "istio"], servername: "outbound_.80_._.server.default.svc.cluster.local" });
    expect(parseClientHello(hello)).toEqual({ alpn: ["istio-http/1.1", "istio"], serverName: "outbound_.80_._.server.default.svc.cluster.local" });
    expect(detectInbound(hello, false)).toEqual({ kind: "tls", hello: { alpn: ["istio-http/1.1", "istio"], serverName: "outbound_.80_._.server.default.svc.cluster.local" } });
    expect(detectInbound(hello.subarray(0, 40), false)).toBeUndefined(); // the record is not complete yet
    expect(detectInbound(hello.subarray(0, 40), true)).toEqual({ kind: "tls", hello: undefined });
    const bare = await clientHelloBytes({});
    expect(parseClientHello(bare)).toEqual({ alpn: [] });
    expect(detectInbound(b("GET / HTTP/1.1\r\n"), false)).toEqual({ kind: "http" });
    expect(detectInbound(b("\u0000\u0001"), false)).toEqual({ kind: "tcp" });
  });
});

describe("peer certificates", () => {
  const certOf = (name: Parameters<MeshPki["leaf"]>[0]): tls.PeerCertificate => {
    const x509 = new X509Certificate(pki.leaf(name).certChainPem);
    return { subjectaltname: x509.subjectAltName, serialNumber: x509.serialNumber } as tls.PeerCertificate;
  };
  it("reads URI SANs, JSON-quoted ones included", () => {
    expect(uriSans({ subjectaltname: 'DNS:a.example, URI:spiffe://td/ns/a/sa/b, URI:"spiffe://td/x,y"' } as tls.PeerCertificate)).toEqual(["spiffe://td/ns/a/sa/b", "spiffe://td/x,y"]);
  });
  it("accepts a SPIFFE ID of the trust domain and reports the serial in lowercase hex", () => {
    expect(certOf("client").serialNumber).toBe("0B21");
    expect(checkPeerCertificate(certOf("client"), pki.trust())).toEqual({ ok: true, identity: { spiffeId: "spiffe://cluster.local/ns/default/sa/client", serial: "0b21" } });
  });
  it("refuses another trust domain, a revoked serial however it is written, and unexpected identities", () => {
    expect(checkPeerCertificate(certOf("foreign"), pki.trust())).toMatchObject({ ok: false, reason: expect.stringMatching(/trust domain/) });
    for (const written of ["0c31", "c31", "0C31", "000c31"]) {
      expect(checkPeerCertificate(certOf("revoked"), pki.trust([written])), written).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
    }
    expect(checkPeerCertificate(certOf("client"), pki.trust(), ["spiffe://cluster.local/ns/default/sa/server"])).toMatchObject({ ok: false });
    expect(checkPeerCertificate(certOf("client"), pki.trust(), ["cluster.local/ns/default/sa/client"]).ok).toBe(true);
    expect(checkPeerCertificate({ serialNumber: "01", subjectaltname: "DNS:example.com" } as tls.PeerCertificate, pki.trust())).toMatchObject({ ok: false, reason: expect.stringMatching(/no SPIFFE ID/) });
  });
});

describe("TCP authorization", () => {
  const config = (policies: AuthorizationPolicyConfig[], mode: "STRICT" | "PERMISSIVE" = "PERMISSIVE"): ProxyConfig => ({
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: "default", labels: {}, gateways: ["mesh"] },
    listeners: [],
    clusters: [],
    inbound: { ports: [], peerAuthentication: { mode, portLevel: { "9000": "DISABLE" } }, jwtRules: [], authorizationPolicies: policies },
  });
  const mtlsPeer: PeerInfo = { port: 5432, mtls: true, spiffeId: "spiffe://cluster.local/ns/default/sa/client", sourceIp: "10.0.0.1" };
  const plainPeer: PeerInfo = { port: 5432, mtls: false, sourceIp: "10.0.0.1" };

  it("reads the port's mode, then the workload's, else PERMISSIVE", () => {
    expect(inboundMtlsMode(undefined, 80)).toBe("PERMISSIVE");
    expect(inboundMtlsMode(config([], "STRICT"), 80)).toBe("STRICT");
    expect(inboundMtlsMode(config([], "STRICT"), 9000)).toBe("DISABLE");
  });
  it("drops ALLOW rules with HTTP-only fields, and the HTTP-only fields of DENY rules", () => {
    const allow: AuthorizationPolicyConfig = { name: "ns/a", action: "ALLOW", rules: [{ to: [{ operation: { methods: ["GET"] } }] }, { from: [{ source: { namespaces: ["default"] } }] }] };
    expect(tcpPolicy(allow).rules).toEqual([{ from: [{ source: { namespaces: ["default"] } }] }]);
    const deny: AuthorizationPolicyConfig = { name: "ns/d", action: "DENY", rules: [{ from: [{ source: { requestPrincipals: ["*"], ipBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { paths: ["/admin"], ports: ["5432"] } }], when: [{ key: "request.headers[x]", values: ["1"] }] }] };
    expect(tcpPolicy(deny).rules).toEqual([{ from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }], to: [{ operation: { ports: ["5432"] } }] }]);
  });
  it("decides on the connection's facts: principal ALLOW, a DENY made broader, STRICT, CUSTOM", () => {
    const allowClient = config([{ name: "default/allow", action: "ALLOW", rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/client"] } }] }] }]);
    expect(authorizeTcp(allowClient, mtlsPeer)).toEqual({ allowed: true });
    expect(authorizeTcp(allowClient, plainPeer)).toEqual({ allowed: false, details: "rbac_access_denied_matched_policy[none]" });
    const allowGetOnly = config([{ name: "default/get", action: "ALLOW", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }]);
    expect(authorizeTcp(allowGetOnly, mtlsPeer).allowed).toBe(false);
    const denyPaths = config([{ name: "default/deny", action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin"] } }] }] }]);
    expect(authorizeTcp(denyPaths, mtlsPeer)).toEqual({ allowed: false, details: "rbac_access_denied_matched_policy[default/deny]" });
    expect(authorizeTcp(config([], "STRICT"), plainPeer)).toEqual({ allowed: false, details: "peer_authentication_strict" });
    expect(authorizeTcp(config([{ name: "default/ext", action: "CUSTOM", provider: "opa", rules: [{}] }]), mtlsPeer).allowed).toBe(false);
    expect(authorizeTcp(undefined, plainPeer)).toEqual({ allowed: true });
    expect(authorizeTcp(config([]), plainPeer)).toEqual({ allowed: true });
  });
});

describe("upstream TLS and the loop guard", () => {
  const cluster = (tls?: Cluster["policy"]["tls"], name = "outbound|9080|v1|reviews.default.svc.cluster.local"): Cluster => ({ name, host: "reviews.default.svc.cluster.local", port: 9080, subset: "v1", endpoints: [], policy: { loadBalancer: { kind: "ROUND_ROBIN" }, ...(tls ? { tls } : {}) } });
  const target = (c: Cluster, labels: Record<string, string> = {}, direction: "outbound" | "inbound" = "outbound") => ({ cluster: c, endpoint: { address: "10.0.0.2", port: 9080, labels }, maxRequestsPerConnection: 0, direction });
  const istio = { "security.istio.io/tlsMode": "istio" };

  it("follows Istio: ISTIO_MUTUAL and auto mTLS are mesh TLS; DISABLE, unlabelled, inbound and passthrough are plain", () => {
    expect(istioSni(cluster())).toBe("outbound_.9080_.v1_.reviews.default.svc.cluster.local");
    expect(upstreamTls(target(cluster({ mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/default/sa/reviews"] })))).toEqual({ kind: "mesh", servername: "outbound_.9080_.v1_.reviews.default.svc.cluster.local", expected: ["spiffe://cluster.local/ns/default/sa/reviews"] });
    expect(upstreamTls(target(cluster(), istio))).toMatchObject({ kind: "mesh" });
    expect(upstreamTls(target(cluster()))).toEqual({ kind: "plain" });
    expect(upstreamTls(target(cluster({ mode: "DISABLE" }), istio))).toEqual({ kind: "plain" });
    expect(upstreamTls(target(cluster(undefined), istio, "inbound"))).toEqual({ kind: "plain" });
    expect(upstreamTls(target(cluster({ mode: "ISTIO_MUTUAL" }, "PassthroughCluster")))).toEqual({ kind: "plain" });
    expect(upstreamTls(target(cluster({ mode: "SIMPLE", sni: "reviews.example.com" }), istio))).toMatchObject({ kind: "simple", servername: "reviews.example.com" });
    expect(upstreamTls(target(cluster({ mode: "MUTUAL" })))).toMatchObject({ kind: "unsupported" });
  });
  it("knows the sidecar's own ports on local addresses only", () => {
    const own = new Set([15001, 15006]);
    expect(isOwnDestination("127.0.0.1", 15001, own)).toBe(true);
    expect(isOwnDestination("::ffff:127.0.0.1", 15006, own)).toBe(true);
    expect(isOwnDestination("::1", 15006, own)).toBe(true);
    expect(isOwnDestination("10.1.2.3", 15006, own, "10.1.2.3")).toBe(true);
    expect(isOwnDestination("10.1.2.4", 15006, own, "10.1.2.3")).toBe(false);
    expect(isOwnDestination("127.0.0.1", 8080, own)).toBe(false);
  });
});

describe("limited log", () => {
  it("writes a key's first line, holds back repeats within the interval, and counts them in the next", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = limitedLog((e) => void lines.push(e), 40);
    log("a", { event: "x", n: 1 });
    log("a", { event: "x", n: 2 });
    log("a", { event: "x", n: 3 });
    log("b", { event: "y" });
    expect(lines).toEqual([{ event: "x", n: 1 }, { event: "y" }]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    log("a", { event: "x", n: 4 });
    expect(lines.at(-1)).toEqual({ event: "x", n: 4, suppressed: 2 });
  });
});

describe("the addon loader", () => {
  it("says what to run when the addon is not there", () => {
    const script = `import { originalDestination } from ${JSON.stringify(fileURLToPath(new URL("../../../../edge-proxy/hosts/sidecar/traffic/original-destination.ts", import.meta.url)))};
import net from "node:net";
const server = net.createServer((s) => { try { originalDestination(s); console.log("no error"); } catch (e) { console.log(e.message); } process.exit(0); });
server.listen(0, "127.0.0.1", () => net.connect(server.address().port, "127.0.0.1"));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("../../../../", import.meta.url)), env: { ...process.env, WEFT_NATIVE_ADDON: "/nonexistent/original_dst.node" }, encoding: "utf8" });
    expect(run.stdout).toContain("npm run build:native");
    expect(run.stdout).toContain("/nonexistent/original_dst.node");
  });
});
