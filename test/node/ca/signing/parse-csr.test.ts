// parseCsr against CSRs made by the real openssl: accepted keys parse and verify; tampering, garbage and
// unsupported keys or signature algorithms are refused with CsrInvalid naming the problem.
import { afterAll, describe, expect, it } from "vitest";
import { CsrInvalid } from "../../../../control/errors.js";
import { parseCsr } from "../../../../control/ca/signing/parse-csr.js";
import { derToPem, pemToDer } from "../../../../control/ca/signing/pem.js";
import { derBitString, derImplicit, derOctetString, derOid, derSequence } from "../../../../control/ca/signing/der.js";
import { buildCsr, extensionRequest, newP256Keys, sanExtension } from "./csr-builder.js";
import { OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
afterAll(() => dir.remove());

const BOOKINFO = "spiffe://cluster.local/ns/default/sa/bookinfo";

/** The CSR's public key as openssl sees it, SubjectPublicKeyInfo DER. */
function opensslSpki(name: string): Uint8Array {
  dir.ok(["req", "-in", `${name}.csr`, "-noout", "-pubkey", "-out", `${name}.pub.pem`]);
  dir.ok(["pkey", "-pubin", "-in", `${name}.pub.pem`, "-outform", "DER", "-out", `${name}.pub.der`]);
  return dir.readBytes(`${name}.pub.der`);
}

async function refusal(pem: string): Promise<CsrInvalid> {
  const error = await parseCsr(pem).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CsrInvalid);
  expect((error as CsrInvalid).code).toBe("ERR_CSR_INVALID");
  return error as CsrInvalid;
}

describe("parseCsr accepts", () => {
  it("an EC P-256 CSR as Istio's agent sends it (empty subject, one URI SAN)", async () => {
    const pem = dir.csr("ec", { sans: `URI:${BOOKINFO}` });
    const csr = await parseCsr(pem);
    expect(csr.keyAlgorithm).toBe("EC P-256");
    expect(csr.subject).toBe("");
    expect(csr.sans).toEqual({ uris: [BOOKINFO], dns: [], ips: [], emails: [] });
    expect(csr.extensionsRequested).toEqual(["2.5.29.17"]);
    expect(csr.spki).toEqual(opensslSpki("ec"));
  });

  for (const bits of [2048, 3072, 4096] as const) {
    it(`an RSA ${bits} CSR`, async () => {
      const pem = dir.csr(`rsa${bits}`, { key: ["-newkey", `rsa:${bits}`], sans: `URI:${BOOKINFO}` });
      const csr = await parseCsr(pem);
      expect(csr.keyAlgorithm).toBe(`RSA ${bits}`);
      expect(csr.sans.uris).toEqual([BOOKINFO]);
      expect(csr.spki).toEqual(opensslSpki(`rsa${bits}`));
    });
  }

  it("a subject and every SAN kind, reported but not trusted", async () => {
    const pem = dir.csr("many", {
      subject: "/O=Acme, Inc./CN=web",
      sans: `URI:${BOOKINFO},DNS:web.default.svc,IP:10.1.2.3,IP:2001:db8::1,email:ops@example.com,URI:spiffe://other/x`,
    });
    const csr = await parseCsr(pem);
    expect(csr.subject).toBe("CN=web,O=Acme\\, Inc.");
    expect(csr.sans).toEqual({
      uris: [BOOKINFO, "spiffe://other/x"],
      dns: ["web.default.svc"],
      ips: ["10.1.2.3", "2001:db8::1"],
      emails: ["ops@example.com"],
    });
  });

  it("a CSR without extensions, and extra requested extensions listed by OID", async () => {
    expect((await parseCsr(dir.csr("plain", { subject: "/CN=x" }))).extensionsRequested).toEqual([]);
    dir.ok(["req", "-new", "-key", "ec.key", "-subj", "/", "-addext", `subjectAltName=URI:${BOOKINFO}`, "-addext", "keyUsage=digitalSignature", "-addext", "basicConstraints=CA:TRUE", "-out", "ext.csr"]);
    expect((await parseCsr(dir.read("ext.csr"))).extensionsRequested).toEqual(["2.5.29.17", "2.5.29.15", "2.5.29.19"]);
  });

  it("the legacy NEW CERTIFICATE REQUEST label", async () => {
    const der = pemToDer(dir.read("ec.csr"));
    expect((await parseCsr(derToPem(der, "NEW CERTIFICATE REQUEST"))).keyAlgorithm).toBe("EC P-256");
  });
});

