// The CA end to end against a real local control plane (`npm start`'s script in workerd): openssl
// makes the CSRs and verifies what the API returns, and two issued certificates authenticate each
// other over real mutual TLS, each side checking the other's SPIFFE ID.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type PeerCertificate, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type RunningControlPlane } from "../support/control-plane.js";

let cp: RunningControlPlane;
const dir = mkdtempSync(join(tmpdir(), "weft-ca-e2e-"));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

async function api(method: string, path: string, body?: unknown, token: string | null = cp.adminToken): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${cp.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

/** Makes a key and CSR with openssl, gets a join token for the identity, and has the CA issue it. */
async function issueWithOpenssl(name: string, ns: string, sa: string, keyType: "ec" | "rsa"): Promise<{ key: string; chain: string[]; serial: string }> {
  const keyArgs = keyType === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"];
  openssl("req", "-new", ...keyArgs, "-nodes", "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", "/", "-addext", `subjectAltName=URI:${spiffe(ns, sa)}`);
  const joinRes = await api("POST", "/v1/join-tokens", { namespace: ns, serviceAccount: sa, ttl: "10m" });
  expect(joinRes.status).toBe(201);
  const { token } = (await joinRes.json()) as { token: string };
  const res = await api("POST", "/v1/certificates", { csr: readFileSync(file(`${name}.csr`), "utf8") }, token);
  const body = (await res.json()) as { certChain: string[]; serial: string; message?: string };
  expect(res.status, body.message).toBe(201);
  writeFileSync(file(`${name}.crt`), body.certChain[0]!);
  writeFileSync(file(`${name}-chain.pem`), body.certChain.slice(1, -1).join("") || "");
  return { key: readFileSync(file(`${name}.key`), "utf8"), chain: body.certChain, serial: body.serial };
}

async function roots(): Promise<string> {
  const res = await fetch(`${cp.url}/v1/ca/roots`);
  expect(res.status).toBe(200);
  const pem = await res.text();
  writeFileSync(file("roots.pem"), pem);
  return pem;
}

function verify(name: string, purpose: "sslclient" | "sslserver"): string {
  const untrusted = readFileSync(file(`${name}-chain.pem`), "utf8") ? ["-untrusted", file(`${name}-chain.pem`)] : [];
  return openssl("verify", "-CAfile", file("roots.pem"), ...untrusted, "-purpose", purpose, file(`${name}.crt`));
}

function uriSan(cert: PeerCertificate): string | undefined {
  return cert.subjectaltname?.split(", ").find((s) => s.startsWith("URI:"))?.slice(4);
}

describe("openssl and the CA's HTTP API", () => {
  it("issues for openssl-made EC and RSA CSRs, and openssl verifies the chains for client and server use", async () => {
    const ec = await issueWithOpenssl("ec", "default", "productpage", "ec");
    const rsa = await issueWithOpenssl("rsa", "default", "reviews", "rsa");
    await roots();
    for (const name of ["ec", "rsa"]) {
      expect(verify(name, "sslclient")).toContain(": OK");
      expect(verify(name, "sslserver")).toContain(": OK");
    }
    const text = openssl("x509", "-in", file("ec.crt"), "-noout", "-text");
    expect(text).toContain(`URI:${spiffe("default", "productpage")}`);
    expect(text).toContain("CA:FALSE");
    expect(text).toMatch(/Digital Signature, Key Encipherment/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text.replace(/[\s:]/g, "").toLowerCase()).toContain(ec.serial.length % 2 ? `0${ec.serial}` : ec.serial);
    expect(rsa.chain.length).toBeGreaterThanOrEqual(2);
  });

  it("a revoked serial shows in a CRL that openssl verifies against the trust bundle", async () => {
    const { serial } = await issueWithOpenssl("gone", "default", "gone", "ec");
    const revoked = await api("POST", `/v1/certificates/${serial}/revoke`, { reason: "decommissioned" });
    expect(revoked.status).toBe(200);
    await roots();
    writeFileSync(file("crl.pem"), await (await fetch(`${cp.url}/v1/ca/crl`)).text());
    const out = execFileSync("openssl", ["crl", "-in", file("crl.pem"), "-CAfile", file("roots.pem"), "-noout", "-text"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out.toLowerCase().replace(/\s/g, "")).toContain(`serialnumber:${(serial.length % 2 ? "0" : "") + serial}`);
    const verified = execFileSync("sh", ["-c", `openssl crl -in ${file("crl.pem")} -CAfile ${file("roots.pem")} -noout 2>&1`], { encoding: "utf8" });
    expect(verified).toContain("verify OK");
  });
});

describe("mutual TLS between two issued certificates", () => {
  async function handshake(client: { key: string; cert: string }, serverCert: { key: string; cert: string }, ca: string): Promise<{ clientSaw: string | undefined; serverSaw: string | undefined; reply: string }> {
    let serverSaw: string | undefined;
    const server = createServer({ key: serverCert.key, cert: serverCert.cert, ca, requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
      serverSaw = uriSan(socket.getPeerCertificate());
      socket.end(serverSaw === spiffe("default", "productpage") ? "hello productpage" : "who are you");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      return await new Promise((resolve, reject) => {
        let clientSaw: string | undefined;
        const socket = connect({
          host: "127.0.0.1",
          port,
          key: client.key,
          cert: client.cert,
          ca,
          // The certificate's only identity is a SPIFFE URI SAN: compare it, not a host name.
          checkServerIdentity: (_host, cert) => {
            clientSaw = uriSan(cert);
            return clientSaw === spiffe("default", "reviews") ? undefined : new Error(`unexpected server identity ${clientSaw}`);
          },
        });
        let reply = "";
        socket.on("data", (d) => (reply += d));
        socket.on("end", () => resolve({ clientSaw, serverSaw, reply }));
        socket.on("error", reject);
      });
    } finally {
      server.close();
    }
  }

  it("each side checks the other's SPIFFE ID; a certificate from another CA is refused", async () => {
    const client = await issueWithOpenssl("client", "default", "productpage", "ec");
    const server = await issueWithOpenssl("server", "default", "reviews", "rsa");
    const ca = await roots();
    const result = await handshake({ key: client.key, cert: client.chain.join("") }, { key: server.key, cert: server.chain.join("") }, ca);
    expect(result).toEqual({ clientSaw: spiffe("default", "reviews"), serverSaw: spiffe("default", "productpage"), reply: "hello productpage" });

    // A look-alike certificate with the same SPIFFE ID from a CA the mesh does not trust.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", file("rogue.key"), "-out", file("rogue.crt"), "-days", "1", "-subj", "/CN=rogue", "-addext", `subjectAltName=URI:${spiffe("default", "productpage")}`);
    const rogue = { key: readFileSync(file("rogue.key"), "utf8"), cert: readFileSync(file("rogue.crt"), "utf8") };
    // As a client: the server refuses it (with TLS 1.3 the client may only see the connection end).
    const asClient = await handshake(rogue, { key: server.key, cert: server.chain.join("") }, ca).then(
      (r) => `reply=${JSON.stringify(r.reply)} serverSaw=${r.serverSaw}`,
      (e: Error) => `refused: ${e.message}`,
    );
    expect(asClient).not.toContain("hello productpage");
    expect(asClient).toMatch(/refused|reply="" serverSaw=undefined/);
    // As a server: the client refuses it during the handshake.
    await expect(handshake({ key: client.key, cert: client.chain.join("") }, rogue, ca)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });
});
