/**
 * @module create-ca-certificate
 * Creates the mesh's CA certificates: a self-signed root (the default, Istio's self-signed CA) and an
 * intermediate under an operator's root (the plug-in CA layout). ECDSA P-256 keys, PKCS#8 PEM out.
 * Not a hot path; built with the same DER writer as the leaves so there is one encoder to trust.
 */
import { CaNotReady } from "../../errors.js";
import { derBitString, derBoolean, derExplicit, derImplicit, derInteger, derIntegerFromNumber, derNamedBits, derOctetString, derOid, derSequence, derTime, DerSyntaxError } from "./der.js";
import { encodeName } from "./name.js";
import { OID } from "./oids.js";
import { derToPem, pemToDer, PemSyntaxError } from "./pem.js";
import { KEY_USAGE_CRL_SIGN, KEY_USAGE_DIGITAL_SIGNATURE, KEY_USAGE_KEY_CERT_SIGN, readCertificate, type CertificateFields } from "./read-certificate.js";
import { importCertificateSigner, signerFromEcP256Key, type CertificateSigner } from "./certificate-signer.js";
import { newSerial } from "./serial.js";
import { sha1 } from "./sha1.js";

export interface CreatedCa {
  certificatePem: string;
  /** The CA's private key, unencrypted PKCS#8 PEM. */
  privateKeyPem: string;
  keys: CryptoKeyPair;
}

export interface CreatedIntermediateCa extends CreatedCa {
  /** The intermediate followed by its issuer: what Istio's plug-in layout calls cert-chain.pem. */
  certificateChainPem: string;
}

export interface SelfSignedRootOptions {
  /** An extractable ECDSA P-256 key pair; generated when absent. */
  keys?: CryptoKeyPair;
  commonName?: string;
  /** Subject O; defaults to the trust domain, as Istio's self-signed root does. */
  organization?: string;
  trustDomain: string;
  notBefore: Date;
  years?: number;
}

export interface IntermediateCaOptions {
  issuerCertificatePem: string;
  /** The issuer's unencrypted PKCS#8 key: EC P-256, EC P-384 or RSA. */
  issuerPrivateKeyPem: string;
  keys?: CryptoKeyPair;
  commonName: string;
  organization?: string;
  notBefore: Date;
  years?: number;
}

const P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const CA_KEY_USAGE = derSequence([derOid(OID.keyUsage), derBoolean(true), derOctetString(derNamedBits([KEY_USAGE_DIGITAL_SIGNATURE, KEY_USAGE_KEY_CERT_SIGN, KEY_USAGE_CRL_SIGN]))]);

function basicConstraints(pathLength: number | undefined): Uint8Array {
  const fields = pathLength === undefined ? [derBoolean(true)] : [derBoolean(true), derIntegerFromNumber(pathLength)];
  return derSequence([derOid(OID.basicConstraints), derBoolean(true), derOctetString(derSequence(fields))]);
}

function keyIdExtensions(subjectKeyId: Uint8Array, authorityKeyId: Uint8Array | undefined): Uint8Array[] {
  const ski = derSequence([derOid(OID.subjectKeyIdentifier), derOctetString(derOctetString(subjectKeyId))]);
  if (authorityKeyId === undefined) return [ski];
  return [ski, derSequence([derOid(OID.authorityKeyIdentifier), derOctetString(derSequence([derImplicit(0, authorityKeyId)]))])];
}

function addYears(from: Date, years: number): Date {
  if (!Number.isInteger(years) || years < 1 || years > 100) throw new TypeError(`years must be an integer from 1 to 100, not ${years}`);
  const to = new Date(from.getTime());
  to.setUTCFullYear(to.getUTCFullYear() + years);
  return to;
}

async function keyPairOf(keys: CryptoKeyPair | undefined): Promise<CryptoKeyPair> {
  const pair = keys ?? (await crypto.subtle.generateKey(P256, true, ["sign", "verify"]));
  const algorithm = pair.privateKey.algorithm as EcKeyAlgorithm;
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256" || !pair.privateKey.extractable) {
    throw new TypeError("keys must be an extractable ECDSA P-256 key pair");
  }
  return pair;
}

interface CaTemplate {
  signer: CertificateSigner;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  keys: CryptoKeyPair;
  pathLength: number | undefined;
  authorityKeyId: Uint8Array | undefined;
}

