/**
 * @module ca/certificate-authority
 * The CA's operations, between the HTTP routes and the pure signing module: finding (or, on first
 * use, bootstrapping) the issuing CA, issuing a workload certificate for a caller's own SPIFFE
 * identity, revocation and the CRL, the trust bundle with root rotation, and plug-in CA import.
 */
import { BadRequest, CaNotReady, IdentityMismatch, ResourceConflict, ResourceNotFound, TtlTooLong } from "../errors.js";
import type { WeftDatabase } from "../store/resource-store.js";
import { parseDurationMs } from "../validation/primitives.js";
import type { Caller } from "./authenticate/identity.js";
import * as store from "./ca-store.js";
import { keyPairFromPkcs8 } from "./ca-key.js";
import { certificateInfo, signedBy, type CertificateInfo } from "./certificate-info.js";
import { parseCsr } from "./signing/parse-csr.js";
import { derToPem } from "./signing/pem.js";
import { buildCrl } from "./signing/build-crl.js";
import { createSelfSignedRoot } from "./signing/create-ca-certificate.js";
import { newSerial, serialToHex } from "./signing/serial.js";
import { loadIssuingCa, signWorkloadCertificate, type IssuingCa } from "./signing/sign-workload-certificate.js";
import { parseSpiffeId, spiffeId } from "./signing/spiffe-id.js";

export interface CaConfig {
  trustDomain: string;
  defaultTtlMs: number;
  maxTtlMs: number;
  /** The issuing CA's PKCS#8 private key (from the WEFT_CA_KEY secret), normalized. */
  caKeyPem: string | undefined;
}

export interface CaDeps {
  db: WeftDatabase;
  now: () => Date;
  config: CaConfig;
}

export interface ActiveIssuer {
  signer: IssuingCa;
  fingerprint: string;
  certificatePem: string;
  /** Certificates above the issuer, ending with the root; empty when the issuer is the root. */
  chainPem: string[];
}

export interface IssuedCertificate {
  certChain: string[];
  serial: string;
  expiresAt: string;
}

/** Leaves are backdated this much, so a peer whose clock runs a little behind accepts them. */
const BACKDATE_MS = 60_000;
const MIN_TTL_MS = 60_000;

// Importing the key and parsing the issuer takes milliseconds: keep it per isolate, keyed by both.
const issuerCache = new Map<string, Promise<IssuingCa>>();

function requireKey(config: CaConfig): string {
  if (!config.caKeyPem) {
    throw new CaNotReady("the CA has no signing key: set the WEFT_CA_KEY secret (`npx weft ca init` makes one; `npm start` does it locally)");
  }
  return config.caKeyPem;
}

/** The issuing CA; on first use, a self-signed root made from WEFT_CA_KEY (ECDSA P-256, 10 years). */
export async function activeIssuer(deps: CaDeps): Promise<ActiveIssuer> {
  const key = requireKey(deps.config);
  let row = await store.getIssuer(deps.db);
  if (!row) {
    const keys = await keyPairFromPkcs8(key);
    const root = await createSelfSignedRoot({ keys, trustDomain: deps.config.trustDomain, notBefore: new Date(deps.now().getTime() - BACKDATE_MS), years: 10 });
    const info = await certificateInfo(root.certificatePem, "root");
    const now = deps.now().toISOString();
    await store.setIssuer(
      deps.db,
      { certificatePem: info.pem, chainPem: [], fingerprint: info.fingerprint, createdAt: now },
      { fingerprint: info.fingerprint, certificatePem: info.pem, subject: info.subject, notAfter: info.notAfter.toISOString(), addedAt: now, retiredAt: null },
      true,
    );
    row = (await store.getIssuer(deps.db))!;
  }
  const cacheKey = `${row.fingerprint}:${key}`;
  let signer = issuerCache.get(cacheKey);
  if (!signer) {
    const loading = loadIssuingCa(row.certificatePem, key);
    issuerCache.set(cacheKey, loading);
    loading.catch(() => issuerCache.delete(cacheKey));
    signer = loading;
  }
  return { signer: await signer, fingerprint: row.fingerprint, certificatePem: row.certificatePem, chainPem: row.chainPem };
}

/** The TTL asked for, defaulted and bounded. */
export function resolveTtl(ttl: string | undefined, config: CaConfig): number {
  if (ttl === undefined) return config.defaultTtlMs;
  const ms = parseDurationMs(ttl);
  if (ms === undefined) throw new BadRequest(`ttl "${ttl}" is not a duration such as 24h or 90m`, [{ field: "ttl", message: "not a duration" }]);
  if (ms < MIN_TTL_MS) throw new BadRequest(`ttl "${ttl}" is shorter than the minimum of 1m`, [{ field: "ttl", message: "below 1m" }]);
  if (ms > config.maxTtlMs) {
    throw new TtlTooLong(`ttl "${ttl}" exceeds the CA's maximum certificate lifetime of ${config.maxTtlMs / 3_600_000}h`);
  }
  return ms;
}

