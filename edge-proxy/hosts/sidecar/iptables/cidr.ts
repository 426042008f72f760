/**
 * @module edge-proxy/hosts/sidecar/iptables/cidr
 * IPv4 and IPv6 CIDR parsing for the capture flags. A CIDR is kept in the form iptables-save prints it
 * (host bits cleared, IPv6 in RFC 5952 short form), so planned rules compare equal to saved ones.
 */

import { formatIpv6, parseIp } from "../../../core/security/ip-block.js";

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
  const parsed = /^[0-9a-fA-F:.]+$/.test(address) ? parseIp(address) : undefined;
  const bytes = parsed === undefined ? undefined : [...(family === "v4" ? parsed.subarray(12) : parsed)];
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
