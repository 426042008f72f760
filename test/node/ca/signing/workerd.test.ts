// The signing layer is Web APIs only: bundled into a Worker and run in workerd (Miniflare), it creates a
// root, parses and verifies an openssl CSR, issues a leaf and a CRL, and openssl accepts all of them.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derToPem, pemToDer } from "../../../../control/ca/signing/pem.js";
import { epochSeconds, OpensslDir } from "./openssl.js";

const WORKER = `
import { createSelfSignedRoot, loadIssuingCa, parseCsr, signWorkloadCertificate, buildCrl, newSerial, serialToHex, derToPem } from "./control/ca/signing/index.ts";
export default {
  async fetch(request) {
    const { csrPem } = await request.json();
    try {
      const root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z") });
      const issuer = await loadIssuingCa(root.certificatePem, root.privateKeyPem);
      const csr = await parseCsr(csrPem);
      const serial = newSerial();
      const leaf = await signWorkloadCertificate({ spki: csr.spki, spiffeId: csr.sans.uris[0], notBefore: new Date("2030-06-01T00:00:00Z"), notAfter: new Date("2030-06-02T00:00:00Z"), serial, issuer });
      const crl = await buildCrl({ issuer, revoked: [{ serialHex: serialToHex(serial), revokedAt: new Date("2030-06-01T00:00:00Z") }], thisUpdate: new Date("2030-06-01T00:00:00Z"), nextUpdate: new Date("2030-06-02T00:00:00Z"), crlNumber: 1 });
      return Response.json({ root: root.certificatePem, leaf: derToPem(leaf, "CERTIFICATE"), crl, serial: serialToHex(serial), keyAlgorithm: csr.keyAlgorithm });
    } catch (error) {
      return Response.json({ error: error.name, code: error.code, message: error.message }, { status: 400 });
    }
  },
};`;

const dir = new OpensslDir();
let mf: Miniflare;

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: WORKER, resolveDir: fileURLToPath(new URL("../../../../", import.meta.url)), loader: "ts", sourcefile: "ca-signing-worker.ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  mf = new Miniflare({ modules: true, script: bundle.outputFiles[0]!.text, compatibilityDate: "2026-04-26" });
  await mf.ready;
});
afterAll(async () => {
  await mf?.dispose();
  dir.remove();
});

async function call(csrPem: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await mf.dispatchFetch("http://ca/", { method: "POST", body: JSON.stringify({ csrPem }) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe("the signing layer inside workerd", () => {
  it("issues a leaf and a CRL from an openssl EC CSR that openssl accepts", async () => {
    const { status, body } = await call(dir.csr("ec", { sans: "URI:spiffe://cluster.local/ns/default/sa/bookinfo" }));
    expect(status).toBe(200);
    expect(body.keyAlgorithm).toBe("EC P-256");
    dir.write("root.pem", body.root!);
    dir.write("leaf.pem", body.leaf!);
    dir.write("crl.pem", body.crl!);
    const at = epochSeconds(new Date("2030-06-01T12:00:00Z"));
    expect(dir.ok(["verify", "-attime", at, "-CAfile", "root.pem", "-purpose", "sslclient", "leaf.pem"]).trim()).toBe("leaf.pem: OK");
    const crl = dir.run(["crl", "-in", "crl.pem", "-CAfile", "root.pem", "-noout"]);
    expect(crl.stdout + crl.stderr).toContain("verify OK");
    expect(dir.ok(["crl", "-in", "crl.pem", "-noout", "-text"])).toContain(`Serial Number: ${body.serial!.toUpperCase()}`);
    expect(dir.ok(["x509", "-in", "leaf.pem", "-noout", "-ext", "subjectAltName"])).toContain("URI:spiffe://cluster.local/ns/default/sa/bookinfo");
  });

  it("verifies RSA 2048 CSRs and refuses a tampered one with CsrInvalid", async () => {
    const rsa = dir.csr("rsa", { key: ["-newkey", "rsa:2048"], sans: "URI:spiffe://cluster.local/ns/default/sa/bookinfo" });
    const ok = await call(rsa);
    expect(ok.status).toBe(200);
    expect(ok.body.keyAlgorithm).toBe("RSA 2048");
    const der = pemToDer(rsa);
    der[der.length - 7]! ^= 0x40; // inside the signature
    const tampered = await call(derToPem(der, "CERTIFICATE REQUEST"));
    expect(tampered.status).toBe(400);
    expect(tampered.body).toMatchObject({ error: "CsrInvalid", code: "ERR_CSR_INVALID", message: "CSR signature does not verify with its public key" });
  });
});