/** Issues a leaf for the caller's own identity (an admin may ask for any identity in the trust domain). */
export async function issueCertificate(deps: CaDeps, request: { csrPem: string; ttl?: string; caller: Caller }): Promise<IssuedCertificate> {
  const ttlMs = resolveTtl(request.ttl, deps.config);
  const csr = await parseCsr(request.csrPem);
  const { caller } = request;

  const extras = [...csr.sans.dns.map((d) => `DNS:${d}`), ...csr.sans.ips.map((i) => `IP:${i}`), ...csr.sans.emails.map((e) => `email:${e}`)];
  if (extras.length > 0 || csr.sans.uris.length > 1) {
    throw new IdentityMismatch(`the CSR asks for extra subject alternative names (${[...csr.sans.uris.slice(1).map((u) => `URI:${u}`), ...extras].join(", ")}): a workload certificate carries exactly one SPIFFE URI`);
  }
  const requested = csr.sans.uris[0];
  let identity: { namespace: string; serviceAccount: string };
  if (requested !== undefined) {
    const parsed = parseSpiffeId(requested);
    if (!parsed) throw new IdentityMismatch(`the CSR's URI SAN "${requested}" is not a SPIFFE ID of the form spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`);
    if (parsed.trustDomain !== deps.config.trustDomain) {
      throw new IdentityMismatch(`the CSR asks for trust domain "${parsed.trustDomain}", but this CA serves "${deps.config.trustDomain}"`);
    }
    identity = { namespace: parsed.namespace, serviceAccount: parsed.serviceAccount };
    if (caller.kind === "workload" && (identity.namespace !== caller.identity.namespace || identity.serviceAccount !== caller.identity.serviceAccount)) {
      throw new IdentityMismatch(
        `the CSR asks for ${requested}, but the credential is for ${spiffeId(deps.config.trustDomain, caller.identity.namespace, caller.identity.serviceAccount)}: a workload gets a certificate for its own identity only`,
      );
    }
  } else if (caller.kind === "workload") {
    identity = caller.identity;
  } else {
    throw new BadRequest("the CSR names no identity: an admin must put the SPIFFE ID in the CSR's URI SAN", [{ field: "csr", message: "no URI SAN" }]);
  }

  const issuer = await activeIssuer(deps);
  const now = deps.now();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + ttlMs);
  const serialBytes = newSerial();
  const id = spiffeId(deps.config.trustDomain, identity.namespace, identity.serviceAccount);
  const leaf = await signWorkloadCertificate({ spki: csr.spki, spiffeId: id, notBefore, notAfter, serial: serialBytes, issuer: issuer.signer });
  const serial = serialToHex(serialBytes);
  await store.recordIssued(deps.db, {
    serial,
    spiffeId: id,
    namespace: identity.namespace,
    serviceAccount: identity.serviceAccount,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    requester: caller.kind === "workload" && caller.via === "join-token" ? `join-token:${caller.subject}` : caller.subject,
    issuerFingerprint: issuer.fingerprint,
    issuedAt: now.toISOString(),
  });
  const chain = issuer.chainPem.length === 0 ? [issuer.certificatePem] : [issuer.certificatePem, ...issuer.chainPem];
  return { certChain: [derToPem(leaf, "CERTIFICATE"), ...chain], serial, expiresAt: notAfter.toISOString() };
}

/** Records a revocation of a certificate this CA issued (idempotent). */
export async function revokeCertificate(deps: CaDeps, serial: string, reason: string | undefined): Promise<store.RevokedRow> {
  if (!/^[0-9a-f]{1,40}$/.test(serial)) throw new BadRequest(`serial "${serial}" must be lowercase hex, as issuance returned it`);
  if (!(await store.findIssued(deps.db, serial))) throw new ResourceNotFound(`no certificate with serial ${serial} was issued by this CA`);
  return store.revoke(deps.db, { serial, revokedAt: deps.now().toISOString(), reason: reason ?? null });
}

/** The current CRL, signed by the issuing CA (valid for a day; fetch it again for news). */
export async function currentCrl(deps: CaDeps): Promise<string> {
  const issuer = await activeIssuer(deps);
  const { rows, total } = await store.listRevoked(deps.db);
  const now = deps.now();
  return buildCrl({
    issuer: issuer.signer,
    revoked: rows.map((r) => ({ serialHex: r.serial, revokedAt: new Date(r.revokedAt) })),
    thisUpdate: new Date(now.getTime() - BACKDATE_MS),
    nextUpdate: new Date(now.getTime() + 24 * 3_600_000),
    crlNumber: total + 1,
  });
}

