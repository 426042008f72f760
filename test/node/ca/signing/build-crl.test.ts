// CRLs: openssl verifies their signature against the CA and lists the revoked serials; a revoked
// leaf fails `openssl verify -crl_check`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCrl } from "../../../../control/ca/signing/build-crl.js";
import { createIntermediateCa, createSelfSignedRoot, type CreatedCa } from "../../../../control/ca/signing/create-ca-certificate.js";
import { parseCsr } from "../../../../control/ca/signing/parse-csr.js";
import { derToPem } from "../../../../control/ca/signing/pem.js";
import { serialToHex } from "../../../../control/ca/signing/serial.js";
import { loadIssuingCa, signWorkloadCertificate, type IssuingCa } from "../../../../control/ca/signing/sign-workload-certificate.js";
import { epochSeconds, hex, OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
const THIS_UPDATE = new Date("2030-06-01T00:00:00Z");
const NEXT_UPDATE = new Date("2030-06-01T06:00:00Z");
const AT = epochSeconds(new Date("2030-06-01T01:00:00Z"));
let root: CreatedCa;
let issuer: IssuingCa;

beforeAll(async () => {
  root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z") });
  issuer = await loadIssuingCa(root.certificatePem, root.privateKeyPem);
  dir.write("ca.pem", root.certificatePem);
});
afterAll(() => dir.remove());

async function leaf(name: string, serial: Uint8Array, ca: IssuingCa = issuer): Promise<void> {
  const csr = await parseCsr(dir.csr(name, { sans: "URI:spiffe://cluster.local/ns/default/sa/x" }));
  const der = await signWorkloadCertificate({ spki: csr.spki, spiffeId: "spiffe://cluster.local/ns/default/sa/x", notBefore: new Date("2030-05-31T00:00:00Z"), notAfter: new Date("2030-06-02T00:00:00Z"), serial, issuer: ca });
  dir.write(`${name}.pem`, derToPem(der, "CERTIFICATE"));
}

describe("buildCrl", () => {
  const revokedSerial = Uint8Array.from([0x0a, 0xbc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  const liveSerial = Uint8Array.from([0x7f, 1, 2, 3, 4, 5, 6, 7]);

  it("verifies against the CA with openssl and lists the revoked serials, number and key id", async () => {
    const crl = await buildCrl({
      issuer,
      issuerCertificatePem: root.certificatePem,
      revoked: [
        { serialHex: serialToHex(revokedSerial), revokedAt: new Date("2030-05-31T12:00:00Z") },
        { serialHex: "00ff01", revokedAt: new Date("2030-05-31T13:00:00Z") },
      ],
      thisUpdate: THIS_UPDATE,
      nextUpdate: NEXT_UPDATE,
      crlNumber: 42,
    });
    expect(crl.startsWith("-----BEGIN X509 CRL-----\n")).toBe(true);
    dir.write("crl.pem", crl);
    const verify = dir.run(["crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout"]);
    expect(verify.status).toBe(0);
    expect(verify.stdout + verify.stderr).toContain("verify OK");
    const text = dir.ok(["crl", "-in", "crl.pem", "-noout", "-text"]);
    expect(text).toContain("Version 2 (0x1)");
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
    expect(text).toContain("Issuer: O = cluster.local, CN = Weft Root CA");
    expect(text).toContain(`Serial Number: ${serialToHex(revokedSerial).toUpperCase()}`);
    expect(text).toContain("Serial Number: FF01");
    expect(text).toContain("Revocation Date: May 31 12:00:00 2030 GMT");
    expect(text).toContain("Last Update: Jun  1 00:00:00 2030 GMT");
    expect(text).toContain("Next Update: Jun  1 06:00:00 2030 GMT");
    expect(text).toMatch(/X509v3 CRL Number: *\n\s+42/);
    expect(text).toContain(hex(issuer.subjectKeyId).toUpperCase().match(/../g)!.join(":"));
  });

  it("makes openssl refuse a revoked leaf and accept a live one under -crl_check", async () => {
    await leaf("revoked", revokedSerial);
    await leaf("live", liveSerial);
    const revoked = dir.run(["verify", "-attime", AT, "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "ca.pem", "revoked.pem"]);
    expect(revoked.status).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toContain("certificate revoked");
    expect(dir.ok(["verify", "-attime", AT, "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "ca.pem", "live.pem"]).trim()).toBe("live.pem: OK");
  });

  it("builds an empty CRL without a revokedCertificates field, also for an intermediate", async () => {
    const intermediate = await createIntermediateCa({ issuerCertificatePem: root.certificatePem, issuerPrivateKeyPem: root.privateKeyPem, commonName: "Weft Intermediate", notBefore: new Date("2030-01-01T00:00:00Z") });
    const intermediateIssuer = await loadIssuingCa(intermediate.certificatePem, intermediate.privateKeyPem);
    const crl = await buildCrl({ issuer: intermediateIssuer, revoked: [], thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, crlNumber: 0 });
    dir.write("empty.pem", crl);
    dir.write("int.pem", intermediate.certificatePem);
    const verify = dir.run(["crl", "-in", "empty.pem", "-CAfile", "int.pem", "-noout"]);
    expect(verify.stdout + verify.stderr).toContain("verify OK");
    expect(dir.ok(["crl", "-in", "empty.pem", "-noout", "-text"])).toContain("No Revoked Certificates.");
    expect(dir.run(["crl", "-in", "empty.pem", "-CAfile", "ca.pem", "-noout"]).status).not.toBe(0);
  });

  it("refuses malformed input with TypeError", async () => {
    const base = { issuer, revoked: [], thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, crlNumber: 1 };
    await expect(buildCrl({ ...base, nextUpdate: THIS_UPDATE })).rejects.toThrow(TypeError);
    await expect(buildCrl({ ...base, crlNumber: -1 })).rejects.toThrow(TypeError);
    await expect(buildCrl({ ...base, revoked: [{ serialHex: "zz", revokedAt: THIS_UPDATE }] })).rejects.toThrow(TypeError);
    await expect(buildCrl({ ...base, revoked: [{ serialHex: "01", revokedAt: new Date(Number.NaN) }] })).rejects.toThrow(TypeError);
    const other = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: THIS_UPDATE });
    await expect(buildCrl({ ...base, issuerCertificatePem: other.certificatePem })).rejects.toThrow(/not the issuer's certificate/);
  });
});
