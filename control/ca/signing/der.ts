/**
 * @module der
 * A minimal DER (X.690) writer and reader for the certificates, CSRs and CRLs the CA handles.
 * Writers return fresh Uint8Arrays and allocate once per TLV; OID encodings are cached.
 * The reader is strict: definite minimal lengths, single-byte tags, no bytes past the end.
 */

export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_PRINTABLE_STRING = 0x13;
export const TAG_IA5_STRING = 0x16;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_SEQUENCE = 0x30;
export const TAG_SET = 0x31;

// ---------------------------------------------------------------------------------------------- writer

/** Bytes a whole TLV takes for a content of `length` bytes (single-byte tag). */
export function tlvSize(length: number): number {
  return 1 + lengthSize(length) + length;
}

/** Bytes a DER length field takes for a content of `length` bytes. */
export function lengthSize(length: number): number {
  return length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : length < 0x1000000 ? 4 : 5;
}

/** Writes tag and length at `offset`; returns the offset of the content. */
export function writeHeader(out: Uint8Array, offset: number, tag: number, length: number): number {
  out[offset++] = tag;
  if (length < 0x80) {
    out[offset++] = length;
    return offset;
  }
  const size = lengthSize(length) - 1;
  out[offset++] = 0x80 | size;
  for (let shift = (size - 1) * 8; shift >= 0; shift -= 8) out[offset++] = (length >>> shift) & 0xff;
  return offset;
}

/** One TLV around `content`. */
export function derTlv(tag: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(1 + lengthSize(content.length) + content.length);
  out.set(content, writeHeader(out, 0, tag, content.length));
  return out;
}

/** One constructed TLV whose content is the concatenation of `parts`. */
export function derConstructed(tag: number, parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(1 + lengthSize(length) + length);
  let o = writeHeader(out, 0, tag, length);
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function derSequence(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derConstructed(TAG_SEQUENCE, parts);
}

/** A SET OF: DER orders the encoded elements (X.690 §11.6). */
export function derSetOf(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derConstructed(TAG_SET, [...parts].sort(compareBytes));
}

/** Explicit (constructed) context tag [n] around `parts`. */
export function derExplicit(n: number, parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derConstructed(0xa0 | n, parts);
}

/** Implicit primitive context tag [n] with `content` (e.g. GeneralName's uniformResourceIdentifier is [6]). */
export function derImplicit(n: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(0x80 | n, content);
}

/** A non-negative INTEGER from big-endian unsigned bytes: redundant leading zeros dropped, one added if the top bit is set. */
export function derInteger(magnitude: Uint8Array): Uint8Array<ArrayBuffer> {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const pad = magnitude.length === 0 || (magnitude[i]! & 0x80) !== 0 ? 1 : 0;
  const length = magnitude.length - i + pad;
  const out = new Uint8Array(1 + lengthSize(length) + length);
  const o = writeHeader(out, 0, TAG_INTEGER, length) + pad;
  out.set(magnitude.subarray(i), o);
  return out;
}

/** A non-negative INTEGER from a safe integer. */
export function derIntegerFromNumber(value: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`derIntegerFromNumber: ${value} is not a non-negative safe integer`);
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return derInteger(Uint8Array.from(bytes));
}

const OID_CACHE = new Map<string, Uint8Array<ArrayBuffer>>();
const OID_TEXT = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

/** An OBJECT IDENTIFIER from dotted text; encodings are cached (callers must not mutate the result). */
export function derOid(dotted: string): Uint8Array<ArrayBuffer> {
  const cached = OID_CACHE.get(dotted);
  if (cached !== undefined) return cached;
  if (!OID_TEXT.test(dotted)) throw new TypeError(`derOid: "${dotted}" is not a dotted OID`);
  const arcs = dotted.split(".").map(Number);
  const first = arcs[0]!;
  const second = arcs[1]!;
  if (first < 2 && second > 39) throw new TypeError(`derOid: second arc of "${dotted}" is above 39`);
  const content: number[] = [];
  for (const arc of [first * 40 + second, ...arcs.slice(2)]) {
    if (!Number.isSafeInteger(arc)) throw new TypeError(`derOid: arc of "${dotted}" is too large`);
    const group: number[] = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | v % 128);
    content.push(...group);
  }
  const encoded = derTlv(TAG_OID, Uint8Array.from(content));
  OID_CACHE.set(dotted, encoded);
  return encoded;
}

/** A BIT STRING whose last byte has `unusedBits` unused (zero) bits. */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(2 + lengthSize(bytes.length + 1) + bytes.length);
  const o = writeHeader(out, 0, TAG_BIT_STRING, bytes.length + 1);
  out[o] = unusedBits;
  out.set(bytes, o + 1);
  return out;
}

