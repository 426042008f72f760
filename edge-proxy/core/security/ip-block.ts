/**
 * @module security/ip-block
 * IP addresses and CIDR blocks as AuthorizationPolicy uses them (`ipBlocks`, `remoteIpBlocks`, the
 * `source.ip` / `remote.ip` / `destination.ip` conditions). Every address is held as 16 bytes: IPv4
 * as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so `10.0.0.0/8` also covers `::ffff:10.1.2.3`, the
 * form dual-stack sockets report. A single address is a /32 (IPv4) or /128 (IPv6) block.
 */

/** A parsed CIDR block: the network's 16 bytes and how many leading bits must match. */
export interface IpBlock {
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const;

function parseIpv4(text: string, out: Uint8Array, offset: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === "0")) return false;
    const n = Number(part);
    if (n > 255) return false;
    out[offset + i] = n;
  }
  return true;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An embedded IPv4 address takes the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  const v4 = last !== undefined && last.includes(".") ? last : undefined;
  if (v4 !== undefined) (halves.length === 2 ? tail : head).pop();
  const total = head.length + tail.length + (v4 !== undefined ? 2 : 0);
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const write = (list: string[], start: number): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      const n = parseInt(g, 16);
      out[start + i * 2] = n >> 8;
      out[start + i * 2 + 1] = n & 0xff;
    }
    return true;
  };
  if (!write(head, 0)) return undefined;
  const tailStart = 16 - (tail.length + (v4 !== undefined ? 2 : 0)) * 2;
  if (!write(tail, tailStart)) return undefined;
  if (v4 !== undefined && !parseIpv4(v4, out, 12)) return undefined;
  return out;
}

/** The 16-byte form of an IPv4 or IPv6 address (brackets and a `%zone` are ignored), or undefined. */
export function parseIp(text: string): Uint8Array | undefined {
  let value = text.trim();
  if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
  const zone = value.indexOf("%");
  if (zone !== -1) value = value.slice(0, zone);
  if (value.includes(":")) return parseIpv6(value);
  const out = new Uint8Array(16);
  out.set(V4_MAPPED_PREFIX);
  return parseIpv4(value, out, 12) ? out : undefined;
}

/** RFC 5952 text of a 16-byte IPv6 address: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(bytes: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
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

/** Parses `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32` or `::1`; undefined when it is not an address or block. */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(address);
  if (!bytes) return undefined;
  const isV4 = !address.includes(":");
  const max = isV4 ? 32 : 128;
  let length = max;
  if (slash !== -1) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix)) return undefined;
    length = Number(suffix);
    if (length > max) return undefined;
  }
  return { bytes, prefixLength: isV4 ? length + 96 : length };
}

/** Whether `address` (16 bytes, from {@link parseIp}) lies in `block`. */
export function ipInBlock(address: Uint8Array, block: IpBlock): boolean {
  const full = block.prefixLength >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== block.bytes[i]) return false;
  const rest = block.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[full]! ^ block.bytes[full]!) & mask) === 0;
}
