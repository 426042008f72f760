/**
 * @module sha1
 * Synchronous SHA-1 (FIPS 180-4) for key identifiers (RFC 5280 §4.2.1.2 method 1) only — never for
 * signatures. A key is ~70 bytes, so this is faster than an async crypto.subtle.digest round trip.
 */

const W = new Int32Array(80);
// Keys are short: a reused two-block scratch buffer covers inputs up to 119 bytes without allocating.
const SCRATCH = new Uint8Array(128);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** The 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const bitLength = data.length * 8;
  const blocks = ((data.length + 8) >> 6) + 1;
  const size = blocks * 64;
  const padded = size <= SCRATCH.length ? SCRATCH.fill(0, data.length, size) : new Uint8Array(size);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = padded === SCRATCH ? SCRATCH_VIEW : new DataView(padded.buffer);
  view.setUint32(size - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(size - 4, bitLength >>> 0);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let block = 0; block < size; block += 64) {
    for (let t = 0; t < 16; t++) W[t] = view.getInt32(block + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
      W[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  outView.setInt32(0, h0);
  outView.setInt32(4, h1);
  outView.setInt32(8, h2);
  outView.setInt32(12, h3);
  outView.setInt32(16, h4);
  return out;
}
