// A certificate authority in the test process, answering the control plane's CA routes
// (POST /v1/certificates, GET /v1/ca/roots) like the real one: it reads the CSR, signs a leaf for the
// CSR's key with its SAN, and returns [leaf, root]. Its clock is the test's. Tests can make it fail,
// or misbehave, per request.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** subjectAltName; a CSR finds its extensions by OID only. */
export const SAN_OID = "2.5.29.17";
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface CsrSeen {
  pem: string;
  request: x509.Pkcs10CertificateRequest;
  body: string;
  authorization: string | null;
  ttl: string | undefined;
}

export type Misbehaviour = "down" | "503" | "wrong-san" | "wrong-key";

export interface FakeCa {
  fetch(request: Request): Promise<Response>;
  rootPem: string;
  csrs: CsrSeen[];
  /** How the next requests fail, one entry consumed per certificate request; empty: succeed. */
  failures: Misbehaviour[];
  /** When set, every certificate request fails so. */
  always?: Misbehaviour;
  serials: string[];
}

export async function createFakeCa(now: () => number, lifetimeMs = 3_600_000): Promise<FakeCa> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "O=weft test,CN=Test Root",
    notBefore: new Date(now() - 86_400_000),
    notAfter: new Date(now() + 10 * 365 * 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  let serial = 0x1000;
  const ca: FakeCa = {
    rootPem: root.toString("pem") + "\n",
    csrs: [],
    failures: [],
    serials: [],
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname === "/v1/ca/roots") {
        if (ca.always === "down") throw new TypeError("fetch failed (test: CA down)");
        return new Response(ca.rootPem, { headers: { "content-type": "application/x-pem-file" } });
      }
      if (request.method !== "POST" || url.pathname !== "/v1/certificates") return new Response("not found", { status: 404 });
      const failure = ca.always ?? ca.failures.shift();
      if (failure === "down") throw new TypeError("fetch failed (test: CA down)");
      if (failure === "503") return new Response(JSON.stringify({ kind: "Status", message: "CA not ready (test)" }), { status: 503 });
      const body = await request.text();
      const { csr, ttl } = JSON.parse(body) as { csr: string; ttl?: string };
      const parsed = new x509.Pkcs10CertificateRequest(csr);
      ca.csrs.push({ pem: csr, request: parsed, body, authorization: request.headers.get("authorization"), ttl });
      const san = parsed.getExtension(SAN_OID) as x509.SubjectAlternativeNameExtension;
      const names = failure === "wrong-san" ? [{ type: "url" as const, value: "spiffe://cluster.local/ns/other/sa/other" }] : san.names.toJSON();
      const publicKey = failure === "wrong-key" ? ((await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair).publicKey : await parsed.publicKey.export();
      const hex = (serial++).toString(16);
      const start = Math.floor(now() / 1000) * 1000;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: hex,
        subject: "",
        issuer: root.subject,
        notBefore: new Date(start),
        notAfter: new Date(start + lifetimeMs),
        signingKey: keys.privateKey,
        publicKey,
        signingAlgorithm: ALG,
        extensions: [new x509.SubjectAlternativeNameExtension(names), new x509.BasicConstraintsExtension(false)],
      });
      ca.serials.push(hex);
      return new Response(JSON.stringify({ certChain: [leaf.toString("pem") + "\n", ca.rootPem], serial: hex, expiresAt: new Date(start + lifetimeMs).toISOString() }), {
        status: 201,
        headers: { "content-type": "application/json" },
      });
    },
  };
  return ca;
}