/** A named-bit BIT STRING (e.g. KeyUsage) from bit numbers, trailing zero bits removed as DER requires. */
export function derNamedBits(bits: readonly number[]): Uint8Array<ArrayBuffer> {
  const top = Math.max(-1, ...bits);
  const bytes = new Uint8Array(top < 0 ? 0 : (top >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return derBitString(bytes, top < 0 ? 0 : 7 - (top & 7));
}

export function derOctetString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(TAG_OCTET_STRING, bytes);
}

const DER_NULL = Uint8Array.of(TAG_NULL, 0);
export function derNull(): Uint8Array<ArrayBuffer> {
  return DER_NULL.slice();
}

export function derBoolean(value: boolean): Uint8Array<ArrayBuffer> {
  return Uint8Array.of(TAG_BOOLEAN, 1, value ? 0xff : 0);
}

/** ASCII text (checked) as the bytes of a string type. */
export function asciiBytes(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || c < 0x20) throw new TypeError(`non-printable-ASCII character in "${text}"`);
    out[i] = c;
  }
  return out;
}

export function derUtf8String(text: string): Uint8Array<ArrayBuffer> {
  return derTlv(TAG_UTF8_STRING, new TextEncoder().encode(text));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
export function derPrintableString(text: string): Uint8Array<ArrayBuffer> {
  if (!PRINTABLE.test(text)) throw new TypeError(`"${text}" is not a PrintableString`);
  return derTlv(TAG_PRINTABLE_STRING, asciiBytes(text));
}

export function derIa5String(text: string): Uint8Array<ArrayBuffer> {
  return derTlv(TAG_IA5_STRING, asciiBytes(text));
}

function isUtcTimeYear(year: number): boolean {
  return year >= 1950 && year <= 2049;
}

/** Writes `date`'s digits and "Z" at `offset` (2- or 4-digit year); returns the offset after them. */
function writeTimeDigits(out: Uint8Array, offset: number, date: Date, fourDigitYear: boolean): number {
  if (!Number.isFinite(date.getTime())) throw new TypeError("invalid Date");
  const year = date.getUTCFullYear();
  let o = offset;
  if (fourDigitYear) {
    out[o++] = 0x30 + Math.floor(year / 1000);
    out[o++] = 0x30 + (Math.floor(year / 100) % 10);
  }
  out[o++] = 0x30 + (Math.floor(year / 10) % 10);
  out[o++] = 0x30 + (year % 10);
  for (const f of [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]) {
    out[o++] = 0x30 + Math.floor(f / 10);
    out[o++] = 0x30 + (f % 10);
  }
  out[o++] = 0x5a; // Z
  return o;
}

function timeDigits(date: Date, fourDigitYear: boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(fourDigitYear ? 15 : 13);
  writeTimeDigits(out, 0, date, fourDigitYear);
  return out;
}

/** Encoded size of derTime(date). */
export function timeSize(date: Date): number {
  return isUtcTimeYear(date.getUTCFullYear()) ? 15 : 17;
}

/** Writes derTime(date) at `offset` without allocating; returns the offset after it. */
export function writeTime(out: Uint8Array, offset: number, date: Date): number {
  const year = date.getUTCFullYear();
  if (isUtcTimeYear(year)) {
    out[offset] = TAG_UTC_TIME;
    out[offset + 1] = 13;
    return writeTimeDigits(out, offset + 2, date, false);
  }
  if (!(year >= 0 && year <= 9999)) throw new TypeError(`year ${year} is outside 0000–9999`);
  out[offset] = TAG_GENERALIZED_TIME;
  out[offset + 1] = 15;
  return writeTimeDigits(out, offset + 2, date, true);
}

/** UTCTime YYMMDDHHMMSSZ; years 1950–2049 only. Fractions of a second are dropped. */
export function derUtcTime(date: Date): Uint8Array<ArrayBuffer> {
  const year = date.getUTCFullYear();
  if (!isUtcTimeYear(year)) throw new TypeError(`derUtcTime: year ${year} is outside 1950–2049`);
  return derTlv(TAG_UTC_TIME, timeDigits(date, false));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.2: no fractions). Years 0000–9999. */
export function derGeneralizedTime(date: Date): Uint8Array<ArrayBuffer> {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new TypeError(`derGeneralizedTime: year ${year} is outside 0000–9999`);
  return derTlv(TAG_GENERALIZED_TIME, timeDigits(date, true));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function derTime(date: Date): Uint8Array<ArrayBuffer> {
  return isUtcTimeYear(date.getUTCFullYear()) ? derUtcTime(date) : derGeneralizedTime(date);
}

/** Lexicographic byte order (shorter prefix first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export { DerSyntaxError, readDer, readChildren, expectTag, contentOf, encodingOf, decodeOid, decodeTime, decodeSmallInteger, type DerNode } from "./der-reader.js";
