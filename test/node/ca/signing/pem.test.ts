// PEM to DER and back, bundles, and the Base64 underneath, checked against openssl and Node's Buffer.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../../../control/ca/signing/base64.js";
import { derToPem, pemToDer, PemSyntaxError, splitPemBundle } from "../../../../control/ca/signing/pem.js";
import { OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
afterAll(() => dir.remove());

describe("base64", () => {
  it("round-trips every length against Buffer, with and without line wrapping", () => {
    for (let n = 0; n < 130; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      const text = Buffer.from(bytes).toString("base64");
      expect(encodeBase64(bytes)).toBe(text);
      expect(decodeBase64(text)).toEqual(bytes);
      expect(decodeBase64(encodeBase64(bytes, 64))).toEqual(bytes);
    }
  });

  it("refuses bad characters, bad padding and non-canonical trailing bits", () => {
    for (const bad of ["A", "AB=", "ABC", "AB=C", "AB==C", "A===", "AB*D", "QQ==QQ==", "QR==", "QUJ=", "QUI=="]) {
      expect(decodeBase64(bad), bad).toBeUndefined();
    }
    expect(decodeBase64(" QU\r\nI= \n")).toEqual(Uint8Array.of(0x41, 0x42));
  });
});

describe("pemToDer / derToPem", () => {
  const certificatePem = (() => {
    dir.ok(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-subj", "/CN=pem", "-days", "1", "-out", "c.pem"]);
    return dir.read("c.pem");
  })();

  it("decodes openssl's PEM to the same bytes as `openssl x509 -outform DER`", () => {
    dir.ok(["x509", "-in", "c.pem", "-outform", "DER", "-out", "c.der"]);
    expect(pemToDer(certificatePem, "CERTIFICATE")).toEqual(dir.readBytes("c.der"));
  });

  it("writes 64-character lines that openssl reads back", () => {
    const der = pemToDer(certificatePem);
    const pem = derToPem(der, "CERTIFICATE");
    expect(pem.startsWith("-----BEGIN CERTIFICATE-----\n")).toBe(true);
    expect(pem.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
    expect(pem.split("\n").every((line) => line.length <= 64)).toBe(true);
    dir.write("again.pem", pem);
    expect(dir.ok(["x509", "-in", "again.pem", "-noout", "-subject"])).toContain("CN = pem");
  });

  it("ignores explanatory text around the block and accepts any of several labels", () => {
    const der = pemToDer(`Bag Attributes\n  friendlyName: x\n${certificatePem}trailer\n`, ["CERTIFICATE REQUEST", "CERTIFICATE"]);
    expect(der[0]).toBe(0x30);
  });

  it("refuses text without a block, the wrong label, two blocks and a bad body", () => {
    expect(() => pemToDer("not pem at all")).toThrow(PemSyntaxError);
    expect(() => pemToDer(certificatePem, "CERTIFICATE REQUEST")).toThrow(/"CERTIFICATE"; expected "CERTIFICATE REQUEST"/);
    expect(() => pemToDer(certificatePem + certificatePem)).toThrow(/more than one PEM block/);
    expect(() => pemToDer("-----BEGIN X-----\n!!!!\n-----END X-----\n")).toThrow(/invalid Base64/);
    expect(() => pemToDer("-----BEGIN X-----\nQUJD\n-----END Y-----\n")).toThrow(/no matching END/);
    expect(() => derToPem(Uint8Array.of(1), "bad--label")).toThrow(TypeError);
  });
});

describe("splitPemBundle", () => {
  it("splits a chain into its blocks and returns [] without blocks", () => {
    dir.ok(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k2.pem", "-subj", "/CN=two", "-days", "1", "-out", "c2.pem"]);
    const bundle = `${dir.read("c.pem")}\n# comment\n${dir.read("c2.pem")}`;
    const blocks = splitPemBundle(bundle);
    expect(blocks).toHaveLength(2);
    expect(pemToDer(blocks[1]!)).toEqual(pemToDer(dir.read("c2.pem")));
    expect(splitPemBundle("nothing here")).toEqual([]);
  });
});
