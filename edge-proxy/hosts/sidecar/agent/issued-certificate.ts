/**
 * @module hosts/sidecar/agent/issued-certificate
 * Turns the CA's answer to a CSR into the workload certificate the sidecar serves, after checking it is
 * the one asked for: the leaf carries this key and exactly the SPIFFE ID requested, and is valid now.
 * The CA's chain ends with its root; roots come from the trust bundle instead, so self-issued
 * certificates at the end of the chain are dropped.
 */
import "reflect-metadata";
import { X509Certificate, type SubjectAlternativeNameExtension } from "@peculiar/x509";
import type { WorkloadCertificate } from "../sidecar-contracts.js";
import type { IssuedCertificate } from "../../control-plane-client.js";
import type { WorkloadKey } from "./workload-key.js";

/** The subjectAltName extension's OID (looked up by OID, which holds even when two copies of the library are loaded). */
const SUBJECT_ALT_NAME = "2.5.29.17";

/** The CA answered with a certificate the sidecar must not use. */
export class CertificateRejected extends Error {
  readonly code = "CertificateRejected";
  constructor(message: string) {
    super(message);
    this.name = "CertificateRejected";
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function workloadCertificateFrom(issued: IssuedCertificate, key: WorkloadKey, spiffeId: string, now: number): WorkloadCertificate {
  let chain: X509Certificate[];
  try {
    chain = issued.certChain.map((pem) => new X509Certificate(pem.trim()));
  } catch (cause) {
    throw new CertificateRejected(`the CA's certificate chain does not parse: ${String(cause)}`);
  }
  const leaf = chain[0]!;
  const uris = (leaf.getExtension<SubjectAlternativeNameExtension>(SUBJECT_ALT_NAME)?.names.toJSON() ?? []).map((n) => `${n.type}:${n.value}`);
  if (uris.length !== 1 || uris[0] !== `url:${spiffeId}`) throw new CertificateRejected(`the issued certificate names ${uris.join(", ") || "no identity"}, not only ${spiffeId}`);
  if (!sameBytes(new Uint8Array(leaf.publicKey.rawData), key.publicKeySpki)) throw new CertificateRejected("the issued certificate does not carry the key of the request");
  const notBefore = leaf.notBefore.getTime();
  const notAfter = leaf.notAfter.getTime();
  if (notAfter <= now) throw new CertificateRejected(`the issued certificate expired at ${leaf.notAfter.toISOString()}`);
  let end = chain.length;
  while (end > 1 && chain[end - 1]!.subject === chain[end - 1]!.issuer) end--;
  return {
    keyPem: key.keyPem,
    certChainPem: chain.slice(0, end).map((c) => c.toString("pem") + "\n").join(""),
    spiffeId,
    serial: issued.serial.toLowerCase(),
    notBefore,
    notAfter,
  };
}
