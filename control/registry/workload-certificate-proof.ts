/**
 * @module registry/workload-certificate-proof
 * A workload that already holds a certificate from this CA proves it with a short-lived JWT: signed
 * (ES256) by the certificate's private key, the chain in the `x5c` header (leaf first, base64 DER as
 * RFC 7515 §4.1.6 says), `aud` "weft-control-plane" and an `exp` at most 10 minutes ahead. The chain
 * must lead to an active trust anchor of the CA, every certificate be valid now, and the leaf be
 * unrevoked; the identity is the leaf's SPIFFE URI SAN, in the CA's trust domain.
 */
import "reflect-metadata";
import { BasicConstraintsExtension, SubjectAlternativeNameExtension, X509Certificate } from "@peculiar/x509";
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { eq } from "drizzle-orm";
import { CredentialInvalid } from "../errors.js";
import type { Caller } from "../ca/authenticate/identity.js";
import { CLOCK_TOLERANCE_SECONDS, rethrowAsCredentialInvalid } from "../ca/authenticate/jose-failure.js";
import { isJwtShaped, MAX_TOKEN_LENGTH } from "../ca/authenticate/jwt-peek.js";
import { listRoots } from "../ca/ca-store.js";
import { parseSpiffeId } from "../ca/signing/spiffe-id.js";
import type { WeftDatabase } from "../store/resource-store.js";
import { revokedCertificatesTable } from "../store/schema.js";

/** The `aud` every proof must carry. */
export const WORKLOAD_PROOF_AUDIENCE = "weft-control-plane";
/** A proof may not expire further ahead than this (seconds). */
export const MAX_WORKLOAD_PROOF_LIFETIME_SECONDS = 600;
const ALGORITHM = "ES256";
const MAX_CHAIN_LENGTH = 5;
const CREDENTIAL = "workload certificate proof";

export interface WorkloadProofDeps {
  db: WeftDatabase;
  now: () => Date;
  trustDomain: string;
}

/** A cheap, unverified look: whether `token` is a JWT with an `x5c` header. Never throws. */
export function isWorkloadCertificateProof(token: string): boolean {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !isJwtShaped(token)) return false;
  try {
    return Array.isArray(decodeProtectedHeader(token).x5c);
  } catch {
    return false;
  }
}

/** Verifies a workload certificate proof into a workload caller; CredentialInvalid says why not. */
export async function verifyWorkloadCertificateProof(deps: WorkloadProofDeps, token: string): Promise<Caller> {
  const now = deps.now();
  const chain = readChain(token);
  const leaf = chain[0]!;
  await checkChain(chain, await trustAnchors(deps.db), now);
  const claims = await verifySignature(token, leaf, now);
  const expiresIn = (claims.exp ?? 0) - Math.floor(now.getTime() / 1000);
  if (expiresIn > MAX_WORKLOAD_PROOF_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw new CredentialInvalid(`${CREDENTIAL} expires ${expiresIn}s from now: it may be valid for at most ${MAX_WORKLOAD_PROOF_LIFETIME_SECONDS}s`);
  }
  const spiffe = leafIdentity(leaf);
  const identity = parseSpiffeId(spiffe)!;
  if (identity.trustDomain !== deps.trustDomain) {
    throw new CredentialInvalid(`wrong trust domain: the workload certificate is for "${identity.trustDomain}", this control plane serves "${deps.trustDomain}"`);
  }
  if (claims.sub !== undefined && claims.sub !== spiffe) throw new CredentialInvalid(`${CREDENTIAL} names two identities: sub is ${JSON.stringify(claims.sub)} but the certificate is for ${spiffe}`);
  if (await isRevoked(deps.db, leaf)) throw new CredentialInvalid(`the workload certificate with serial ${serialHex(leaf)} is revoked`);
  return { kind: "workload", identity: { namespace: identity.namespace, serviceAccount: identity.serviceAccount }, via: "workload-certificate", subject: spiffe };
}

