// CA certificates: the self-signed root and the plug-in layout (operator root → Weft intermediate → leaf),
// checked with the real openssl, with operator roots made both by openssl (RSA, P-384, P-256) and by Weft.
import { afterAll, describe, expect, it } from "vitest";
import { CaNotReady } from "../../../../control/errors.js";
import { createIntermediateCa, createSelfSignedRoot } from "../../../../control/ca/signing/create-ca-certificate.js";
import { parseCsr } from "../../../../control/ca/signing/parse-csr.js";
import { derToPem, splitPemBundle } from "../../../../control/ca/signing/pem.js";
import { newSerial } from "../../../../control/ca/signing/serial.js";
import { loadIssuingCa, signWorkloadCertificate } from "../../../../control/ca/signing/sign-workload-certificate.js";
import { epochSeconds, OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
afterAll(() => dir.remove());

const ROOT_FROM = new Date("2030-01-01T00:00:00Z");
const AT = epochSeconds(new Date("2030-06-01T12:00:00Z"));
const BOOKINFO = "spiffe://cluster.local/ns/default/sa/bookinfo";

/** Issues a leaf for a fresh openssl CSR from the CA in (certPem, keyPem); writes it to `name`. */
async function issueLeaf(certificatePem: string, privateKeyPem: string, name: string): Promise<void> {
  const csr = await parseCsr(dir.csr(name, { sans: `URI:${BOOKINFO}` }));
  const issuer = await loadIssuingCa(certificatePem, privateKeyPem);
  const der = await signWorkloadCertificate({ spki: csr.spki, spiffeId: BOOKINFO, notBefore: new Date("2030-06-01T00:00:00Z"), notAfter: new Date("2030-06-02T00:00:00Z"), serial: newSerial(), issuer });
  dir.write(`${name}.pem`, derToPem(der, "CERTIFICATE"));
}

describe("createSelfSignedRoot", () => {
  it("makes a P-256 CA:TRUE root with critical key usages that verifies itself", async () => {
    const root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: ROOT_FROM });
    dir.write("root.pem", root.certificatePem);
    const text = dir.ok(["x509", "-in", "root.pem", "-noout", "-text"]);
    expect(text).toContain("Subject: O = cluster.local, CN = Weft Root CA");
    expect(text).toContain("Issuer: O = cluster.local, CN = Weft Root CA");
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(text).toContain("X509v3 Subject Key Identifier");
    expect(text).toContain("NIST CURVE: P-256");
    expect(text).not.toContain("URI:");
    expect(dir.ok(["x509", "-in", "root.pem", "-noout", "-dates"])).toBe("notBefore=Jan  1 00:00:00 2030 GMT\nnotAfter=Jan  1 00:00:00 2040 GMT\n");
    expect(dir.ok(["verify", "-attime", AT, "-CAfile", "root.pem", "root.pem"]).trim()).toBe("root.pem: OK");
    expect(root.privateKeyPem).toContain("-----BEGIN PRIVATE KEY-----");
    dir.write("root.key", root.privateKeyPem);
    expect(dir.ok(["pkey", "-in", "root.key", "-pubout"])).toBe(dir.ok(["x509", "-in", "root.pem", "-noout", "-pubkey"]));
  });

  it("uses the given keys, name, organization and lifetime", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const root = await createSelfSignedRoot({ keys, commonName: "Mesh Root", organization: "Acme", trustDomain: "acme.internal", notBefore: ROOT_FROM, years: 2 });
    expect(root.keys).toBe(keys);
    dir.write("root2.pem", root.certificatePem);
    expect(dir.ok(["x509", "-in", "root2.pem", "-noout", "-subject", "-enddate"])).toBe("subject=O = Acme, CN = Mesh Root\nnotAfter=Jan  1 00:00:00 2032 GMT\n");
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    dir.ok(["x509", "-in", "root2.pem", "-noout", "-pubkey", "-out", "root2.pub"]);
    expect(dir.ok(["pkey", "-pubin", "-in", "root2.pub", "-outform", "DER"], undefined).length).toBeGreaterThan(0);
    dir.ok(["pkey", "-pubin", "-in", "root2.pub", "-outform", "DER", "-out", "root2.pub.der"]);
    expect(dir.readBytes("root2.pub.der")).toEqual(spki);
    const unextractable = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    await expect(createSelfSignedRoot({ keys: unextractable, trustDomain: "x", notBefore: ROOT_FROM })).rejects.toThrow(TypeError);
    await expect(createSelfSignedRoot({ trustDomain: "x", notBefore: ROOT_FROM, years: 0 })).rejects.toThrow(TypeError);
  });
});

