/**
 * @module upstream/hash
 * The consistent-hash load balancers' hash: MurmurHash3 x86 32-bit (Austin Appleby's public-domain
 * algorithm) over the UTF-8 bytes of a string, computed straight from the UTF-16 code units with no
 * allocation (lone surrogates hash as U+FFFD, as TextEncoder writes them). Fast and well mixed; not
 * cryptographic. Envoy uses xxHash64; the exact function does not matter across proxies as long as every
 * Weft proxy uses this one, so the same key reaches the same endpoint from any of them.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

// Streaming state for one murmur3() call; JS runs one call at a time, so module state is safe and free.
let state = 0;
let pending = 0;
let filled = 0;

function mixBlock(k: number): void {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  state ^= k;
  state = (state << 13) | (state >>> 19);
  state = (Math.imul(state, 5) + 0xe6546b64) | 0;
}

function feed(byte: number): void {
  pending |= byte << (filled << 3);
  if (++filled === 4) {
    mixBlock(pending);
    pending = 0;
    filled = 0;
  }
}

/** MurmurHash3_x86_32 of `text`'s UTF-8 encoding, as an unsigned 32-bit integer. */
export function murmur3(text: string, seed = 0): number {
  state = seed | 0;
  pending = 0;
  filled = 0;
  let length = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      feed(c);
      length += 1;
    } else if (c < 0x800) {
      feed(0xc0 | (c >> 6));
      feed(0x80 | (c & 63));
      length += 2;
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
          feed(0xf0 | (cp >> 18));
          feed(0x80 | ((cp >> 12) & 63));
          feed(0x80 | ((cp >> 6) & 63));
          feed(0x80 | (cp & 63));
          length += 4;
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      feed(0xe0 | (c >> 12));
      feed(0x80 | ((c >> 6) & 63));
      feed(0x80 | (c & 63));
      length += 3;
    }
  }
  let h = state;
  if (filled > 0) {
    let k = Math.imul(pending, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniformly random unsigned 32-bit integer from a `[0, 1)` source. */
export function randomUint32(random: () => number): number {
  return Math.floor(random() * 4294967296) >>> 0;
}
