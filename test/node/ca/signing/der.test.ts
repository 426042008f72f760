// The DER writer's encodings against known vectors and openssl asn1parse; the reader's strictness.
import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeOid,
  decodeTime,
  derBitString,
  derBoolean,
  derExplicit,
  derGeneralizedTime,
  derImplicit,
  derInteger,
  derIntegerFromNumber,
  derNamedBits,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSetOf,
  derTime,
  derUtcTime,
  derUtf8String,
  DerSyntaxError,
  readChildren,
  readDer,
} from "../../../../control/ca/signing/der.js";
import { ecdsaSignatureFromDer, ecdsaSignatureToDer } from "../../../../control/ca/signing/ecdsa-signature.js";
import { sha1 } from "../../../../control/ca/signing/sha1.js";
import { hex, OpensslDir } from "./openssl.js";

const dir = new OpensslDir();
afterAll(() => dir.remove());

describe("DER writer", () => {
  it("encodes INTEGERs with the leading-zero rule", () => {
    expect(hex(derInteger(Uint8Array.of(0, 0, 1)))).toBe("020101");
    expect(hex(derInteger(Uint8Array.of(0x80)))).toBe("02020080");
    expect(hex(derInteger(Uint8Array.of(0, 0x80)))).toBe("02020080");
    expect(hex(derInteger(Uint8Array.of(0x7f, 0xff)))).toBe("02027fff");
    expect(hex(derInteger(Uint8Array.of(0)))).toBe("020100");
    expect(hex(derInteger(new Uint8Array(0)))).toBe("020100");
    expect(hex(derIntegerFromNumber(256))).toBe("02020100");
    expect(() => derIntegerFromNumber(-1)).toThrow(TypeError);
  });

  it("encodes OIDs (cached) and decodes them back", () => {
    expect(hex(derOid("1.2.840.10045.4.3.2"))).toBe("06082a8648ce3d040302");
    expect(hex(derOid("2.5.29.17"))).toBe("0603551d11");
    expect(hex(derOid("2.999.3"))).toBe("0603883703");
    expect(derOid("2.5.29.17")).toBe(derOid("2.5.29.17"));
    for (const oid of ["1.2.840.113549.1.9.14", "2.999.3", "0.9.2342.19200300.100.1.25", "1.3.6.1.4.1.311.21.2"]) {
      const der = derOid(oid);
      expect(decodeOid(der, readDer(der, 0))).toBe(oid);
    }
    expect(() => derOid("1.40")).toThrow(TypeError);
    expect(() => derOid("3.1")).toThrow(TypeError);
  });

  it("encodes long-form lengths minimally", () => {
    expect(hex(derOctetString(new Uint8Array(127))).slice(0, 4)).toBe("047f");
    expect(hex(derOctetString(new Uint8Array(128))).slice(0, 6)).toBe("048180");
    expect(hex(derOctetString(new Uint8Array(256))).slice(0, 8)).toBe("04820100");
    expect(hex(derOctetString(new Uint8Array(70000))).slice(0, 10)).toBe("0483011170");
  });

  it("encodes named-bit BIT STRINGs without trailing zero bits", () => {
    expect(hex(derNamedBits([0, 2]))).toBe("030205a0"); // digitalSignature, keyEncipherment
    expect(hex(derNamedBits([0, 5, 6]))).toBe("03020186"); // + keyCertSign, cRLSign
    expect(hex(derNamedBits([8]))).toBe("0303070080"); // decipherOnly
    expect(hex(derBitString(Uint8Array.of(0xff)))).toBe("030200ff");
  });

  it("encodes BOOLEAN, NULL, context tags and SET OF in DER order", () => {
    expect(hex(derBoolean(true))).toBe("0101ff");
    expect(hex(derBoolean(false))).toBe("010100");
    expect(hex(derNull())).toBe("0500");
    expect(hex(derExplicit(3, [derNull()]))).toBe("a3020500");
    expect(hex(derImplicit(6, Uint8Array.of(0x61)))).toBe("860161");
    expect(hex(derSetOf([Uint8Array.of(4, 1, 2), Uint8Array.of(4, 1, 1)]))).toBe("3106040101040102");
  });

  it("uses UTCTime through 2049 and GeneralizedTime from 2050, dropping fractions", () => {
    const text = (der: Uint8Array) => Buffer.from(der.subarray(2)).toString("latin1");
    expect(text(derTime(new Date("2049-12-31T23:59:59.999Z")))).toBe("491231235959Z");
    expect(derTime(new Date("2049-12-31T23:59:59Z"))[0]).toBe(0x17);
    expect(text(derTime(new Date("2050-01-01T00:00:00Z")))).toBe("20500101000000Z");
    expect(derTime(new Date("2050-01-01T00:00:00Z"))[0]).toBe(0x18);
    expect(text(derTime(new Date("1950-01-01T00:00:00Z")))).toBe("500101000000Z");
    expect(derTime(new Date("1949-12-31T23:59:59Z"))[0]).toBe(0x18);
    expect(() => derUtcTime(new Date("2050-01-01T00:00:00Z"))).toThrow(TypeError);
    expect(() => derTime(new Date(Number.NaN))).toThrow(TypeError);
    for (const iso of ["2030-06-01T12:34:56Z", "2050-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2100-02-28T01:02:03Z"]) {
      const der = derTime(new Date(iso));
      expect(decodeTime(der, readDer(der, 0)).toISOString()).toBe(iso.replace("Z", ".000Z"));
    }
    expect(decodeTime(derGeneralizedTime(new Date("0099-01-01T00:00:00Z")), readDer(derGeneralizedTime(new Date("0099-01-01T00:00:00Z")), 0)).getUTCFullYear()).toBe(99);
  });

  it("produces DER that openssl asn1parse reads field by field", () => {
    const der = derSequence([
      derInteger(Uint8Array.of(0x80, 1)),
      derOid("1.2.840.10045.4.3.2"),
      derBoolean(true),
      derNull(),
      derOctetString(Uint8Array.of(1, 2, 3)),
      derBitString(Uint8Array.of(0xa0), 5),
      derUtf8String("wëft"),
      derTime(new Date("2030-01-02T03:04:05Z")),
      derTime(new Date("2051-01-02T03:04:05Z")),
      derExplicit(0, [derInteger(Uint8Array.of(2))]),
      derSetOf([derOctetString(new Uint8Array(300))]),
    ]);
    dir.write("x.der", der);
    const out = dir.ok(["asn1parse", "-inform", "DER", "-in", "x.der"]);
    for (const want of ["INTEGER           :8001", "OBJECT            :ecdsa-with-SHA256", "BOOLEAN           :255", "NULL", "OCTET STRING      [HEX DUMP]:010203", "BIT STRING", "UTF8STRING", "UTCTIME           :300102030405Z", "GENERALIZEDTIME   :20510102030405Z", "cont [ 0 ]", "SET"]) {
      expect(out).toContain(want);
    }
  });
});