/** The PEM bundle of active trust anchors (bootstrapping the CA if it has none yet). */
export async function trustBundle(deps: CaDeps): Promise<string> {
  let roots = await store.listRoots(deps.db);
  if (roots.length === 0) {
    await activeIssuer(deps);
    roots = await store.listRoots(deps.db);
  }
  return roots.map((r) => r.certificatePem.trim() + "\n").join("");
}

/** Adds a trust anchor (root rotation: old and new are served side by side until one is retired). */
export async function addTrustAnchor(deps: CaDeps, pem: string): Promise<CertificateInfo> {
  const info = await certificateInfo(pem, "certificate");
  if (!info.isCa || !info.selfSigned) throw new BadRequest(`a trust anchor must be a self-signed CA certificate; ${info.subject} is ${info.isCa ? "not self-signed" : "not a CA"}`, [{ field: "certificate", message: "not a self-signed CA certificate" }]);
  await store.addRoot(deps.db, { fingerprint: info.fingerprint, certificatePem: info.pem, subject: info.subject, notAfter: info.notAfter.toISOString(), addedAt: deps.now().toISOString(), retiredAt: null });
  return info;
}

/** Retires a trust anchor; the root the issuing CA chains to cannot be retired. */
export async function retireTrustAnchor(deps: CaDeps, fingerprint: string): Promise<void> {
  const issuer = await store.getIssuer(deps.db);
  if (issuer) {
    const top = issuer.chainPem.length === 0 ? issuer.certificatePem : issuer.chainPem[issuer.chainPem.length - 1]!;
    if ((await certificateInfo(top, "root")).fingerprint === fingerprint) {
      throw new ResourceConflict(`root ${fingerprint} anchors the issuing CA: import a new issuer first, then retire this root`);
    }
  }
  if (!(await store.retireRoot(deps.db, fingerprint, deps.now().toISOString()))) throw new ResourceNotFound(`no active root with fingerprint ${fingerprint}`);
}

/**
 * Plug-in CA (Istio's cacerts layout): makes `certificate` (whose key is the WEFT_CA_KEY secret) the
 * issuing CA, with `chain` above it up to `root`, and adds `root` to the trust bundle.
 */
export async function importIssuer(deps: CaDeps, input: { certificate: string; chain: string[]; root: string }): Promise<{ fingerprint: string; root: string }> {
  const key = requireKey(deps.config);
  const cert = await certificateInfo(input.certificate, "certificate");
  const root = await certificateInfo(input.root, "root");
  const chain = await Promise.all(input.chain.map((pem, i) => certificateInfo(pem, `chain[${i}]`)));
  if (!cert.isCa) throw new BadRequest(`certificate ${cert.subject} is not a CA certificate (basicConstraints CA:TRUE)`, [{ field: "certificate", message: "not a CA" }]);
  if (!root.isCa || !root.selfSigned) throw new BadRequest(`root ${root.subject} is not a self-signed CA certificate`, [{ field: "root", message: "not a self-signed CA" }]);
  // Istio's cert-chain.pem starts with the CA certificate itself and may end with the root: keep what lies between.
  const between = chain.filter((c) => c.fingerprint !== cert.fingerprint && c.fingerprint !== root.fingerprint);
  const path = [cert, ...between, root];
  for (let i = 0; i + 1 < path.length; i++) {
    if (!(await signedBy(path[i]!, path[i + 1]!))) {
      throw new BadRequest(`the chain does not verify: ${path[i]!.subject} is not signed by ${path[i + 1]!.subject}`, [{ field: i === 0 ? "certificate" : `chain`, message: "broken chain" }]);
    }
  }
  await loadIssuingCa(cert.pem, key); // throws CaNotReady when WEFT_CA_KEY is not this certificate's key
  const now = deps.now().toISOString();
  const chainPem = cert.fingerprint === root.fingerprint ? [] : [...between.map((c) => c.pem), root.pem];
  await store.setIssuer(
    deps.db,
    { certificatePem: cert.pem, chainPem, fingerprint: cert.fingerprint, createdAt: now },
    { fingerprint: root.fingerprint, certificatePem: root.pem, subject: root.subject, notAfter: root.notAfter.toISOString(), addedAt: now, retiredAt: null },
    false,
  );
  return { fingerprint: cert.fingerprint, root: root.fingerprint };
}
