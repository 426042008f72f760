// loadIssuingCa: accepts a P-256 CA certificate with its PKCS#8 key; refuses mismatches and non-CAs with CaNotReady.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CaNotReady } from "../../../../control/errors.js";
import { createSelfSignedRoot, type CreatedCa } from "../../../../control/ca/signing/create-ca-certificate.js";
import { pemToDer } from "../../../../control/ca/signing/pem.js";
import { loadIssuingCa } from "../../../../control/ca/signing/load-issuing-ca.js";
import { hex, OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
let weftRoot: CreatedCa;
let otherRoot: CreatedCa;

beforeAll(async () => {
  weftRoot = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z") });
  otherRoot = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date("2030-01-01T00:00:00Z") });
});
afterAll(() => dir.remove());

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/** A self-signed certificate made by openssl with the given key and extensions; returns [cert, key] PEM. */
function opensslCert(name: string, key: string[], extensions: string[]): [string, string] {
  const args = ["req", "-x509", ...key, "-nodes", "-keyout", `${name}.key`, "-subj", `/CN=${name}`, "-days", "30"];
  for (const e of extensions) args.push("-addext", e);
  dir.ok([...args, "-out", `${name}.pem`]);
  return [dir.read(`${name}.pem`), dir.read(`${name}.key`)];
}

async function refusal(certificatePem: string, keyPem: string): Promise<string> {
  const error = await loadIssuingCa(certificatePem, keyPem).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CaNotReady);
  expect((error as CaNotReady).code).toBe("ERR_CA_NOT_READY");
  return (error as CaNotReady).message;
}

describe("loadIssuingCa", () => {
  it("loads a Weft root: subject, key id and a signing key", async () => {
    const ca = await loadIssuingCa(weftRoot.certificatePem, weftRoot.privateKeyPem);
    expect(ca.certificateDer).toEqual(pemToDer(weftRoot.certificatePem));
    dir.write("weft.pem", weftRoot.certificatePem);
    const ski = dir.ok(["x509", "-in", "weft.pem", "-noout", "-ext", "subjectKeyIdentifier"]);
    expect(ski.replace(/[^0-9A-F]/g, "").slice(-40)).toBe(hex(ca.subjectKeyId).toUpperCase());
    expect(Buffer.from(ca.subjectDer).includes(Buffer.from("Weft Root CA"))).toBe(true);
    expect(ca.privateKey.type).toBe("private");
    expect(ca.privateKey.extractable).toBe(false);
  });

  it("loads an openssl-made P-256 CA with its PKCS#8 key", async () => {
    const [cert, key] = opensslCert("ossl", EC, ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]);
    expect(key).toContain("BEGIN PRIVATE KEY");
    const ca = await loadIssuingCa(cert, key);
    expect(ca.subjectKeyId.length).toBe(20);
  });

  it("refuses a private key that does not match the certificate", async () => {
    expect(await refusal(weftRoot.certificatePem, otherRoot.privateKeyPem)).toMatch(/does not match the CA certificate's public key/);
  });

  it("refuses certificates that are not P-256 CAs with keyCertSign", async () => {
    const [leafLike, leafKey] = opensslCert("noca", EC, ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature"]);
    expect(await refusal(leafLike, leafKey)).toMatch(/CA:TRUE is missing/);
    const [noSign, noSignKey] = opensslCert("nosign", EC, ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature,cRLSign"]);
    expect(await refusal(noSign, noSignKey)).toMatch(/keyCertSign/);
    const [rsa, rsaKey] = opensslCert("rsa", ["-newkey", "rsa:2048"], ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"]);
    expect(await refusal(rsa, rsaKey)).toMatch(/not EC P-256/);
    const [p384, p384Key] = opensslCert("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"], ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"]);
    expect(await refusal(p384, p384Key)).toMatch(/curve 1\.3\.132\.0\.34/);
  });

  it("refuses unreadable, SEC1 and encrypted keys and garbage certificates", async () => {
    expect(await refusal("garbage", weftRoot.privateKeyPem)).toMatch(/CA certificate is unreadable/);
    expect(await refusal(weftRoot.certificatePem, "garbage")).toMatch(/CA private key is unreadable/);
    dir.write("k.pem", weftRoot.privateKeyPem);
    const sec1 = dir.ok(["ec", "-in", "k.pem"]);
    expect(sec1).toContain("BEGIN EC PRIVATE KEY");
    expect(await refusal(weftRoot.certificatePem, sec1)).toMatch(/SEC1/);
    const encrypted = dir.ok(["pkcs8", "-topk8", "-in", "k.pem", "-passout", "pass:x"]);
    expect(await refusal(weftRoot.certificatePem, encrypted)).toMatch(/encrypted/);
    const rsaKey = dir.ok(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    expect(await refusal(weftRoot.certificatePem, rsaKey)).toMatch(/not an EC P-256 PKCS#8 key/);
  });
});