describe("DER reader", () => {
  it("walks nested TLVs in place", () => {
    const der = derSequence([derInteger(Uint8Array.of(5)), derSequence([derNull()])]);
    const [a, b] = readChildren(der, readDer(der, 0));
    expect(a).toEqual({ tag: 2, start: 2, contentStart: 4, end: 5 });
    expect(readChildren(der, b!)[0]!.tag).toBe(5);
  });

  it("refuses indefinite, non-minimal and overlong lengths, high tags and truncation", () => {
    const bad = [
      [0x30, 0x80, 0, 0],
      [0x04, 0x81, 0x05, 1, 2, 3, 4, 5],
      [0x04, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0)],
      [0x04, 0x05, 1, 2],
      [0x1f, 0x81, 0x00, 0x00],
      [0x30],
      [0x04, 0x85, 1, 1, 1, 1, 1],
    ];
    for (const bytes of bad) expect(() => readDer(Uint8Array.from(bytes), 0), hex(Uint8Array.from(bytes))).toThrow(DerSyntaxError);
    const seq = Uint8Array.of(0x30, 0x03, 0x04, 0x02, 0x00);
    expect(() => readChildren(seq, readDer(seq, 0))).toThrow(DerSyntaxError);
  });
});

describe("ECDSA signature conversion and SHA-1", () => {
  it("converts raw r||s to DER and back, minimal INTEGERs, and WebCrypto agrees", async () => {
    const raw = new Uint8Array(64);
    raw[0] = 0x80; // r needs a leading zero
    raw[63] = 1; // s is tiny: 31 leading zero bytes stripped
    const der = ecdsaSignatureToDer(raw);
    expect(hex(der)).toBe(`3026022100${"80" + "00".repeat(31)}020101`);
    expect(ecdsaSignatureFromDer(der, 32)).toEqual(raw);
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const data = new Uint8Array(randomBytes(100));
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, data));
    const roundTrip = ecdsaSignatureFromDer(ecdsaSignatureToDer(signature), 32);
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, roundTrip, data)).toBe(true);
    expect(() => ecdsaSignatureFromDer(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01), 32)).toThrow(DerSyntaxError);
    expect(() => ecdsaSignatureFromDer(Uint8Array.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01), 32)).toThrow(/non-minimal/);
  });

  it("computes SHA-1 like node:crypto for every length up to three blocks", () => {
    for (let n = 0; n < 200; n++) {
      const data = new Uint8Array(randomBytes(n));
      expect(hex(sha1(data))).toBe(createHash("sha1").update(data).digest("hex"));
    }
  });
});