describe("parseCsr refuses with CsrInvalid", () => {
  const ecPem = () => dir.read("ec.csr");

  it("a CSR with a byte of its signature flipped", async () => {
    for (const name of ["ec", "rsa2048"]) {
      const der = pemToDer(dir.read(`${name}.csr`));
      der[der.length - 5]! ^= 0x01;
      const error = await refusal(derToPem(der, "CERTIFICATE REQUEST"));
      expect(error.message).toMatch(/signature (does not verify|is not a valid ECDSA signature)/);
    }
  });

  it("a CSR whose signed content was changed (the SAN)", async () => {
    const der = pemToDer(ecPem());
    const at = Buffer.from(der).indexOf("bookinfo");
    expect(at).toBeGreaterThan(0);
    der[at] = "c".charCodeAt(0);
    expect((await refusal(derToPem(der, "CERTIFICATE REQUEST"))).message).toMatch(/does not verify/);
  });

  it("garbage, non-PEM, random DER and the wrong PEM label", async () => {
    expect((await refusal("hello")).message).toMatch(/not PEM/);
    expect((await refusal("")).message).toMatch(/not PEM/);
    expect((await refusal(derToPem(crypto.getRandomValues(new Uint8Array(200)), "CERTIFICATE REQUEST"))).message).toMatch(/malformed/);
    expect((await refusal(derToPem(Uint8Array.of(0x30, 0x00), "CERTIFICATE REQUEST"))).message).toMatch(/malformed/);
    expect((await refusal(ecPem().replaceAll("CERTIFICATE REQUEST", "CERTIFICATE"))).message).toMatch(/expected "CERTIFICATE REQUEST"/);
    expect((await refusal(ecPem() + ecPem())).message).toMatch(/more than one PEM block/);
  });

  it("trailing bytes after the CSR", async () => {
    const der = pemToDer(ecPem());
    const longer = new Uint8Array(der.length + 2);
    longer.set(der);
    expect((await refusal(derToPem(longer, "CERTIFICATE REQUEST"))).message).toMatch(/2 trailing bytes/);
  });

  it("a truncated CSR", async () => {
    const der = pemToDer(ecPem());
    expect((await refusal(derToPem(der.subarray(0, der.length - 10), "CERTIFICATE REQUEST"))).message).toMatch(/malformed/);
  });

  it("other curves, Ed25519, DSA and small RSA keys, naming the key", async () => {
    const p384 = dir.csr("p384", { key: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"], sans: `URI:${BOOKINFO}` });
    expect((await refusal(p384)).message).toMatch(/curve P-384 .* not supported/);
    const k1 = dir.csr("k1", { key: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"] });
    expect((await refusal(k1)).message).toMatch(/secp256k1/);
    const ed = dir.csr("ed", { key: ["-newkey", "ed25519"], sans: `URI:${BOOKINFO}` });
    expect((await refusal(ed)).message).toMatch(/Ed25519 .*keys are not supported/);
    const rsa1024 = dir.csr("rsa1024", { key: ["-newkey", "rsa:1024"] });
    expect((await refusal(rsa1024)).message).toMatch(/RSA 1024-bit keys are not supported/);
    dir.ok(["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", "dsa.param"]);
    const dsa = dir.csr("dsa", { key: ["-newkey", "dsa:dsa.param"] });
    expect((await refusal(dsa)).message).toMatch(/DSA .*keys are not supported/);
  });

  it("signature algorithms other than ecdsa-with-SHA256 and sha256WithRSAEncryption", async () => {
    dir.ok(["req", "-new", "-key", "ec.key", "-subj", "/", "-sha384", "-out", "ec384.csr"]);
    expect((await refusal(dir.read("ec384.csr"))).message).toMatch(/ecdsa-with-SHA384/);
    dir.ok(["req", "-new", "-key", "rsa2048.key", "-subj", "/", "-sha1", "-out", "rsasha1.csr"]);
    expect((await refusal(dir.read("rsasha1.csr"))).message).toMatch(/sha1WithRSAEncryption/);
    dir.ok(["req", "-new", "-key", "rsa2048.key", "-subj", "/", "-sigopt", "rsa_padding_mode:pss", "-out", "pss.csr"]);
    expect((await refusal(dir.read("pss.csr"))).message).toMatch(/RSASSA-PSS/);
  });

  it("a compressed EC point", async () => {
    const keys = await newP256Keys();
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    const point = spki.subarray(spki.length - 65);
    const algorithm = spki.subarray(2, spki.length - 68); // the AlgorithmIdentifier TLV (the key BIT STRING is 68 bytes)
    const compressed = derSequence([algorithm, derBitString(Uint8Array.of(0x02 | (point[64]! & 1), ...point.subarray(1, 33)))]);
    expect((await refusal(await buildCsr({ keys, spki: compressed }))).message).toMatch(/compressed EC points/);
  });

  it("a key that is not on the curve", async () => {
    const keys = await newP256Keys();
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    spki[spki.length - 1]! ^= 1;
    expect((await refusal(await buildCsr({ keys, spki }))).message).toMatch(/not a valid P-256 point/);
  });

  it("a requested extension twice, or two extensionRequest attributes", async () => {
    const keys = await newP256Keys();
    const san = sanExtension("spiffe://cluster.local/ns/default/sa/x");
    expect((await refusal(await buildCsr({ keys, attributes: [extensionRequest([san, san])] }))).message).toMatch(/requested twice/);
    const twice = await buildCsr({ keys, attributes: [extensionRequest([san]), extensionRequest([san])] });
    expect((await refusal(twice)).message).toMatch(/more than one extensionRequest/);
  });

  it("a SAN with a malformed iPAddress or non-ASCII URI", async () => {
    const keys = await newP256Keys();
    const badIp = derSequence([derOid("2.5.29.17"), derOctetString(derSequence([derImplicit(7, Uint8Array.of(1, 2, 3))]))]);
    expect((await refusal(await buildCsr({ keys, attributes: [extensionRequest([badIp])] }))).message).toMatch(/iPAddress SAN has 3 bytes/);
    expect((await refusal(await buildCsr({ keys, uri: "spiffe://clüster/ns/a/sa/b" }))).message).toMatch(/not printable ASCII/);
  });

  it("(control) accepts the builder's well-formed CSR, so the refusals above are about the defect", async () => {
    const csr = await parseCsr(await buildCsr({ keys: await newP256Keys(), uri: BOOKINFO }));
    expect(csr.sans.uris).toEqual([BOOKINFO]);
  });
});
