/**
 * @module serial
 * Certificate serial numbers: 128 random bits (CA/B Forum asks for at least 64), positive, nonzero,
 * and their lowercase hex form as CRLs and logs show them.
 */

const SERIAL_BYTES = 16;
// One getRandomValues call per 256 serials: the call itself costs more than copying 16 bytes out.
const POOL = new Uint8Array(SERIAL_BYTES * 256);
let poolOffset = POOL.length;

/** 16 random bytes with the top bit cleared (so the DER INTEGER is positive without padding), never zero. */
export function newSerial(): Uint8Array<ArrayBuffer> {
  for (;;) {
    if (poolOffset === POOL.length) {
      crypto.getRandomValues(POOL);
      poolOffset = 0;
    }
    const serial = POOL.slice(poolOffset, poolOffset + SERIAL_BYTES);
    POOL.fill(0, poolOffset, poolOffset + SERIAL_BYTES); // each random byte is handed out once
    poolOffset += SERIAL_BYTES;
    serial[0]! &= 0x7f;
    for (const b of serial) if (b !== 0) return serial;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of a serial's magnitude without leading zero bytes ("00" for zero). */
export function serialToHex(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let hex = "";
  for (; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return hex === "" ? "00" : hex;
}

/** The bytes of a hex serial (odd lengths and a leading "0x" allowed); TypeError for anything else. */
export function serialFromHex(hex: string): Uint8Array<ArrayBuffer> {
  const digits = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]{1,40}$/.test(digits)) throw new TypeError(`"${hex}" is not a hex serial of at most 20 bytes`);
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  const out = new Uint8Array(even.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(even.slice(i * 2, i * 2 + 2), 16);
  return out;
}
