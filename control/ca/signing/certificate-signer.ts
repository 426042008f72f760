/**
 * @module certificate-signer
 * A signer for certificates and CRLs: a private key paired with its X.509 AlgorithmIdentifier and a
 * sign() that returns the signatureValue bytes (DER Ecdsa-Sig-Value for ECDSA). Covers the keys an
 * operator's root may hold: EC P-256, EC P-384 and RSA (PKCS#1 v1.5, SHA-256).
 */
import { CaNotReady } from "../../errors.js";
import { decodeOid, DerSyntaxError, expectTag, readChildren, readDer, TAG_OID, TAG_SEQUENCE } from "./der.js";
import { ecdsaSignatureToDer } from "./ecdsa-signature.js";
import { ALG_ECDSA_SHA256, ALG_ECDSA_SHA384, ALG_SHA256_RSA, describeOid, OID } from "./oids.js";
import { pemToDer, PemSyntaxError } from "./pem.js";

export interface CertificateSigner {
  /** The AlgorithmIdentifier DER for tbsCertificate.signature and signatureAlgorithm. */
  algorithmIdentifier: Uint8Array;
  /** Signs `data`, returning the signatureValue contents. */
  sign(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>;
  /** Checks that the private key belongs to `spki` (the certificate's SubjectPublicKeyInfo DER). */
  matches(spki: Uint8Array): Promise<boolean>;
}

interface Profile {
  algorithmIdentifier: Uint8Array;
  importParams: EcKeyImportParams | RsaHashedImportParams;
  signParams: EcdsaParams | AlgorithmIdentifier;
  ecdsaSize: number | undefined;
}

const PROFILES: Readonly<Record<string, Profile>> = {
  "P-256": { algorithmIdentifier: ALG_ECDSA_SHA256, importParams: { name: "ECDSA", namedCurve: "P-256" }, signParams: { name: "ECDSA", hash: "SHA-256" }, ecdsaSize: 32 },
  "P-384": { algorithmIdentifier: ALG_ECDSA_SHA384, importParams: { name: "ECDSA", namedCurve: "P-384" }, signParams: { name: "ECDSA", hash: "SHA-384" }, ecdsaSize: 48 },
  RSA: { algorithmIdentifier: ALG_SHA256_RSA, importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signParams: "RSASSA-PKCS1-v1_5", ecdsaSize: undefined },
};
const CHECK_MESSAGE = new TextEncoder().encode("weft: key and certificate belong together");

function makeSigner(profile: Profile, privateKey: CryptoKey): CertificateSigner {
  const sign = async (data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> => {
    const signature = new Uint8Array(await crypto.subtle.sign(profile.signParams, privateKey, data));
    return profile.ecdsaSize === undefined ? signature : ecdsaSignatureToDer(signature);
  };
  const matches = async (spki: Uint8Array): Promise<boolean> => {
    let publicKey: CryptoKey;
    try {
      publicKey = await crypto.subtle.importKey("spki", spki as Uint8Array<ArrayBuffer>, profile.importParams, false, ["verify"]);
    } catch {
      return false;
    }
    const signature = new Uint8Array(await crypto.subtle.sign(profile.signParams, privateKey, CHECK_MESSAGE));
    return crypto.subtle.verify(profile.signParams, publicKey, signature, CHECK_MESSAGE);
  };
  return { algorithmIdentifier: profile.algorithmIdentifier, sign, matches };
}

/** A signer over an ECDSA P-256 private CryptoKey (the IssuingCa's key). */
export function signerFromEcP256Key(privateKey: CryptoKey): CertificateSigner {
  return makeSigner(PROFILES["P-256"]!, privateKey);
}

function profileOfPkcs8(pkcs8: Uint8Array): Profile {
  const info = expectTag(readDer(pkcs8, 0), TAG_SEQUENCE, "PrivateKeyInfo");
  const [, algorithm] = readChildren(pkcs8, info);
  const [oid, params] = readChildren(pkcs8, expectTag(algorithm, TAG_SEQUENCE, "privateKeyAlgorithm"));
  const keyOid = decodeOid(pkcs8, expectTag(oid, TAG_OID, "private key algorithm"));
  if (keyOid === OID.rsaEncryption) return PROFILES.RSA!;
  if (keyOid === OID.ecPublicKey && params?.tag === TAG_OID) {
    const curve = decodeOid(pkcs8, params);
    if (curve === OID.prime256v1) return PROFILES["P-256"]!;
    if (curve === OID.secp384r1) return PROFILES["P-384"]!;
    throw new CaNotReady(`issuer private key curve ${describeOid(curve)} is not supported`);
  }
  throw new CaNotReady(`issuer private key algorithm ${describeOid(keyOid)} is not supported; use EC P-256, EC P-384 or RSA`);
}

/** Imports an unencrypted PKCS#8 PEM key as a signer; CaNotReady when it is unreadable or unsupported. */
export async function importCertificateSigner(pkcs8Pem: string): Promise<CertificateSigner> {
  let pkcs8: Uint8Array<ArrayBuffer>;
  let profile: Profile;
  try {
    pkcs8 = pemToDer(pkcs8Pem, "PRIVATE KEY");
    profile = profileOfPkcs8(pkcs8);
  } catch (error) {
    if (error instanceof PemSyntaxError || error instanceof DerSyntaxError) throw new CaNotReady(`issuer private key is not an unencrypted PKCS#8 key: ${error.message}`);
    throw error;
  }
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, profile.importParams, false, ["sign"]);
  } catch {
    throw new CaNotReady("issuer private key could not be imported");
  }
  return makeSigner(profile, privateKey);
}
