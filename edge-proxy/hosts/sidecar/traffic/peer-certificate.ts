/**
 * @module hosts/sidecar/traffic/peer-certificate
 * What the mesh accepts of a peer's certificate once Node has verified its chain against the trust
 * roots (both directions of mutual TLS): exactly one SPIFFE ID among its URI SANs, in the mesh's trust
 * domain; no certificate of the presented chain with a revoked serial; and, where the caller names
 * them (a DestinationRule's `subjectAltNames`), one of the expected identities. Serials are compared
 * as lowercase hex without leading zeros on both sides: Node prints them uppercase, byte-padded, while
 * the CA and the config write them lowercase.
 */
import type { DetailedPeerCertificate, PeerCertificate } from "node:tls";
import { normalizeSerial } from "../../../core/security/peer-authentication.js";
import type { MeshTrust } from "../sidecar-contracts.js";

const SPIFFE = "spiffe://";

/** The verified peer: its SPIFFE ID and its serial as lowercase hex (byte-padded, as Node prints it). */
export interface PeerIdentity {
  spiffeId: string;
  serial: string;
}

export type PeerCheck = { ok: true; identity: PeerIdentity } | { ok: false; reason: string };

/** `subjectaltname` as Node prints it (`DNS:a, URI:spiffe://...`; values with separators come JSON-quoted). */
const SAN_ENTRY = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;

/** The URI SANs of a certificate. */
export function uriSans(cert: PeerCertificate): string[] {
  const text = cert.subjectaltname;
  if (typeof text !== "string" || text === "") return [];
  const uris: string[] = [];
  for (const match of text.matchAll(SAN_ENTRY)) {
    if (match[1] !== "URI") continue;
    const raw = match[2] ?? "";
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        continue;
      }
    }
    uris.push(value);
  }
  return uris;
}

/** The SPIFFE ID an expected-identity entry names (`spiffe://` added when the entry has no scheme). */
function asSpiffeId(name: string): string {
  return name.includes("://") ? name : `${SPIFFE}${name}`;
}

const NORMALIZED_REVOKED = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

/** The trust's revoked serials in compared form, computed once per set. */
function revokedSet(trust: MeshTrust): ReadonlySet<string> {
  let set = NORMALIZED_REVOKED.get(trust.revokedSerials);
  if (set === undefined) {
    set = new Set([...trust.revokedSerials].map(normalizeSerial));
    NORMALIZED_REVOKED.set(trust.revokedSerials, set);
  }
  return set;
}

/** The first revoked serial along the presented chain (leaf, then each issuer), if any. */
function revokedInChain(cert: PeerCertificate | DetailedPeerCertificate, revoked: ReadonlySet<string>): string | undefined {
  if (revoked.size === 0) return undefined;
  const seen = new Set<object>();
  let current: PeerCertificate | DetailedPeerCertificate | undefined = cert;
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    if (typeof current.serialNumber === "string" && revoked.has(normalizeSerial(current.serialNumber))) return current.serialNumber.toLowerCase();
    const issuer: DetailedPeerCertificate | undefined = (current as DetailedPeerCertificate).issuerCertificate;
    current = issuer !== undefined && issuer !== null && Object.keys(issuer).length > 0 ? issuer : undefined;
  }
  return undefined;
}

/**
 * Checks a peer certificate whose chain Node already verified. `expected` (absent or empty: any
 * identity of the trust domain) lists the SPIFFE IDs the caller accepts.
 */
export function checkPeerCertificate(cert: PeerCertificate | DetailedPeerCertificate | undefined, trust: MeshTrust, expected?: readonly string[]): PeerCheck {
  if (cert === undefined || cert === null || typeof cert.serialNumber !== "string") return { ok: false, reason: "the peer presented no certificate" };
  const spiffeIds = uriSans(cert).filter((uri) => uri.startsWith(SPIFFE));
  if (spiffeIds.length !== 1) return { ok: false, reason: spiffeIds.length === 0 ? "the peer certificate has no SPIFFE ID (URI SAN)" : `the peer certificate has ${spiffeIds.length} SPIFFE IDs, a SPIFFE certificate has one` };
  const spiffeId = spiffeIds[0]!;
  const prefix = `${SPIFFE}${trust.trustDomain}/`;
  if (!spiffeId.startsWith(prefix)) return { ok: false, reason: `peer ${spiffeId} is not in trust domain ${trust.trustDomain}` };
  const revoked = revokedInChain(cert, revokedSet(trust));
  if (revoked !== undefined) return { ok: false, reason: `peer ${spiffeId} presented revoked certificate serial ${revoked}` };
  if (expected !== undefined && expected.length > 0 && !expected.some((name) => asSpiffeId(name) === spiffeId)) {
    return { ok: false, reason: `peer ${spiffeId} is not one of the expected identities ${expected.join(", ")}` };
  }
  return { ok: true, identity: { spiffeId, serial: cert.serialNumber.toLowerCase() } };
}
