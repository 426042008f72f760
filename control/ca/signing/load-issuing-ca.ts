/**
 * @module load-issuing-ca
 * Turns the CA's certificate and PKCS#8 private key (PEM) into an IssuingCa, refusing with CaNotReady
 * a certificate that is not a P-256 CA with keyCertSign, or a key that does not belong to it.
 */
import { CaNotReady } from "../../errors.js";
import { DerSyntaxError } from "./der.js";
import { OID } from "./oids.js";
import { pemToDer, PemSyntaxError } from "./pem.js";
import { KEY_USAGE_KEY_CERT_SIGN, readCertificate, type CertificateFields } from "./read-certificate.js";

/**
 * The CA that signs workload certificates. Build it with loadIssuingCa; treat it as immutable, since
 * signWorkloadCertificate caches per-issuer DER pieces keyed by this object.
 */
export interface IssuingCa {
  /** The issuing CA's certificate, DER. */
  certificateDer: Uint8Array;
  /** The issuing certificate's subject Name, DER; copied verbatim as each leaf's issuer. */
  subjectDer: Uint8Array;
  /** The issuing certificate's subjectKeyIdentifier; each leaf's authorityKeyIdentifier. */
  subjectKeyId: Uint8Array;
  /** The CA's ECDSA P-256 private key (usage "sign"). */
  privateKey: CryptoKey;
}

const P256: EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const KEY_CHECK_MESSAGE = new TextEncoder().encode("weft: does this key belong to this CA certificate?");

function readCaCertificate(certificatePem: string): { der: Uint8Array<ArrayBuffer>; fields: CertificateFields } {
  let der: Uint8Array<ArrayBuffer>;
  let fields: CertificateFields;
  try {
    der = pemToDer(certificatePem, "CERTIFICATE");
    fields = readCertificate(der);
  } catch (error) {
    if (error instanceof PemSyntaxError || error instanceof DerSyntaxError) throw new CaNotReady(`CA certificate is unreadable: ${error.message}`);
    throw error;
  }
  if (fields.keyAlgorithmOid !== OID.ecPublicKey || fields.curveOid !== OID.prime256v1) {
    throw new CaNotReady(`CA certificate's key is not EC P-256 (algorithm ${fields.keyAlgorithmOid}${fields.curveOid ? `, curve ${fields.curveOid}` : ""})`);
  }
  if (!fields.isCa) throw new CaNotReady("CA certificate is not a CA: basicConstraints CA:TRUE is missing");
  if (fields.keyUsage === undefined || !fields.keyUsage.has(KEY_USAGE_KEY_CERT_SIGN)) throw new CaNotReady("CA certificate's keyUsage does not include keyCertSign");
  return { der, fields };
}

async function importPrivateKey(pkcs8PrivateKeyPem: string): Promise<CryptoKey> {
  let pkcs8: Uint8Array<ArrayBuffer>;
  try {
    pkcs8 = pemToDer(pkcs8PrivateKeyPem, ["PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);
  } catch (error) {
    if (error instanceof PemSyntaxError) throw new CaNotReady(`CA private key is unreadable: ${error.message}`);
    throw error;
  }
  if (pkcs8PrivateKeyPem.includes("-----BEGIN EC PRIVATE KEY")) {
    throw new CaNotReady("CA private key is SEC1 (EC PRIVATE KEY); convert it with `openssl pkcs8 -topk8 -nocrypt`");
  }
  if (pkcs8PrivateKeyPem.includes("-----BEGIN ENCRYPTED PRIVATE KEY")) throw new CaNotReady("CA private key is encrypted; an unencrypted PKCS#8 key is required");
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, P256, false, ["sign"]);
  } catch {
    throw new CaNotReady("CA private key is not an EC P-256 PKCS#8 key");
  }
}

/**
 * Loads the issuing CA from its certificate and unencrypted PKCS#8 private key, both PEM.
 * Throws CaNotReady when either is unreadable, the certificate is not an EC P-256 CA:TRUE
 * certificate with keyCertSign, or the key does not match the certificate's public key.
 */
export async function loadIssuingCa(certificatePem: string, pkcs8PrivateKeyPem: string): Promise<IssuingCa> {
  if (typeof certificatePem !== "string" || typeof pkcs8PrivateKeyPem !== "string") throw new TypeError("loadIssuingCa: both arguments must be PEM strings");
  const { der, fields } = readCaCertificate(certificatePem);
  const privateKey = await importPrivateKey(pkcs8PrivateKeyPem);
  let publicKey: CryptoKey;
  try {
    publicKey = await crypto.subtle.importKey("raw", fields.subjectPublicKey as Uint8Array<ArrayBuffer>, P256, false, ["verify"]);
  } catch {
    throw new CaNotReady("CA certificate's public key is not a valid P-256 point");
  }
  const signature = await crypto.subtle.sign(ECDSA_SHA256, privateKey, KEY_CHECK_MESSAGE);
  if (!(await crypto.subtle.verify(ECDSA_SHA256, publicKey, signature, KEY_CHECK_MESSAGE))) {
    throw new CaNotReady("CA private key does not match the CA certificate's public key");
  }
  // Frozen: signWorkloadCertificate caches DER pieces per IssuingCa object.
  return Object.freeze({
    certificateDer: der,
    subjectDer: fields.subjectDer.slice(),
    subjectKeyId: fields.subjectKeyId.slice(),
    privateKey,
  });
}