async function issueCaCertificate(t: CaTemplate): Promise<CreatedCa> {
  if (!(t.notBefore instanceof Date) || Number.isNaN(t.notBefore.getTime())) throw new TypeError("notBefore must be a valid Date");
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", t.keys.publicKey));
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", t.keys.publicKey));
  const extensions = [basicConstraints(t.pathLength), CA_KEY_USAGE, ...keyIdExtensions(sha1(point), t.authorityKeyId)];
  const tbs = derSequence([
    derExplicit(0, [derIntegerFromNumber(2)]),
    derInteger(newSerial()),
    t.signer.algorithmIdentifier,
    t.issuerDer,
    derSequence([derTime(t.notBefore), derTime(t.notAfter)]),
    t.subjectDer,
    spki,
    derExplicit(3, [derSequence(extensions)]),
  ]);
  const certificate = derSequence([tbs, t.signer.algorithmIdentifier, derBitString(await t.signer.sign(tbs))]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", t.keys.privateKey));
  return { certificatePem: derToPem(certificate, "CERTIFICATE"), privateKeyPem: derToPem(pkcs8, "PRIVATE KEY"), keys: t.keys };
}

/** A self-signed ECDSA P-256 root: CA:TRUE and keyUsage keyCertSign+cRLSign+digitalSignature, both critical. */
export async function createSelfSignedRoot(options: SelfSignedRootOptions): Promise<CreatedCa> {
  const { commonName = "Weft Root CA", trustDomain, notBefore, years = 10 } = options;
  if (typeof trustDomain !== "string" || trustDomain === "") throw new TypeError("createSelfSignedRoot: trustDomain is required");
  const keys = await keyPairOf(options.keys);
  const name = encodeName({ commonName, organization: options.organization ?? trustDomain });
  return issueCaCertificate({
    signer: signerFromEcP256Key(keys.privateKey),
    issuerDer: name,
    subjectDer: name,
    notBefore,
    notAfter: addYears(notBefore, years),
    keys,
    pathLength: undefined,
    authorityKeyId: undefined,
  });
}

function readIssuer(pem: string): CertificateFields {
  let fields: CertificateFields;
  try {
    fields = readCertificate(pemToDer(pem, "CERTIFICATE"));
  } catch (error) {
    if (error instanceof PemSyntaxError || error instanceof DerSyntaxError) throw new CaNotReady(`issuer certificate is unreadable: ${error.message}`);
    throw error;
  }
  if (!fields.isCa) throw new CaNotReady("issuer certificate is not a CA: basicConstraints CA:TRUE is missing");
  if (fields.keyUsage !== undefined && !fields.keyUsage.has(KEY_USAGE_KEY_CERT_SIGN)) throw new CaNotReady("issuer certificate's keyUsage does not include keyCertSign");
  if (fields.pathLength === 0) throw new CaNotReady("issuer certificate has pathLen 0 and cannot issue a CA below it");
  return fields;
}

/**
 * An ECDSA P-256 intermediate CA (pathLen 0) signed by an operator's CA, for the plug-in layout.
 * Its validity ends at `years` after notBefore or at the issuer's notAfter, whichever is first.
 */
export async function createIntermediateCa(options: IntermediateCaOptions): Promise<CreatedIntermediateCa> {
  const { issuerCertificatePem, issuerPrivateKeyPem, commonName, notBefore, years = 5 } = options;
  if (typeof commonName !== "string" || commonName === "") throw new TypeError("createIntermediateCa: commonName is required");
  const issuer = readIssuer(issuerCertificatePem);
  const signer = await importCertificateSigner(issuerPrivateKeyPem);
  if (!(await signer.matches(issuer.spki))) throw new CaNotReady("issuer private key does not match the issuer certificate's public key");
  const keys = await keyPairOf(options.keys);
  const wanted = addYears(notBefore, years);
  const created = await issueCaCertificate({
    signer,
    issuerDer: issuer.subjectDer,
    subjectDer: encodeName({ commonName, organization: options.organization }),
    notBefore,
    notAfter: wanted.getTime() > issuer.notAfter.getTime() ? issuer.notAfter : wanted,
    keys,
    pathLength: 0,
    authorityKeyId: issuer.subjectKeyId,
  });
  const issuerPem = derToPem(pemToDer(issuerCertificatePem, "CERTIFICATE"), "CERTIFICATE");
  return { ...created, certificateChainPem: created.certificatePem + issuerPem };
}
