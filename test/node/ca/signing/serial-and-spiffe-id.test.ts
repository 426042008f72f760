// Serial numbers and SPIFFE IDs.
import { describe, expect, it } from "vitest";
import { newSerial, serialFromHex, serialToHex } from "../../../../control/ca/signing/serial.js";
import { isSpiffeId, parseSpiffeId, spiffeId } from "../../../../control/ca/signing/spiffe-id.js";

describe("serials", () => {
  it("makes 16 random bytes, top bit clear, nonzero, never repeating", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const serial = newSerial();
      expect(serial).toHaveLength(16);
      expect(serial[0]! & 0x80).toBe(0);
      expect(serial.some((b) => b !== 0)).toBe(true);
      seen.add(serialToHex(serial));
    }
    expect(seen.size).toBe(2000);
  });

  it("prints lowercase hex without leading zero bytes and parses it back", () => {
    expect(serialToHex(Uint8Array.of(0, 0, 0x0a, 0xbc))).toBe("0abc");
    expect(serialToHex(Uint8Array.of(0, 0))).toBe("00");
    expect(serialToHex(Uint8Array.of(0x7f, 0xff))).toBe("7fff");
    expect(serialFromHex("abc")).toEqual(Uint8Array.of(0x0a, 0xbc));
    expect(serialFromHex("0x0ABC")).toEqual(Uint8Array.of(0x0a, 0xbc));
    const serial = newSerial();
    expect(serialToHex(serialFromHex(serialToHex(serial)))).toBe(serialToHex(serial));
    expect(() => serialFromHex("xyz")).toThrow(TypeError);
    expect(() => serialFromHex("")).toThrow(TypeError);
    expect(() => serialFromHex("1".repeat(41))).toThrow(TypeError);
  });
});

describe("SPIFFE IDs", () => {
  it("builds and parses Istio's workload shape", () => {
    const id = spiffeId("cluster.local", "default", "bookinfo");
    expect(id).toBe("spiffe://cluster.local/ns/default/sa/bookinfo");
    expect(parseSpiffeId(id)).toEqual({ trustDomain: "cluster.local", namespace: "default", serviceAccount: "bookinfo" });
    expect(parseSpiffeId("spiffe://td/ns/a-b/sa/my.sa")).toEqual({ trustDomain: "td", namespace: "a-b", serviceAccount: "my.sa" });
  });

  it("refuses anything else", () => {
    for (const uri of [
      "spiffe://cluster.local/ns/default/sa/bookinfo/extra",
      "spiffe://cluster.local/ns/default/sa/",
      "spiffe://cluster.local/namespace/default/sa/x",
      "spiffe://Cluster.local/ns/default/sa/x",
      "spiffe://cluster..local/ns/default/sa/x",
      "spiffe://cluster.local/ns/Default/sa/x",
      "spiffe://cluster.local/ns/-a/sa/x",
      "spiffe://cluster.local/ns/default/sa/x?y=1",
      "spiffe://cluster.local:443/ns/default/sa/x",
      "spiffe://user@cluster.local/ns/default/sa/x",
      "https://cluster.local/ns/default/sa/x",
      "spiffe:///ns/default/sa/x",
      `spiffe://cluster.local/ns/${"a".repeat(64)}/sa/x`,
      "",
    ]) {
      expect(parseSpiffeId(uri), uri).toBeUndefined();
    }
    expect(() => spiffeId("cluster.local", "Default", "x")).toThrow(TypeError);
    expect(() => spiffeId("cluster/local", "default", "x")).toThrow(TypeError);
    expect(() => spiffeId("cluster.local", "default", "")).toThrow(TypeError);
  });

  it("checks general SPIFFE IDs per the standard", () => {
    expect(isSpiffeId("spiffe://example.org/service/Web_1")).toBe(true);
    expect(isSpiffeId("spiffe://cluster.local/ns/default/sa/bookinfo")).toBe(true);
    for (const uri of ["spiffe://example.org", "spiffe://example.org/", "spiffe://example.org/a//b", "spiffe://example.org/a/../b", "spiffe://example.org/./b", "spiffe://Example.org/a", "spiffe://example.org/a b", `spiffe://e.org/${"a".repeat(2040)}`]) {
      expect(isSpiffeId(uri), uri).toBe(false);
    }
  });
});
