/**
 * @module edge-proxy/hosts/sidecar/iptables/cidr
 * IPv4 and IPv6 CIDR parsing for the capture flags. A CIDR is kept in the form iptables-save prints it
 * (host bits cleared, IPv6 in RFC 5952 short form), so planned rules compare equal to saved ones.
 */

export type IpFamily = "v4" | "v6";

export interface Cidr {
  family: IpFamily;
  /** `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
  /** Whether the network address is a loopback address (127.0.0.0/8, ::1). */
  loopback: boolean;
}

/** Parses `text` as a CIDR; returns the reason it is not one as a string. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  if (slash < 0) return "not a CIDR (missing /prefix-length, e.g. 10.0.0.0/8)";
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family: IpFamily = address.includes(":") ? "v6" : "v4";
  const bytes = family === "v4" ? parseIpv4(address) : parseIpv6(address);
  if (!bytes) return `not a CIDR (${address === "" ? "empty address" : `"${address}" is not an IP${family === "v4" ? "v4" : "v6"} address`})`;
  const maxPrefix = bytes.length * 8;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return `not a CIDR (prefix length must be 0-${maxPrefix})`;
  }
  const prefix = Number(prefixText);
  const network = bytes.map((byte, i) => {
    const bits = Math.min(8, Math.max(0, prefix - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
  const loopback = family === "v4" ? network[0] === 127 : network.every((b, i) => b === (i === 15 ? 1 : 0));
  const formatted = family === "v4" ? network.join(".") : formatIpv6(network);
  return { family, text: `${formatted}/${prefix}`, loopback };
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255 || (part.length > 1 && part.startsWith("0"))) return undefined;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(bytes: readonly number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
