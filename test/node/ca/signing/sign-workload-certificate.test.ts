// Issued leaves, checked by the real openssl (verify for TLS client and server use, x509 -text) and by
// Node's X509Certificate; the clock is fixed with `openssl verify -attime`.
import { X509Certificate, createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSelfSignedRoot, type CreatedCa } from "../../../../control/ca/signing/create-ca-certificate.js";
import { parseCsr } from "../../../../control/ca/signing/parse-csr.js";
import { derToPem } from "../../../../control/ca/signing/pem.js";
import { newSerial, serialToHex } from "../../../../control/ca/signing/serial.js";
import { loadIssuingCa, signWorkloadCertificate, type IssuingCa, type WorkloadCertificateInput } from "../../../../control/ca/signing/sign-workload-certificate.js";
import { epochSeconds, hex, OpensslDir } from "./openssl.js";

const BOOKINFO = "spiffe://cluster.local/ns/default/sa/bookinfo";
const NOT_BEFORE = new Date("2030-06-01T00:00:00Z");
const NOT_AFTER = new Date("2030-06-02T00:00:00Z");
const AT = epochSeconds(new Date("2030-06-01T12:00:00Z"));
const SERIAL = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);

const dir = new OpensslDir();
let root: CreatedCa;
let issuer: IssuingCa;

beforeAll(async () => {
  root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z") });
  issuer = await loadIssuingCa(root.certificatePem, root.privateKeyPem);
  dir.write("root.pem", root.certificatePem);
});
afterAll(() => dir.remove());

async function issue(csrName: string, overrides: Partial<WorkloadCertificateInput> = {}): Promise<string> {
  const csr = await parseCsr(dir.read(`${csrName}.csr`));
  const der = await signWorkloadCertificate({ spki: csr.spki, spiffeId: BOOKINFO, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, serial: SERIAL, issuer, ...overrides });
  const pem = derToPem(der, "CERTIFICATE");
  dir.write(`${csrName}.leaf.pem`, pem);
  return pem;
}

