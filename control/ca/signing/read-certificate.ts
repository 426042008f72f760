/**
 * @module read-certificate
 * Reads the fields of an X.509 certificate (RFC 5280 §4.1) that the CA needs about its own and its
 * issuers' certificates: names, key, validity and the CA-related extensions.
 */
import { contentOf, decodeOid, decodeSmallInteger, decodeTime, DerSyntaxError, expectTag, readChildren, readDer, TAG_BIT_STRING, TAG_BOOLEAN, TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, type DerNode } from "./der.js";
import { OID } from "./oids.js";
import { sha1 } from "./sha1.js";

export interface CertificateFields {
  /** The issuer and subject Names, DER (views into the input). */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  /** The SubjectPublicKeyInfo DER and its key bits (views). */
  spki: Uint8Array;
  subjectPublicKey: Uint8Array;
  /** Dotted OID of the SubjectPublicKeyInfo algorithm and, for EC, of its curve. */
  keyAlgorithmOid: string;
  curveOid: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints: cA (false when absent) and pathLenConstraint. */
  isCa: boolean;
  pathLength: number | undefined;
  /** keyUsage bits by number (0 digitalSignature … 5 keyCertSign, 6 cRLSign); undefined when absent. */
  keyUsage: Set<number> | undefined;
  /** The subjectKeyIdentifier, or RFC 5280 method 1 (SHA-1 of the key bits) when the extension is absent. */
  subjectKeyId: Uint8Array;
}

export const KEY_USAGE_DIGITAL_SIGNATURE = 0;
export const KEY_USAGE_KEY_ENCIPHERMENT = 2;
export const KEY_USAGE_KEY_CERT_SIGN = 5;
export const KEY_USAGE_CRL_SIGN = 6;

function readBits(buf: Uint8Array, node: DerNode): Set<number> {
  const content = contentOf(buf, expectTag(node, TAG_BIT_STRING, "keyUsage"));
  const unused = content[0];
  if (unused === undefined || unused > 7) throw new DerSyntaxError("keyUsage BIT STRING is malformed");
  const bits = new Set<number>();
  for (let i = 1; i < content.length; i++) {
    for (let b = 0; b < 8; b++) if (content[i]! & (0x80 >> b)) bits.add((i - 1) * 8 + b);
  }
  return bits;
}

/** Reads a DER certificate; throws DerSyntaxError when it is not one. */
export function readCertificate(der: Uint8Array): CertificateFields {
  const outer = expectTag(readDer(der, 0), TAG_SEQUENCE, "Certificate");
  if (outer.end !== der.length) throw new DerSyntaxError("trailing bytes after the Certificate");
  const [tbs] = readChildren(der, outer);
  const fields = readChildren(der, expectTag(tbs, TAG_SEQUENCE, "tbsCertificate"));
  let i = 0;
  if (fields[0]?.tag === 0xa0) {
    const [version] = readChildren(der, fields[0]);
    if (decodeSmallInteger(der, expectTag(version, TAG_INTEGER, "version")) !== 2) throw new DerSyntaxError("certificate is not X.509 v3");
    i = 1;
  }
  expectTag(fields[i], TAG_INTEGER, "serialNumber");
  const issuer = expectTag(fields[i + 2], TAG_SEQUENCE, "issuer");
  const [notBefore, notAfter] = readChildren(der, expectTag(fields[i + 3], TAG_SEQUENCE, "validity"));
  const subject = expectTag(fields[i + 4], TAG_SEQUENCE, "subject");
  const spki = expectTag(fields[i + 5], TAG_SEQUENCE, "subjectPublicKeyInfo");
  const [algorithm, keyBits] = readChildren(der, spki);
  const [keyOid, keyParams] = readChildren(der, expectTag(algorithm, TAG_SEQUENCE, "public key algorithm"));
  const keyContent = contentOf(der, expectTag(keyBits, TAG_BIT_STRING, "subjectPublicKey"));
  const subjectPublicKey = keyContent.subarray(1);

  const result: CertificateFields = {
    issuerDer: der.subarray(issuer.start, issuer.end),
    subjectDer: der.subarray(subject.start, subject.end),
    spki: der.subarray(spki.start, spki.end),
    subjectPublicKey,
    keyAlgorithmOid: decodeOid(der, expectTag(keyOid, TAG_OID, "public key algorithm")),
    curveOid: keyParams?.tag === TAG_OID ? decodeOid(der, keyParams) : undefined,
    notBefore: decodeTime(der, notBefore ?? subject),
    notAfter: decodeTime(der, notAfter ?? subject),
    isCa: false,
    pathLength: undefined,
    keyUsage: undefined,
    subjectKeyId: sha1(subjectPublicKey),
  };
  const extensionsWrapper = fields.slice(i + 6).find((f) => f.tag === 0xa3);
  if (extensionsWrapper === undefined) return result;
  const [extensions] = readChildren(der, extensionsWrapper);
  for (const extension of readChildren(der, expectTag(extensions, TAG_SEQUENCE, "Extensions"))) {
    const parts = readChildren(der, expectTag(extension, TAG_SEQUENCE, "Extension"));
    const oid = decodeOid(der, expectTag(parts[0], TAG_OID, "extnID"));
    const valueNode = expectTag(parts[parts[1]?.tag === TAG_BOOLEAN ? 2 : 1], TAG_OCTET_STRING, `extnValue of ${oid}`);
    const value = contentOf(der, valueNode);
    const root = readDer(value, 0);
    if (root.end !== value.length) throw new DerSyntaxError(`extension ${oid} has trailing bytes`);
    if (oid === OID.basicConstraints) {
      const [ca, pathLen] = readChildren(value, expectTag(root, TAG_SEQUENCE, "basicConstraints"));
      if (ca?.tag === TAG_BOOLEAN) {
        result.isCa = value[ca.contentStart] === 0xff;
        if (pathLen !== undefined) result.pathLength = decodeSmallInteger(value, pathLen);
      } else if (ca !== undefined) {
        result.pathLength = decodeSmallInteger(value, ca);
      }
    } else if (oid === OID.keyUsage) {
      result.keyUsage = readBits(value, root);
    } else if (oid === OID.subjectKeyIdentifier) {
      result.subjectKeyId = contentOf(value, expectTag(root, TAG_OCTET_STRING, "subjectKeyIdentifier"));
    }
  }
  return result;
}
