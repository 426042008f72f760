// Test support: builds PKCS#10 CSRs from parts with the DER writer, for cases openssl will not produce.
import { derBitString, derExplicit, derImplicit, derInteger, derOctetString, derOid, derSequence, derSetOf } from "../../../../control/ca/signing/der.js";
import { ecdsaSignatureToDer } from "../../../../control/ca/signing/ecdsa-signature.js";
import { ALG_ECDSA_SHA256, OID } from "../../../../control/ca/signing/oids.js";
import { derToPem } from "../../../../control/ca/signing/pem.js";

export interface CsrParts {
  keys: CryptoKeyPair;
  /** Replaces the key's own SubjectPublicKeyInfo. */
  spki?: Uint8Array;
  /** Whole Attribute TLVs; default: one extensionRequest with a URI SAN of `uri`. */
  attributes?: Uint8Array[];
  uri?: string;
}

export function sanExtension(uri: string): Uint8Array {
  return derSequence([derOid(OID.subjectAltName), derOctetString(derSequence([derImplicit(6, new TextEncoder().encode(uri))]))]);
}

export function extensionRequest(extensions: Uint8Array[]): Uint8Array {
  return derSequence([derOid(OID.extensionRequest), derSetOf([derSequence(extensions)])]);
}

/** An ECDSA P-256 signed CSR PEM from the given parts. */
export async function buildCsr(parts: CsrParts): Promise<string> {
  const spki = parts.spki ?? new Uint8Array(await crypto.subtle.exportKey("spki", parts.keys.publicKey));
  const attributes = parts.attributes ?? [extensionRequest([sanExtension(parts.uri ?? "spiffe://cluster.local/ns/default/sa/x")])];
  const info = derSequence([derInteger(Uint8Array.of(0)), derSequence([]), spki, derExplicit(0, attributes)]);
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, parts.keys.privateKey, info));
  return derToPem(derSequence([info, ALG_ECDSA_SHA256, derBitString(ecdsaSignatureToDer(raw))]), "CERTIFICATE REQUEST");
}

export function newP256Keys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
}