function readChain(token: string): X509Certificate[] {
  const { x5c, alg } = decodeProtectedHeader(token);
  if (alg !== ALGORITHM) throw new CredentialInvalid(`${CREDENTIAL} algorithm ${JSON.stringify(alg ?? null)} is not allowed: expected ${ALGORITHM}`);
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN_LENGTH) {
    throw new CredentialInvalid(`malformed ${CREDENTIAL}: x5c must hold 1 to ${MAX_CHAIN_LENGTH} certificates, leaf first`);
  }
  return x5c.map((entry, i) => {
    try {
      if (typeof entry !== "string") throw new TypeError("not a string");
      return new X509Certificate(Uint8Array.from(atob(entry), (c) => c.charCodeAt(0)));
    } catch (error) {
      throw new CredentialInvalid(`malformed ${CREDENTIAL}: x5c[${i}] is not a base64 DER certificate (${(error as Error).message})`);
    }
  });
}

async function trustAnchors(db: WeftDatabase): Promise<X509Certificate[]> {
  return (await listRoots(db)).map((root) => new X509Certificate(root.certificatePem));
}

/** Each certificate is signed by the next; the last is an anchor or signed by one; all valid now; only the leaf is not a CA. */
async function checkChain(chain: X509Certificate[], anchors: X509Certificate[], now: Date): Promise<void> {
  if (anchors.length === 0) throw new CredentialInvalid("the CA has no trust anchors yet, so no workload certificate can be verified");
  chain.forEach((cert, i) => {
    if (now < cert.notBefore || now > cert.notAfter) {
      throw new CredentialInvalid(`x5c[${i}] is not valid now (${now.toISOString()}): valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`);
    }
    const isCa = cert.getExtension(BasicConstraintsExtension)?.ca === true;
    if (i === 0 && isCa) throw new CredentialInvalid("x5c[0] is a CA certificate: the leaf must be a workload certificate");
    if (i > 0 && !isCa) throw new CredentialInvalid(`x5c[${i}] is not a CA certificate, so it cannot have issued x5c[${i - 1}]`);
  });
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!(await signedBy(chain[i]!, chain[i + 1]!))) throw new CredentialInvalid(`x5c[${i}] is not signed by x5c[${i + 1}]`);
  }
  const top = chain[chain.length - 1]!;
  for (const anchor of anchors) {
    if (top.equal(anchor) || (await signedBy(top, anchor))) return;
  }
  throw new CredentialInvalid("the workload certificate chain does not lead to a trust anchor of this CA");
}

async function signedBy(child: X509Certificate, parent: X509Certificate): Promise<boolean> {
  try {
    return await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

async function verifySignature(token: string, leaf: X509Certificate, now: Date): Promise<JWTPayload> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", leaf.publicKey.rawData, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new CredentialInvalid(`the workload certificate's key is not EC P-256, so it cannot sign an ${ALGORITHM} ${CREDENTIAL}`);
  }
  try {
    const { payload } = await jwtVerify(token, key, {
      audience: WORKLOAD_PROOF_AUDIENCE,
      algorithms: [ALGORITHM],
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
    });
    return payload;
  } catch (error) {
    rethrowAsCredentialInvalid(error, token, {
      credential: CREDENTIAL,
      keyOwner: "the workload certificate in x5c[0]",
      audiences: [WORKLOAD_PROOF_AUDIENCE],
      algorithms: [ALGORITHM],
      now,
    });
  }
}

function leafIdentity(leaf: X509Certificate): string {
  const names = leaf.getExtension(SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const uris = names.filter((n) => n.type === "url").map((n) => n.value);
  const spiffe = uris.find((u) => parseSpiffeId(u) !== undefined);
  if (uris.length !== 1 || spiffe === undefined) {
    throw new CredentialInvalid(`the workload certificate must carry exactly one SPIFFE URI SAN spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>, it has ${JSON.stringify(uris)}`);
  }
  return spiffe;
}

/** The serial as the CA records it: lowercase hex without leading zero bytes. */
function serialHex(cert: X509Certificate): string {
  const hex = cert.serialNumber.toLowerCase();
  return hex.replace(/^(?:00)+(?=[0-9a-f]{2})/, "") || "00";
}

async function isRevoked(db: WeftDatabase, leaf: X509Certificate): Promise<boolean> {
  const rows = await db.select({ serial: revokedCertificatesTable.serial }).from(revokedCertificatesTable).where(eq(revokedCertificatesTable.serial, serialHex(leaf))).limit(1);
  return rows.length > 0;
}
