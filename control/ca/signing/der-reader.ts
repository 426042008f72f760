/**
 * @module der-reader
 * The strict DER reader behind `der`: walks TLVs in place (no copies) by offsets into one buffer.
 * Refuses indefinite or non-minimal lengths, multi-byte tags and lengths past the enclosing TLV.
 */

/** The bytes are not the DER that was expected. Callers turn this into their domain error. */
export class DerSyntaxError extends Error {
  override readonly name = "DerSyntaxError";
}

/** One TLV: `start` is its first byte, `contentStart` the first content byte, `end` one past the last. */
export interface DerNode {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the TLV at `offset`, which must end at or before `limit`. */
export function readDer(buf: Uint8Array, offset: number, limit: number = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerSyntaxError("truncated DER: no room for a tag and length");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerSyntaxError("multi-byte DER tags are not supported");
  let length = buf[offset + 1]!;
  let o = offset + 2;
  if (length >= 0x80) {
    const size = length & 0x7f;
    if (size === 0) throw new DerSyntaxError("indefinite length is not DER");
    if (size > 4) throw new DerSyntaxError("DER length is too large");
    if (o + size > limit) throw new DerSyntaxError("truncated DER length");
    if (buf[o] === 0) throw new DerSyntaxError("non-minimal DER length");
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + buf[o++]!;
    if (length < 0x80) throw new DerSyntaxError("non-minimal DER length");
  }
  const end = o + length;
  if (end > limit) throw new DerSyntaxError("DER value runs past its container");
  return { tag, start: offset, contentStart: o, end };
}

/** The TLVs directly inside a constructed node (or inside [from, to)). */
export function readChildren(buf: Uint8Array, node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerSyntaxError(`DER tag 0x${node.tag.toString(16)} is not constructed`);
  const children: DerNode[] = [];
  for (let o = node.contentStart; o < node.end; ) {
    const child = readDer(buf, o, node.end);
    children.push(child);
    o = child.end;
  }
  return children;
}

/** Throws unless `node` exists and has `tag`; `what` names the field in the message. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new DerSyntaxError(`${what} is missing`);
  if (node.tag !== tag) throw new DerSyntaxError(`${what} has DER tag 0x${node.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return node;
}

/** The content bytes of a node (a view, not a copy). */
export function contentOf(buf: Uint8Array, node: DerNode): Uint8Array {
  return buf.subarray(node.contentStart, node.end);
}

/** The whole TLV of a node (a view, not a copy). */
export function encodingOf(buf: Uint8Array, node: DerNode): Uint8Array {
  return buf.subarray(node.start, node.end);
}

/** Dotted text of an OBJECT IDENTIFIER node. */
export function decodeOid(buf: Uint8Array, node: DerNode): string {
  if (node.tag !== 0x06) throw new DerSyntaxError("expected an OBJECT IDENTIFIER");
  if (node.end === node.contentStart) throw new DerSyntaxError("empty OBJECT IDENTIFIER");
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (let i = node.contentStart; i < node.end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) throw new DerSyntaxError("non-minimal OBJECT IDENTIFIER arc");
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerSyntaxError("OBJECT IDENTIFIER arc is too large");
    fresh = (b & 0x80) === 0;
    if (fresh) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) throw new DerSyntaxError("truncated OBJECT IDENTIFIER");
  return arcs.join(".");
}

function digits(buf: Uint8Array, at: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) {
    const d = buf[at + i]! - 0x30;
    if (d < 0 || d > 9) throw new DerSyntaxError("time has a non-digit");
    v = v * 10 + d;
  }
  return v;
}

/** A UTCTime or GeneralizedTime in RFC 5280's profile (seconds, "Z"). */
export function decodeTime(buf: Uint8Array, node: DerNode): Date {
  const length = node.end - node.contentStart;
  let o = node.contentStart;
  let year: number;
  if (node.tag === 0x17 && length === 13) {
    const yy = digits(buf, o, 2);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    o += 2;
  } else if (node.tag === 0x18 && length === 15) {
    year = digits(buf, o, 4);
    o += 4;
  } else {
    throw new DerSyntaxError("time is not an RFC 5280 UTCTime or GeneralizedTime");
  }
  if (buf[node.end - 1] !== 0x5a) throw new DerSyntaxError("time is not in UTC (Z)");
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((d) => digits(buf, o + d, 2)) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (year < 100) date.setUTCFullYear(year);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    throw new DerSyntaxError("time is not a valid calendar time");
  }
  return date;
}

/** A small non-negative INTEGER (up to 2^48) such as a version or pathLenConstraint. */
export function decodeSmallInteger(buf: Uint8Array, node: DerNode): number {
  if (node.tag !== 0x02) throw new DerSyntaxError("expected an INTEGER");
  const length = node.end - node.contentStart;
  if (length === 0) throw new DerSyntaxError("empty INTEGER");
  if (length > 6) throw new DerSyntaxError("INTEGER is too large");
  const first = buf[node.contentStart]!;
  if (first & 0x80) throw new DerSyntaxError("INTEGER is negative");
  if (length > 1 && first === 0 && (buf[node.contentStart + 1]! & 0x80) === 0) throw new DerSyntaxError("non-minimal INTEGER");
  let v = 0;
  for (let i = node.contentStart; i < node.end; i++) v = v * 256 + buf[i]!;
  return v;
}