describe("createIntermediateCa (plug-in CA)", () => {
  const operatorRoots: [string, string[]][] = [
    ["RSA 2048", ["-newkey", "rsa:2048"]],
    ["EC P-384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"]],
    ["EC P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]],
  ];
  for (const [label, key] of operatorRoots) {
    it(`chains operator root (openssl, ${label}) → Weft intermediate → leaf`, async () => {
      const name = label.replace(/\W/g, "");
      dir.ok(["req", "-x509", ...key, "-nodes", "-keyout", `${name}.key`, "-subj", "/O=Operator/CN=Operator Root", "-days", "7300",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", `${name}.pem`]);
      const intermediate = await createIntermediateCa({
        issuerCertificatePem: dir.read(`${name}.pem`),
        issuerPrivateKeyPem: dir.read(`${name}.key`),
        commonName: "Weft Intermediate CA",
        organization: "cluster.local",
        notBefore: ROOT_FROM,
        years: 5,
      });
      dir.write(`${name}.int.pem`, intermediate.certificatePem);
      await issueLeaf(intermediate.certificatePem, intermediate.privateKeyPem, `${name}.leaf`);
      expect(dir.ok(["verify", "-attime", AT, "-CAfile", `${name}.pem`, "-untrusted", `${name}.int.pem`, "-purpose", "sslclient", `${name}.leaf.pem`]).trim()).toBe(`${name}.leaf.pem: OK`);
      expect(dir.run(["verify", "-attime", AT, "-CAfile", `${name}.pem`, `${name}.leaf.pem`]).status).not.toBe(0);
      const text = dir.ok(["x509", "-in", `${name}.int.pem`, "-noout", "-text"]);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
      expect(text).toContain("Issuer: O = Operator, CN = Operator Root");
      expect(text).toContain("Subject: O = cluster.local, CN = Weft Intermediate CA");
      const rootSki = dir.ok(["x509", "-in", `${name}.pem`, "-noout", "-ext", "subjectKeyIdentifier"]).split("\n")[1]!.trim();
      expect(text).toMatch(new RegExp(`Authority Key Identifier: *\\n\\s+(keyid:)?${rootSki}`));
      expect(splitPemBundle(intermediate.certificateChainPem)).toHaveLength(2);
    });
  }

  it("chains a Weft-made operator root too, and stops the intermediate at the root's notAfter", async () => {
    const root = await createSelfSignedRoot({ trustDomain: "cluster.local", commonName: "Operator Root", notBefore: ROOT_FROM, years: 3 });
    const intermediate = await createIntermediateCa({ issuerCertificatePem: root.certificatePem, issuerPrivateKeyPem: root.privateKeyPem, commonName: "Weft Intermediate CA", notBefore: ROOT_FROM, years: 10 });
    dir.write("wroot.pem", root.certificatePem);
    dir.write("wint.pem", intermediate.certificatePem);
    await issueLeaf(intermediate.certificatePem, intermediate.privateKeyPem, "wleaf");
    expect(dir.ok(["verify", "-attime", AT, "-CAfile", "wroot.pem", "-untrusted", "wint.pem", "-purpose", "sslserver", "wleaf.pem"]).trim()).toBe("wleaf.pem: OK");
    expect(dir.ok(["x509", "-in", "wint.pem", "-noout", "-enddate"]).trim()).toBe("notAfter=Jan  1 00:00:00 2033 GMT");
  });

  it("refuses a mismatched issuer key and an issuer that may not have CAs below it", async () => {
    const root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: ROOT_FROM });
    const other = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: ROOT_FROM });
    await expect(createIntermediateCa({ issuerCertificatePem: root.certificatePem, issuerPrivateKeyPem: other.privateKeyPem, commonName: "x", notBefore: ROOT_FROM })).rejects.toThrow(/does not match/);
    const intermediate = await createIntermediateCa({ issuerCertificatePem: root.certificatePem, issuerPrivateKeyPem: root.privateKeyPem, commonName: "i", notBefore: ROOT_FROM });
    const below = createIntermediateCa({ issuerCertificatePem: intermediate.certificatePem, issuerPrivateKeyPem: intermediate.privateKeyPem, commonName: "x", notBefore: ROOT_FROM });
    await expect(below).rejects.toThrow(CaNotReady);
    await expect(below).rejects.toThrow(/pathLen 0/);
    dir.ok(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "leafish.key", "-subj", "/CN=leafish", "-days", "30", "-addext", "basicConstraints=critical,CA:FALSE", "-out", "leafish.pem"]);
    await expect(createIntermediateCa({ issuerCertificatePem: dir.read("leafish.pem"), issuerPrivateKeyPem: dir.read("leafish.key"), commonName: "x", notBefore: ROOT_FROM })).rejects.toThrow(/not a CA/);
  });
});
