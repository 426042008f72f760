/**
 * @module sign-workload-certificate
 * Issues a workload's X.509 v3 leaf: empty subject, the CSR's key verbatim, one critical URI SAN
 * holding the SPIFFE ID, signed ECDSA P-256/SHA-256 by the issuing CA. This is the CA's hot path:
 * the TBS is assembled directly from DER pieces, and per-issuer pieces are built once per IssuingCa.
 */
import { concatBytes, DerSyntaxError, derBoolean, derImplicit, derNamedBits, derOctetString, derOid, derSequence, timeSize, tlvSize, writeHeader, writeTime } from "./der.js";
import { ecdsaSignatureToDer } from "./ecdsa-signature.js";
import { ALG_ECDSA_SHA256, OID } from "./oids.js";
import { parsePublicKeyInfo, UnsupportedKeyError } from "./public-key-info.js";
import { sha1 } from "./sha1.js";
import { isSpiffeId } from "./spiffe-id.js";
import type { IssuingCa } from "./load-issuing-ca.js";

export { loadIssuingCa, type IssuingCa } from "./load-issuing-ca.js";

export interface WorkloadCertificateInput {
  /** The SubjectPublicKeyInfo DER to certify (ParsedCsr.spki), copied verbatim. */
  spki: Uint8Array;
  /** The single URI SAN, e.g. spiffe://cluster.local/ns/default/sa/bookinfo. */
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  /** Big-endian serial, 8–20 bytes, nonzero (see newSerial). */
  serial: Uint8Array;
  issuer: IssuingCa;
}

const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const VERSION_3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);
const EMPTY_NAME = Uint8Array.of(0x30, 0x00);
const CRITICAL = derBoolean(true);
const KEY_USAGE = derSequence([derOid(OID.keyUsage), CRITICAL, derOctetString(derNamedBits([0, 2]))]); // digitalSignature, keyEncipherment
const EXT_KEY_USAGE = derSequence([derOid(OID.extKeyUsage), derOctetString(derSequence([derOid(OID.serverAuth), derOid(OID.clientAuth)]))]);
const BASIC_CONSTRAINTS = derSequence([derOid(OID.basicConstraints), CRITICAL, derOctetString(derSequence([]))]); // cA DEFAULT FALSE
const LEAF_FIXED_EXTENSIONS = concatBytes([KEY_USAGE, EXT_KEY_USAGE, BASIC_CONSTRAINTS]);
const SKI_PREFIX = derSequence([derOid(OID.subjectKeyIdentifier), derOctetString(derOctetString(new Uint8Array(20)))]).subarray(0, -20);
const SAN_OID_CRITICAL = concatBytes([derOid(OID.subjectAltName), CRITICAL]);

interface IssuerPieces {
  /** signature AlgorithmIdentifier followed by the issuer Name. */
  algorithmAndIssuer: Uint8Array;
  authorityKeyId: Uint8Array;
}

const PIECES = new WeakMap<IssuingCa, IssuerPieces>();

function piecesFor(issuer: IssuingCa): IssuerPieces {
  let pieces = PIECES.get(issuer);
  if (pieces !== undefined) return pieces;
  const { subjectDer, subjectKeyId, privateKey } = issuer ?? {};
  if (!(subjectDer instanceof Uint8Array) || subjectDer[0] !== 0x30) throw new TypeError("signWorkloadCertificate: issuer.subjectDer must be a DER Name");
  if (!(subjectKeyId instanceof Uint8Array) || subjectKeyId.length === 0) throw new TypeError("signWorkloadCertificate: issuer.subjectKeyId must be non-empty bytes");
  const algorithm = privateKey?.algorithm as EcKeyAlgorithm | undefined;
  if (privateKey?.type !== "private" || algorithm?.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    throw new TypeError("signWorkloadCertificate: issuer.privateKey must be an ECDSA P-256 private key");
  }
  pieces = {
    algorithmAndIssuer: concatBytes([ALG_ECDSA_SHA256, subjectDer]),
    authorityKeyId: derSequence([derOid(OID.authorityKeyIdentifier), derOctetString(derSequence([derImplicit(0, subjectKeyId)]))]),
  };
  PIECES.set(issuer, pieces);
  return pieces;
}

function checkInput(input: WorkloadCertificateInput): Uint8Array {
  const { spki, spiffeId, notBefore, notAfter, serial } = input;
  if (!(spki instanceof Uint8Array)) throw new TypeError("signWorkloadCertificate: spki must be a Uint8Array");
  if (!isSpiffeId(spiffeId)) throw new TypeError(`signWorkloadCertificate: "${spiffeId}" is not a SPIFFE ID`);
  if (!(notBefore instanceof Date) || !(notAfter instanceof Date) || !(notBefore.getTime() < notAfter.getTime())) {
    throw new TypeError("signWorkloadCertificate: notBefore and notAfter must be valid Dates with notBefore < notAfter");
  }
  if (!(serial instanceof Uint8Array) || serial.length < 8 || serial.length > 20 || serial.every((b) => b === 0)) {
    throw new TypeError("signWorkloadCertificate: serial must be 8 to 20 bytes and nonzero");
  }
  try {
    return parsePublicKeyInfo(spki).subjectPublicKey;
  } catch (error) {
    if (error instanceof DerSyntaxError || error instanceof UnsupportedKeyError) throw new TypeError(`signWorkloadCertificate: spki is not an accepted key: ${error.message}`);
    throw error;
  }
}

