/**
 * @module ca/certificate-info
 * Reads the facts the CA needs from a PEM certificate (fingerprint, subject, validity, CA flag) and
 * checks signatures between certificates, with @peculiar/x509. Off the issuance hot path.
 */
import "reflect-metadata";
import { BasicConstraintsExtension, X509Certificate } from "@peculiar/x509";
import { BadRequest } from "../errors.js";

export interface CertificateInfo {
  pem: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  selfSigned: boolean;
  certificate: X509Certificate;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Parses one PEM certificate; `field` names it in the error when it does not parse. */
export async function certificateInfo(pem: string, field: string): Promise<CertificateInfo> {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem.trim());
  } catch (err) {
    throw new BadRequest(`${field} is not a PEM X.509 certificate: ${(err as Error).message}`, [{ field, message: "not a PEM X.509 certificate" }]);
  }
  const basic = certificate.getExtension(BasicConstraintsExtension);
  return {
    pem: certificate.toString("pem"),
    fingerprint: hex(await crypto.subtle.digest("SHA-256", certificate.rawData)),
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    isCa: basic?.ca === true,
    selfSigned: certificate.subject === certificate.issuer && (await certificate.verify({ signatureOnly: true })),
    certificate,
  };
}

/** True when `child` carries a valid signature by `parent`'s key. */
export async function signedBy(child: CertificateInfo, parent: CertificateInfo): Promise<boolean> {
  try {
    return await child.certificate.verify({ publicKey: parent.certificate.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}
