/**
 * @module build-crl
 * Builds the issuing CA's X.509 v2 CRL (RFC 5280 §5) listing revoked workload serials, with the
 * authorityKeyIdentifier and cRLNumber extensions, signed ecdsa-with-SHA256, as "X509 CRL" PEM.
 */
import { bytesEqual, derBitString, derExplicit, derImplicit, derInteger, derIntegerFromNumber, derOctetString, derOid, derSequence, derTime, DerSyntaxError } from "./der.js";
import { signerFromEcP256Key } from "./certificate-signer.js";
import type { IssuingCa } from "./load-issuing-ca.js";
import { OID } from "./oids.js";
import { derToPem, pemToDer, PemSyntaxError } from "./pem.js";
import { readCertificate } from "./read-certificate.js";
import { serialFromHex } from "./serial.js";

export interface RevokedCertificate {
  /** The serial as hex (serialToHex's form; leading zeros and "0x" tolerated). */
  serialHex: string;
  revokedAt: Date;
}

export interface CrlInput {
  issuer: IssuingCa;
  /** When given, checked to be the certificate of `issuer` (a guard against mixing up CAs). */
  issuerCertificatePem?: string;
  revoked: readonly RevokedCertificate[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonically increasing CRL number (RFC 5280 §5.2.3). */
  crlNumber: number;
}

function validDate(date: unknown): date is Date {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

function checkIssuerCertificate(issuer: IssuingCa, pem: string): void {
  let der: Uint8Array;
  try {
    der = pemToDer(pem, "CERTIFICATE");
    readCertificate(der);
  } catch (error) {
    if (error instanceof PemSyntaxError || error instanceof DerSyntaxError) throw new TypeError(`buildCrl: issuerCertificatePem is unreadable: ${error.message}`);
    throw error;
  }
  if (!bytesEqual(der, issuer.certificateDer)) throw new TypeError("buildCrl: issuerCertificatePem is not the issuer's certificate");
}

/** Builds and signs the CRL; returns PEM. TypeError for malformed input. */
export async function buildCrl(input: CrlInput): Promise<string> {
  const { issuer, revoked, thisUpdate, nextUpdate, crlNumber } = input;
  if (!validDate(thisUpdate) || !validDate(nextUpdate) || nextUpdate.getTime() <= thisUpdate.getTime()) {
    throw new TypeError("buildCrl: thisUpdate and nextUpdate must be valid Dates with thisUpdate < nextUpdate");
  }
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw new TypeError("buildCrl: crlNumber must be a non-negative integer");
  if (input.issuerCertificatePem !== undefined) checkIssuerCertificate(issuer, input.issuerCertificatePem);

  const entries = revoked.map(({ serialHex, revokedAt }) => {
    if (!validDate(revokedAt)) throw new TypeError(`buildCrl: revokedAt of ${serialHex} is not a valid Date`);
    return derSequence([derInteger(serialFromHex(serialHex)), derTime(revokedAt)]);
  });
  const signer = signerFromEcP256Key(issuer.privateKey);
  const extensions = derExplicit(0, [
    derSequence([
      derSequence([derOid(OID.authorityKeyIdentifier), derOctetString(derSequence([derImplicit(0, issuer.subjectKeyId)]))]),
      derSequence([derOid(OID.crlNumber), derOctetString(derIntegerFromNumber(crlNumber))]),
    ]),
  ]);
  const tbs = derSequence([
    derIntegerFromNumber(1), // v2
    signer.algorithmIdentifier,
    issuer.subjectDer,
    derTime(thisUpdate),
    derTime(nextUpdate),
    ...(entries.length > 0 ? [derSequence(entries)] : []), // RFC 5280 §5.1.2.6: absent when empty
    extensions,
  ]);
  const crl = derSequence([tbs, signer.algorithmIdentifier, derBitString(await signer.sign(tbs))]);
  return derToPem(crl, "X509 CRL");
}
