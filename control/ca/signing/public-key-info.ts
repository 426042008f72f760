/**
 * @module public-key-info
 * Classifies a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) into the key types the mesh accepts —
 * EC P-256 (RFC 5480) and RSA 2048/3072/4096 (RFC 3279) — and pulls out what verification needs.
 */
import { bytesEqual, decodeOid, DerSyntaxError, expectTag, readChildren, readDer, TAG_BIT_STRING, TAG_INTEGER, TAG_NULL, TAG_OID, TAG_SEQUENCE, type DerNode } from "./der.js";
import { describeOid, OID_EC_PUBLIC_KEY_BYTES, OID_P256_BYTES, OID_RSA_BYTES } from "./oids.js";

/** A well-formed key of a type the mesh does not accept (curve, algorithm or size). */
export class UnsupportedKeyError extends Error {
  override readonly name = "UnsupportedKeyError";
}

export type KeyAlgorithm = "EC P-256" | "RSA 2048" | "RSA 3072" | "RSA 4096";

export interface PublicKeyInfo {
  keyAlgorithm: KeyAlgorithm;
  /** The whole SubjectPublicKeyInfo TLV (a view into the input). */
  spki: Uint8Array;
  /** The subjectPublicKey BIT STRING's bits (the EC point, or the RSAPublicKey DER); a view. */
  subjectPublicKey: Uint8Array;
}

const RSA_SIZES: Readonly<Record<number, KeyAlgorithm>> = { 2048: "RSA 2048", 3072: "RSA 3072", 4096: "RSA 4096" };

function sameOid(buf: Uint8Array, node: DerNode, encoded: Uint8Array): boolean {
  return node.end - node.start === encoded.length && bytesEqual(buf.subarray(node.start, node.end), encoded);
}

function rsaModulusBits(key: Uint8Array): number {
  const seq = expectTag(readDer(key, 0), TAG_SEQUENCE, "RSAPublicKey");
  if (seq.end !== key.length) throw new DerSyntaxError("RSAPublicKey has trailing bytes");
  const [modulus, exponent, extra] = readChildren(key, seq);
  expectTag(modulus, TAG_INTEGER, "RSA modulus");
  expectTag(exponent, TAG_INTEGER, "RSA public exponent");
  if (extra !== undefined) throw new DerSyntaxError("RSAPublicKey has extra fields");
  let i = modulus!.contentStart;
  if (key[i]! & 0x80) throw new DerSyntaxError("RSA modulus is negative");
  while (i < modulus!.end && key[i] === 0) i++;
  if (i === modulus!.end) throw new DerSyntaxError("RSA modulus is zero");
  return (modulus!.end - i) * 8 - Math.clz32(key[i]!) + 24;
}

/** Reads and classifies the SubjectPublicKeyInfo at `node`; UnsupportedKeyError for other key types. */
export function readPublicKeyInfo(buf: Uint8Array, node: DerNode): PublicKeyInfo {
  expectTag(node, TAG_SEQUENCE, "SubjectPublicKeyInfo");
  const [algorithm, bits, extra] = readChildren(buf, node);
  expectTag(algorithm, TAG_SEQUENCE, "public key AlgorithmIdentifier");
  expectTag(bits, TAG_BIT_STRING, "subjectPublicKey");
  if (extra !== undefined) throw new DerSyntaxError("SubjectPublicKeyInfo has extra fields");
  if (bits!.end === bits!.contentStart || buf[bits!.contentStart] !== 0) throw new DerSyntaxError("subjectPublicKey BIT STRING has unused bits");
  const subjectPublicKey = buf.subarray(bits!.contentStart + 1, bits!.end);
  const [oid, params, more] = readChildren(buf, algorithm!);
  expectTag(oid, TAG_OID, "public key algorithm");
  if (more !== undefined) throw new DerSyntaxError("public key AlgorithmIdentifier has extra fields");
  const spki = buf.subarray(node.start, node.end);

  if (sameOid(buf, oid!, OID_EC_PUBLIC_KEY_BYTES)) {
    if (params === undefined || params.tag !== TAG_OID) throw new UnsupportedKeyError("EC keys must name their curve (namedCurve parameters)");
    if (!sameOid(buf, params, OID_P256_BYTES)) throw new UnsupportedKeyError(`EC curve ${describeOid(decodeOid(buf, params))} is not supported; use P-256`);
    if (subjectPublicKey.length === 33 && (subjectPublicKey[0] === 2 || subjectPublicKey[0] === 3)) {
      throw new UnsupportedKeyError("compressed EC points are not supported; use the uncompressed form");
    }
    if (subjectPublicKey.length !== 65 || subjectPublicKey[0] !== 4) throw new DerSyntaxError("EC P-256 public key is not a 65-byte uncompressed point");
    return { keyAlgorithm: "EC P-256", spki, subjectPublicKey };
  }
  if (sameOid(buf, oid!, OID_RSA_BYTES)) {
    if (params === undefined || params.tag !== TAG_NULL || params.end !== params.contentStart) throw new DerSyntaxError("rsaEncryption parameters must be NULL");
    const size = rsaModulusBits(subjectPublicKey);
    const keyAlgorithm = RSA_SIZES[size];
    if (keyAlgorithm === undefined) throw new UnsupportedKeyError(`RSA ${size}-bit keys are not supported; use 2048, 3072 or 4096 bits`);
    return { keyAlgorithm, spki, subjectPublicKey };
  }
  throw new UnsupportedKeyError(`${describeOid(decodeOid(buf, oid!))} keys are not supported; use EC P-256 or RSA`);
}

/** Reads a standalone SubjectPublicKeyInfo DER. */
export function parsePublicKeyInfo(spki: Uint8Array): PublicKeyInfo {
  const node = readDer(spki, 0);
  if (node.end !== spki.length) throw new DerSyntaxError("SubjectPublicKeyInfo has trailing bytes");
  return readPublicKeyInfo(spki, node);
}
