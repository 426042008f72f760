/**
 * @module hosts/sidecar/agent/workload-key
 * A fresh workload key and its certificate signing request, made in the process with WebCrypto: an
 * ECDSA P-256 key pair, the private key exported as PKCS#8 PEM (kept in memory by the caller, never
 * sent nor written), and a PKCS#10 request (@peculiar/x509) whose only identity is the SPIFFE ID as a
 * URI SAN, as the CA requires.
 */
import "reflect-metadata";
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from "@peculiar/x509";

export interface WorkloadKey {
  /** PKCS#8 PEM. */
  keyPem: string;
  /** PKCS#10 PEM. */
  csrPem: string;
  /** The public key's SubjectPublicKeyInfo (DER), to check the issued certificate carries it. */
  publicKeySpki: Uint8Array;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;

/** PEM armour around DER, 64 base64 characters a line. */
export function derToPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export async function createWorkloadKey(spiffeId: string, crypto: Crypto = globalThis.crypto): Promise<WorkloadKey> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const [pkcs8, spki, request] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", keys.privateKey),
    crypto.subtle.exportKey("spki", keys.publicKey),
    Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: SIGNING, extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }])] }, crypto),
  ]);
  return { keyPem: derToPem(pkcs8, "PRIVATE KEY"), csrPem: request.toString("pem"), publicKeySpki: new Uint8Array(spki) };
}