describe("signWorkloadCertificate", () => {
  it("issues an EC leaf that openssl verifies for TLS client and server use", async () => {
    dir.csr("ec", { sans: `URI:${BOOKINFO}` });
    await issue("ec");
    for (const purpose of ["sslclient", "sslserver"]) {
      expect(dir.ok(["verify", "-attime", AT, "-CAfile", "root.pem", "-purpose", purpose, "ec.leaf.pem"]).trim()).toBe("ec.leaf.pem: OK");
    }
    const expired = dir.run(["verify", "-attime", epochSeconds(new Date("2030-06-03T00:00:00Z")), "-CAfile", "root.pem", "ec.leaf.pem"]);
    expect(expired.status).not.toBe(0);
    expect(expired.stdout + expired.stderr).toMatch(/certificate has expired/);
  });

  it("has the profile: v3, serial, empty subject, critical URI SAN, CA:FALSE, key usages, key ids", async () => {
    const text = dir.ok(["x509", "-in", "ec.leaf.pem", "-noout", "-text"]);
    expect(text).toContain("Version: 3 (0x2)");
    expect(text).toContain("12:34:56:78:9a:bc:de:f0:01:02:03:04:05:06:07:08");
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toContain("Issuer: O = cluster.local, CN = Weft Root CA");
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\n\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: *\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(dir.ok(["x509", "-in", "ec.leaf.pem", "-noout", "-serial"]).trim()).toBe(`serial=${serialToHex(SERIAL).toUpperCase()}`);
    expect(dir.ok(["x509", "-in", "ec.leaf.pem", "-noout", "-dates"])).toBe("notBefore=Jun  1 00:00:00 2030 GMT\nnotAfter=Jun  2 00:00:00 2030 GMT\n");

    const csr = await parseCsr(dir.read("ec.csr"));
    const keyId = createHash("sha1").update(csr.spki.subarray(csr.spki.length - 65)).digest("hex");
    const colons = (h: string) => h.toUpperCase().match(/../g)!.join(":");
    expect(text).toMatch(new RegExp(`X509v3 Subject Key Identifier: *\\n\\s+${colons(keyId)}`));
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier: *\\n\\s+(keyid:)?${colons(hex(issuer.subjectKeyId))}`));
  });

  it("copies the CSR's SubjectPublicKeyInfo verbatim, and Node's X509Certificate agrees", async () => {
    dir.ok(["x509", "-in", "ec.leaf.pem", "-noout", "-pubkey", "-out", "leafpub.pem"]);
    dir.ok(["pkey", "-pubin", "-in", "leafpub.pem", "-outform", "DER", "-out", "leafpub.der"]);
    expect(dir.readBytes("leafpub.der")).toEqual((await parseCsr(dir.read("ec.csr"))).spki);
    const leaf = new X509Certificate(dir.read("ec.leaf.pem"));
    const ca = new X509Certificate(root.certificatePem);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toBe(`URI:${BOOKINFO}`);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject ?? "").toBe(""); // Node reports an empty subject as undefined
  });

  it("issues for RSA 2048 keys too (the leaf is still signed ECDSA by the CA)", async () => {
    dir.csr("rsa", { key: ["-newkey", "rsa:2048"], sans: `URI:${BOOKINFO}` });
    await issue("rsa");
    expect(dir.ok(["verify", "-attime", AT, "-CAfile", "root.pem", "-purpose", "sslserver", "rsa.leaf.pem"]).trim()).toBe("rsa.leaf.pem: OK");
    expect(dir.ok(["x509", "-in", "rsa.leaf.pem", "-noout", "-text"])).toContain("Public-Key: (2048 bit)");
  });

  it("pads a serial whose top bit is set and uses GeneralizedTime from 2050", async () => {
    const serial = Uint8Array.from([0x80, ...new Array(15).fill(0x11)]);
    const longRoot = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z"), years: 30 });
    dir.write("long-root.pem", longRoot.certificatePem);
    const longIssuer = await loadIssuingCa(longRoot.certificatePem, longRoot.privateKeyPem);
    await issue("ec", { serial, issuer: longIssuer, notBefore: new Date("2049-12-31T00:00:00Z"), notAfter: new Date("2050-01-02T00:00:00Z") });
    const asn1 = dir.ok(["asn1parse", "-in", "ec.leaf.pem"]);
    expect(asn1).toContain(`INTEGER           :80${"11".repeat(15).toUpperCase()}`);
    expect(asn1).toContain("UTCTIME           :491231000000Z");
    expect(asn1).toContain("GENERALIZEDTIME   :20500102000000Z");
    expect(dir.ok(["verify", "-attime", epochSeconds(new Date("2050-01-01T00:00:00Z")), "-CAfile", "long-root.pem", "ec.leaf.pem"]).trim()).toBe("ec.leaf.pem: OK");
  });

  it("builds each issuer's constant pieces for that issuer only", async () => {
    const other = await createSelfSignedRoot({ trustDomain: "other.local", commonName: "Other Root", notBefore: new Date("2030-01-01T00:00:00Z") });
    const otherIssuer = await loadIssuingCa(other.certificatePem, other.privateKeyPem);
    dir.write("other.pem", other.certificatePem);
    await issue("ec", { issuer: otherIssuer, serial: newSerial() });
    expect(dir.ok(["verify", "-attime", AT, "-CAfile", "other.pem", "ec.leaf.pem"]).trim()).toBe("ec.leaf.pem: OK");
    expect(dir.run(["verify", "-attime", AT, "-CAfile", "root.pem", "ec.leaf.pem"]).status).not.toBe(0);
    await issue("ec", { serial: newSerial() });
    expect(dir.ok(["verify", "-attime", AT, "-CAfile", "root.pem", "ec.leaf.pem"]).trim()).toBe("ec.leaf.pem: OK");
  });

  it("refuses malformed input with TypeError", async () => {
    const { spki } = await parseCsr(dir.read("ec.csr"));
    const base: WorkloadCertificateInput = { spki, spiffeId: BOOKINFO, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, serial: SERIAL, issuer };
    const bad: Partial<WorkloadCertificateInput>[] = [
      { spiffeId: "https://example.com" },
      { spiffeId: "spiffe://cluster.local/ns/default/sa/bookinfo\u00e9" },
      { notAfter: NOT_BEFORE },
      { notBefore: new Date(Number.NaN) },
      { serial: Uint8Array.of(1, 2, 3) },
      { serial: new Uint8Array(16) },
      { serial: Uint8Array.from([0x80, ...new Array(19).fill(1)]) },
      { spki: Uint8Array.of(0x30, 0x00) },
      { issuer: { ...issuer, subjectKeyId: new Uint8Array(0) } },
    ];
    for (const override of bad) await expect(signWorkloadCertificate({ ...base, ...override }), JSON.stringify(Object.keys(override))).rejects.toThrow(TypeError);
  });
});
