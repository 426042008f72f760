/**
 * @module oids
 * The object identifiers the CA reads and writes, and the constant AlgorithmIdentifier encodings.
 */
import { derNull, derOid, derSequence } from "./der.js";

export const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  secp384r1: "1.3.132.0.34",
  secp521r1: "1.3.132.0.35",
  secp256k1: "1.3.132.0.10",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  dsa: "1.2.840.10040.4.1",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  extensionRequest: "1.2.840.113549.1.9.14",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  crlNumber: "2.5.29.20",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** Readable names for OIDs that show up in error messages. */
export const OID_NAMES: Readonly<Record<string, string>> = {
  [OID.prime256v1]: "P-256",
  [OID.secp384r1]: "P-384",
  [OID.secp521r1]: "P-521",
  [OID.secp256k1]: "secp256k1",
  [OID.rsaEncryption]: "RSA",
  [OID.rsassaPss]: "RSASSA-PSS",
  [OID.dsa]: "DSA",
  [OID.ed25519]: "Ed25519",
  [OID.ed448]: "Ed448",
  [OID.ecdsaWithSha256]: "ecdsa-with-SHA256",
  [OID.ecdsaWithSha384]: "ecdsa-with-SHA384",
  [OID.sha256WithRsa]: "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
};

/** `name (oid)` for messages. */
export function describeOid(oid: string): string {
  const name = OID_NAMES[oid];
  return name === undefined ? oid : `${name} (${oid})`;
}

/** AlgorithmIdentifier ecdsa-with-SHA256 (parameters absent, RFC 5758 §3.2). */
export const ALG_ECDSA_SHA256 = derSequence([derOid(OID.ecdsaWithSha256)]);
/** AlgorithmIdentifier ecdsa-with-SHA384. */
export const ALG_ECDSA_SHA384 = derSequence([derOid(OID.ecdsaWithSha384)]);
/** AlgorithmIdentifier sha256WithRSAEncryption (parameters NULL, RFC 4055 §5). */
export const ALG_SHA256_RSA = derSequence([derOid(OID.sha256WithRsa), derNull()]);
/** The OID TLV bytes of the P-256 curve, for byte comparison. */
export const OID_P256_BYTES = derOid(OID.prime256v1);
export const OID_EC_PUBLIC_KEY_BYTES = derOid(OID.ecPublicKey);
export const OID_RSA_BYTES = derOid(OID.rsaEncryption);
export const OID_ECDSA_SHA256_BYTES = derOid(OID.ecdsaWithSha256);
export const OID_SHA256_RSA_BYTES = derOid(OID.sha256WithRsa);