/** Copies `bytes` to `out` at `o`; returns the offset after them. */
function put(out: Uint8Array, o: number, bytes: Uint8Array): number {
  out.set(bytes, o);
  return o + bytes.length;
}

/**
 * The TBSCertificate in one allocation: sizes first, then one forward write. Layout:
 * SEQUENCE { [0] v3, serial, signature, issuer, validity, subject {}, spki, [3] { SEQUENCE {
 *   keyUsage, extKeyUsage, basicConstraints, subjectKeyIdentifier, authorityKeyIdentifier, subjectAltName } } }
 */
function writeTbs(input: WorkloadCertificateInput, pieces: IssuerPieces, subjectKeyId: Uint8Array): Uint8Array<ArrayBuffer> {
  const { serial, spki, spiffeId, notBefore, notAfter } = input;
  let first = 0;
  while (first < serial.length - 1 && serial[first] === 0) first++;
  const serialPad = serial[first]! & 0x80 ? 1 : 0;
  const serialLength = serial.length - first + serialPad;
  if (serialLength > 20) throw new TypeError("signWorkloadCertificate: serial encodes to more than 20 octets");

  const uriLength = spiffeId.length;
  const generalNamesLength = tlvSize(uriLength);
  const octetLength = tlvSize(generalNamesLength);
  const sanLength = SAN_OID_CRITICAL.length + tlvSize(octetLength);
  const extensionsLength = LEAF_FIXED_EXTENSIONS.length + SKI_PREFIX.length + subjectKeyId.length + pieces.authorityKeyId.length + tlvSize(sanLength);
  const validityLength = timeSize(notBefore) + timeSize(notAfter);
  const tbsLength =
    VERSION_3.length + tlvSize(serialLength) + pieces.algorithmAndIssuer.length + tlvSize(validityLength) + EMPTY_NAME.length + spki.length + tlvSize(tlvSize(extensionsLength));

  const out = new Uint8Array(tlvSize(tbsLength));
  let o = writeHeader(out, 0, 0x30, tbsLength);
  o = put(out, o, VERSION_3);
  o = writeHeader(out, o, 0x02, serialLength) + serialPad;
  o = put(out, o, serial.subarray(first));
  o = put(out, o, pieces.algorithmAndIssuer);
  o = writeHeader(out, o, 0x30, validityLength);
  o = writeTime(out, writeTime(out, o, notBefore), notAfter);
  o = put(out, o, EMPTY_NAME);
  o = put(out, o, spki);
  o = writeHeader(out, o, 0xa3, tlvSize(extensionsLength));
  o = writeHeader(out, o, 0x30, extensionsLength);
  o = put(out, o, LEAF_FIXED_EXTENSIONS);
  o = put(out, o, SKI_PREFIX);
  o = put(out, o, subjectKeyId);
  o = put(out, o, pieces.authorityKeyId);
  o = writeHeader(out, o, 0x30, sanLength);
  o = put(out, o, SAN_OID_CRITICAL);
  o = writeHeader(out, o, 0x04, octetLength);
  o = writeHeader(out, o, 0x30, generalNamesLength);
  o = writeHeader(out, o, 0x86, uriLength);
  for (let i = 0; i < uriLength; i++) out[o++] = spiffeId.charCodeAt(i); // ASCII: checked by isSpiffeId
  if (o !== out.length) throw new Error(`leaf TBS size mismatch: wrote ${o} of ${out.length} bytes`);
  return out;
}

/**
 * Builds and signs the leaf certificate; returns its DER. Throws TypeError for malformed input
 * (the transport layer validates requests before calling this).
 */
export async function signWorkloadCertificate(input: WorkloadCertificateInput): Promise<Uint8Array<ArrayBuffer>> {
  const subjectPublicKey = checkInput(input);
  const pieces = piecesFor(input.issuer);
  const tbs = writeTbs(input, pieces, sha1(subjectPublicKey));
  const signature = ecdsaSignatureToDer(new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, input.issuer.privateKey, tbs)));
  const bitStringLength = signature.length + 1;
  const certificateLength = tbs.length + ALG_ECDSA_SHA256.length + tlvSize(bitStringLength);
  const certificate = new Uint8Array(tlvSize(certificateLength));
  let o = writeHeader(certificate, 0, 0x30, certificateLength);
  o = put(certificate, o, tbs);
  o = put(certificate, o, ALG_ECDSA_SHA256);
  o = writeHeader(certificate, o, 0x03, bitStringLength) + 1; // no unused bits
  certificate.set(signature, o);
  return certificate;
}
