/**
 * @module parse-csr
 * Parses a PKCS#10 certificate signing request (RFC 2986) from PEM, verifies its self-signature with
 * crypto.subtle, and returns the key to certify plus what the workload asked for. Accepts EC P-256
 * (ecdsa-with-SHA256) and RSA 2048/3072/4096 (sha256WithRSAEncryption); anything else is CsrInvalid.
 */
import { CsrInvalid } from "../../errors.js";
import { bytesEqual, decodeOid, decodeSmallInteger, DerSyntaxError, expectTag, readChildren, readDer, TAG_BIT_STRING, TAG_BOOLEAN, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, TAG_SET, type DerNode } from "./der.js";
import { ecdsaSignatureFromDer } from "./ecdsa-signature.js";
import { nameToString } from "./name.js";
import { describeOid, OID, OID_ECDSA_SHA256_BYTES, OID_SHA256_RSA_BYTES } from "./oids.js";
import { pemToDer, PemSyntaxError } from "./pem.js";
import { readPublicKeyInfo, UnsupportedKeyError, type KeyAlgorithm } from "./public-key-info.js";
import { readSubjectAltNames, type SubjectAltNames } from "./subject-alt-name.js";

export type { KeyAlgorithm } from "./public-key-info.js";
export type { SubjectAltNames } from "./subject-alt-name.js";

export interface ParsedCsr {
  /** The SubjectPublicKeyInfo DER, to be copied verbatim into the certificate. */
  spki: Uint8Array<ArrayBuffer>;
  keyAlgorithm: KeyAlgorithm;
  /** RFC 4514 text of the requested subject; informational only ("" when empty, as Istio sends). */
  subject: string;
  /** The subjectAltName of the extensionRequest attribute (empty lists when absent). */
  sans: SubjectAltNames;
  /** OIDs of every extension in the extensionRequest attribute. */
  extensionsRequested: string[];
}

const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] as const;
const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const P256: EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };
const RSA_SHA256: RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const VERIFY: KeyUsage[] = ["verify"];

interface CsrParts {
  info: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
  signatureIsEcdsa: boolean;
  point: Uint8Array<ArrayBuffer>;
  parsed: ParsedCsr;
}

function readExtensionRequest(der: Uint8Array, values: DerNode, parsed: ParsedCsr): void {
  const [extensions, extra] = readChildren(der, expectTag(values, TAG_SET, "extensionRequest values"));
  if (extra !== undefined) throw new DerSyntaxError("extensionRequest has more than one value");
  for (const extension of readChildren(der, expectTag(extensions, TAG_SEQUENCE, "extensionRequest Extensions"))) {
    const fields = readChildren(der, expectTag(extension, TAG_SEQUENCE, "Extension"));
    const oid = decodeOid(der, expectTag(fields[0], TAG_OID, "extnID"));
    let valueIndex = 1;
    if (fields[1]?.tag === TAG_BOOLEAN) valueIndex = 2;
    const value = expectTag(fields[valueIndex], TAG_OCTET_STRING, `extnValue of ${oid}`);
    if (fields.length !== valueIndex + 1) throw new DerSyntaxError(`Extension ${oid} has extra fields`);
    if (parsed.extensionsRequested.includes(oid)) throw new DerSyntaxError(`extension ${describeOid(oid)} is requested twice`);
    parsed.extensionsRequested.push(oid);
    if (oid === OID.subjectAltName) parsed.sans = readSubjectAltNames(der.subarray(value.contentStart, value.end));
  }
}

