/**
 * @module ecdsa-signature
 * WebCrypto's ECDSA signatures are raw r||s (IEEE P1363); X.509 carries DER Ecdsa-Sig-Value
 * (RFC 3279 §2.2.3: SEQUENCE { r INTEGER, s INTEGER }). This converts both ways.
 */
import { DerSyntaxError, readDer, writeHeader, lengthSize } from "./der.js";

/** Raw r||s (2 × `size` bytes) to DER Ecdsa-Sig-Value. */
export function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new TypeError("ecdsaSignatureToDer: raw signature must be r||s of equal halves");
  const size = raw.length / 2;
  let r = 0;
  while (r < size - 1 && raw[r] === 0) r++;
  let s = size;
  while (s < raw.length - 1 && raw[s] === 0) s++;
  const rPad = raw[r]! & 0x80 ? 1 : 0;
  const sPad = raw[s]! & 0x80 ? 1 : 0;
  const rLen = size - r + rPad;
  const sLen = raw.length - s + sPad;
  const body = 2 + rLen + 2 + sLen;
  const out = new Uint8Array(1 + lengthSize(body) + body);
  let o = writeHeader(out, 0, 0x30, body);
  out[o++] = 0x02;
  out[o++] = rLen;
  o += rPad;
  out.set(raw.subarray(r, size), o);
  o += size - r;
  out[o++] = 0x02;
  out[o++] = sLen;
  o += sPad;
  out.set(raw.subarray(s), o);
  return out;
}

function copyInteger(der: Uint8Array, start: number, end: number, out: Uint8Array, at: number, size: number): void {
  let i = start;
  if (end === i) throw new DerSyntaxError("empty INTEGER in ECDSA signature");
  if (der[i]! & 0x80) throw new DerSyntaxError("negative INTEGER in ECDSA signature");
  if (der[i] === 0 && end - i > 1) {
    if ((der[i + 1]! & 0x80) === 0) throw new DerSyntaxError("non-minimal INTEGER in ECDSA signature");
    i++;
  }
  const length = end - i;
  if (length > size) throw new DerSyntaxError("ECDSA signature INTEGER is longer than the curve order");
  out.set(der.subarray(i, end), at + size - length);
}

/** DER Ecdsa-Sig-Value to raw r||s with each half `size` bytes (32 for P-256). */
export function ecdsaSignatureFromDer(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const seq = readDer(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new DerSyntaxError("ECDSA signature is not one DER SEQUENCE");
  const r = readDer(der, seq.contentStart, seq.end);
  const s = readDer(der, r.end, seq.end);
  if (r.tag !== 0x02 || s.tag !== 0x02 || s.end !== seq.end) throw new DerSyntaxError("ECDSA signature is not SEQUENCE { r INTEGER, s INTEGER }");
  const raw = new Uint8Array(size * 2);
  copyInteger(der, r.contentStart, r.end, raw, 0, size);
  copyInteger(der, s.contentStart, s.end, raw, size, size);
  return raw;
}
