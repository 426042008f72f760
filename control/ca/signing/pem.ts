/**
 * @module pem
 * PEM (RFC 7468) text to DER bytes and back, and splitting a bundle of PEM blocks.
 * Text outside the encapsulation boundaries is ignored, as RFC 7468 §2 asks.
 */
import { decodeBase64, encodeBase64 } from "./base64.js";

/** The text is not the PEM that was expected: no block, several blocks, the wrong label or a bad body. */
export class PemSyntaxError extends Error {
  override readonly name = "PemSyntaxError";
}

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";
const LABEL = /^[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*$/;

interface PemBlock {
  label: string;
  bodyStart: number;
  bodyEnd: number;
  start: number;
  end: number;
}

function nextBlock(text: string, from: number): PemBlock | undefined {
  const start = text.indexOf(BEGIN, from);
  if (start < 0) return undefined;
  const labelEnd = text.indexOf(DASHES, start + BEGIN.length);
  if (labelEnd < 0) throw new PemSyntaxError("unterminated PEM BEGIN line");
  const label = text.slice(start + BEGIN.length, labelEnd);
  if (label !== "" && !LABEL.test(label)) throw new PemSyntaxError(`invalid PEM label "${label}"`);
  const bodyStart = labelEnd + DASHES.length;
  const footer = `${END}${label}${DASHES}`;
  const bodyEnd = text.indexOf(footer, bodyStart);
  if (bodyEnd < 0) throw new PemSyntaxError(`PEM block "${label}" has no matching END line`);
  const nested = text.indexOf(BEGIN, bodyStart);
  if (nested >= 0 && nested < bodyEnd) throw new PemSyntaxError(`PEM block "${label}" is not terminated before the next BEGIN line`);
  return { label, bodyStart, bodyEnd, start, end: bodyEnd + footer.length };
}

function decodeBody(text: string, block: PemBlock): Uint8Array<ArrayBuffer> {
  const der = decodeBase64(text, block.bodyStart, block.bodyEnd);
  if (der === undefined) throw new PemSyntaxError(`PEM block "${block.label}" has an invalid Base64 body (RFC 7468 headers are not supported)`);
  if (der.length === 0) throw new PemSyntaxError(`PEM block "${block.label}" is empty`);
  return der;
}

/**
 * Decodes the single PEM block in `pem`. With `label` (one label or several accepted ones) the block
 * must carry it. Throws PemSyntaxError if there is no block, more than one, or the body is not Base64.
 */
export function pemToDer(pem: string, label?: string | readonly string[]): Uint8Array<ArrayBuffer> {
  if (typeof pem !== "string") throw new TypeError("pemToDer: pem must be a string");
  const block = nextBlock(pem, 0);
  if (block === undefined) throw new PemSyntaxError(label === undefined ? "no PEM block found" : `no PEM block found; expected "${[label].flat().join('" or "')}"`);
  if (label !== undefined && !(typeof label === "string" ? block.label === label : label.includes(block.label))) {
    throw new PemSyntaxError(`PEM block is "${block.label}"; expected "${[label].flat().join('" or "')}"`);
  }
  if (pem.indexOf(BEGIN, block.end) >= 0) throw new PemSyntaxError("more than one PEM block found where one was expected");
  return decodeBody(pem, block);
}

/** Encodes DER bytes as a PEM block with 64-character lines and a trailing newline. */
export function derToPem(der: Uint8Array, label: string): string {
  if (!(der instanceof Uint8Array)) throw new TypeError("derToPem: der must be a Uint8Array");
  if (!LABEL.test(label)) throw new TypeError(`derToPem: invalid PEM label "${label}"`);
  return `${BEGIN}${label}${DASHES}\n${encodeBase64(der, 64)}\n${END}${label}${DASHES}\n`;
}

/**
 * Splits a bundle (e.g. a certificate chain file) into its PEM blocks, each normalised by
 * re-encoding. Returns [] for text without PEM blocks; throws PemSyntaxError for a malformed block.
 */
export function splitPemBundle(text: string): string[] {
  if (typeof text !== "string") throw new TypeError("splitPemBundle: text must be a string");
  const blocks: string[] = [];
  for (let block = nextBlock(text, 0); block !== undefined; block = nextBlock(text, block.end)) {
    blocks.push(derToPem(decodeBody(text, block), block.label));
  }
  return blocks;
}