function readCsr(der: Uint8Array<ArrayBuffer>): CsrParts {
  const outer = expectTag(readDer(der, 0), TAG_SEQUENCE, "CertificationRequest");
  if (outer.end !== der.length) throw new DerSyntaxError(`${der.length - outer.end} trailing bytes after the CertificationRequest`);
  const [info, algorithm, signature, extra] = readChildren(der, outer);
  expectTag(info, TAG_SEQUENCE, "certificationRequestInfo");
  expectTag(algorithm, TAG_SEQUENCE, "signatureAlgorithm");
  expectTag(signature, TAG_BIT_STRING, "signature");
  if (extra !== undefined) throw new DerSyntaxError("CertificationRequest has extra fields");

  const [version, subject, spkiNode, attributes, more] = readChildren(der, info!);
  if (decodeSmallInteger(der, expectTag(version, 0x02, "version")) !== 0) throw new DerSyntaxError("CSR version is not v1 (0)");
  const subjectText = nameToString(der, expectTag(subject, TAG_SEQUENCE, "subject"));
  const key = readPublicKeyInfo(der, expectTag(spkiNode, TAG_SEQUENCE, "subjectPKInfo"));
  expectTag(attributes, 0xa0, "attributes");
  if (more !== undefined) throw new DerSyntaxError("certificationRequestInfo has extra fields");

  const parsed: ParsedCsr = {
    spki: der.slice(spkiNode!.start, spkiNode!.end),
    keyAlgorithm: key.keyAlgorithm,
    subject: subjectText,
    sans: { uris: [], dns: [], ips: [], emails: [] },
    extensionsRequested: [],
  };
  let sawExtensionRequest = false;
  for (const attribute of readChildren(der, attributes!)) {
    const [type, values, surplus] = readChildren(der, expectTag(attribute, TAG_SEQUENCE, "Attribute"));
    expectTag(type, TAG_OID, "Attribute type");
    if (surplus !== undefined) throw new DerSyntaxError("Attribute has extra fields");
    if (decodeOid(der, type!) !== OID.extensionRequest) continue;
    if (sawExtensionRequest) throw new DerSyntaxError("more than one extensionRequest attribute");
    sawExtensionRequest = true;
    readExtensionRequest(der, values!, parsed);
  }

  const [algOid, algParams, algMore] = readChildren(der, algorithm!);
  const oidBytes = der.subarray(expectTag(algOid, TAG_OID, "signature algorithm").start, algOid!.end);
  const isEcdsa = bytesEqual(oidBytes, OID_ECDSA_SHA256_BYTES);
  const isRsa = bytesEqual(oidBytes, OID_SHA256_RSA_BYTES);
  if (!isEcdsa && !isRsa) throw new UnsupportedKeyError(`signature algorithm ${describeOid(decodeOid(der, algOid!))} is not supported; use ecdsa-with-SHA256 or sha256WithRSAEncryption`);
  if (isEcdsa !== (key.keyAlgorithm === "EC P-256")) throw new UnsupportedKeyError(`signature algorithm ${describeOid(decodeOid(der, algOid!))} does not match the ${key.keyAlgorithm} key`);
  if (isEcdsa ? algParams !== undefined : algParams !== undefined && (algParams.tag !== 0x05 || algParams.end !== algParams.contentStart)) {
    throw new DerSyntaxError("signature algorithm has unexpected parameters");
  }
  if (algMore !== undefined) throw new DerSyntaxError("signatureAlgorithm has extra fields");
  if (signature!.end === signature!.contentStart || der[signature!.contentStart] !== 0) throw new DerSyntaxError("signature BIT STRING has unused bits");

  return {
    info: der.subarray(info!.start, info!.end),
    signature: der.subarray(signature!.contentStart + 1, signature!.end),
    signatureIsEcdsa: isEcdsa,
    point: key.subjectPublicKey as Uint8Array<ArrayBuffer>, // a view into `der`
    parsed,
  };
}

async function verifySignature(parts: CsrParts): Promise<boolean> {
  const subtle = crypto.subtle;
  if (parts.signatureIsEcdsa) {
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = ecdsaSignatureFromDer(parts.signature, 32);
    } catch (error) {
      throw new CsrInvalid(`CSR signature is not a valid ECDSA signature: ${(error as Error).message}`);
    }
    let key: CryptoKey;
    try {
      // "raw" is the cheapest import; the point was already checked to be 65-byte uncompressed.
      key = await subtle.importKey("raw", parts.point, P256, false, VERIFY);
    } catch {
      throw new CsrInvalid("CSR public key is not a valid P-256 point");
    }
    return subtle.verify(ECDSA_SHA256, key, raw, parts.info);
  }
  let key: CryptoKey;
  try {
    key = await subtle.importKey("spki", parts.parsed.spki, RSA_SHA256, false, VERIFY);
  } catch {
    throw new CsrInvalid("CSR public key is not a valid RSA key");
  }
  return subtle.verify("RSASSA-PKCS1-v1_5", key, parts.signature, parts.info);
}

/**
 * Parses and verifies a PEM PKCS#10 CSR. Throws CsrInvalid naming the problem when the text is not a
 * single CSR PEM block, the DER is malformed or has trailing bytes, the key or signature algorithm is
 * not supported, or the self-signature does not verify.
 */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  if (typeof pem !== "string") throw new TypeError("parseCsr: pem must be a string");
  let parts: CsrParts;
  try {
    parts = readCsr(pemToDer(pem, CSR_LABELS));
  } catch (error) {
    if (error instanceof PemSyntaxError) throw new CsrInvalid(`CSR is not PEM: ${error.message}`);
    if (error instanceof DerSyntaxError) throw new CsrInvalid(`CSR is malformed: ${error.message}`);
    if (error instanceof UnsupportedKeyError) throw new CsrInvalid(`CSR is not supported: ${error.message}`);
    throw error;
  }
  if (!(await verifySignature(parts))) throw new CsrInvalid("CSR signature does not verify with its public key");
  return parts.parsed;
}
