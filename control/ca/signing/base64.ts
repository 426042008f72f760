/**
 * @module base64
 * Table-driven standard Base64 (RFC 4648 §4) for PEM bodies: decoding skips whitespace and refuses any
 * other character, bad padding or leftover bits. Faster than atob and free of string round trips.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const WHITESPACE = -2;
const INVALID = -1;
const DECODE = new Int8Array(256).fill(INVALID);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
for (const c of [9, 10, 11, 12, 13, 32]) DECODE[c] = WHITESPACE;
const ENCODE = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

/** Decodes `text.slice(start, end)`; returns undefined if it is not valid Base64. */
export function decodeBase64(text: string, start = 0, end = text.length): Uint8Array<ArrayBuffer> | undefined {
  const out = new Uint8Array((((end - start) * 3) >> 2) + 3);
  let n = 0;
  let acc = 0;
  let count = 0; // characters in the current quantum
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 256 ? DECODE[c]! : INVALID;
    if (v >= 0) {
      acc = (acc << 6) | v;
      if (++count === 4) {
        out[n++] = acc >> 16;
        out[n++] = (acc >> 8) & 0xff;
        out[n++] = acc & 0xff;
        acc = 0;
        count = 0;
      }
    } else if (v !== WHITESPACE) {
      break;
    }
  }
  // A final quantum of 2 or 3 characters must be followed by "==" or "=" and then only whitespace.
  let padding = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 61 /* = */) padding++;
    else if (c >= 256 || DECODE[c] !== WHITESPACE) return undefined;
  }
  if (count === 0) return padding === 0 ? out.slice(0, n) : undefined;
  if (count === 1 || padding !== 4 - count) return undefined;
  if (count === 2) {
    if (acc & 0x0f) return undefined; // non-canonical trailing bits
    out[n++] = acc >> 4;
  } else {
    if (acc & 0x03) return undefined;
    out[n++] = acc >> 10;
    out[n++] = (acc >> 2) & 0xff;
  }
  return out.slice(0, n);
}

/** Encodes bytes as Base64 with padding, optionally wrapped every `lineLength` characters with "\n". */
export function encodeBase64(bytes: Uint8Array, lineLength = 0): string {
  const groups = Math.ceil(bytes.length / 3);
  const chars = new Uint8Array(groups * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chars[o++] = ENCODE[v >> 18]!;
    chars[o++] = ENCODE[(v >> 12) & 63]!;
    chars[o++] = ENCODE[(v >> 6) & 63]!;
    chars[o++] = ENCODE[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const v = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    chars[o++] = ENCODE[v >> 18]!;
    chars[o++] = ENCODE[(v >> 12) & 63]!;
    chars[o++] = rest === 2 ? ENCODE[(v >> 6) & 63]! : 61;
    chars[o++] = 61;
  }
  let text = "";
  for (let j = 0; j < chars.length; j += 8192) text += String.fromCharCode(...chars.subarray(j, j + 8192));
  if (lineLength <= 0 || text.length <= lineLength) return text;
  const lines: string[] = [];
  for (let j = 0; j < text.length; j += lineLength) lines.push(text.slice(j, j + lineLength));
  return lines.join("\n");
}
