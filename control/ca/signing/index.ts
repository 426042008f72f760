/**
 * @module ca/signing
 * The CA's pure signing layer: CSR parsing and verification, workload leaf issuance, CA certificate
 * creation and CRLs. Web APIs only (crypto.subtle, Uint8Array), so it runs in workerd and in Node.
 */
export { parseCsr, type ParsedCsr, type KeyAlgorithm, type SubjectAltNames } from "./parse-csr.js";
export { signWorkloadCertificate, type WorkloadCertificateInput } from "./sign-workload-certificate.js";
export { loadIssuingCa, type IssuingCa } from "./load-issuing-ca.js";
export { createSelfSignedRoot, createIntermediateCa, type CreatedCa, type CreatedIntermediateCa, type SelfSignedRootOptions, type IntermediateCaOptions } from "./create-ca-certificate.js";
export { buildCrl, type CrlInput, type RevokedCertificate } from "./build-crl.js";
export { newSerial, serialToHex, serialFromHex } from "./serial.js";
export { spiffeId, parseSpiffeId, isSpiffeId, type WorkloadIdentity } from "./spiffe-id.js";
export { pemToDer, derToPem, splitPemBundle, PemSyntaxError } from "./pem.js";
