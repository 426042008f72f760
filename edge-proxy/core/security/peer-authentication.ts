/**
 * @module security/peer-authentication
 * PeerAuthentication for one request, on the connection facts the host reports (the host terminates
 * TLS and verifies the client chain against the trust roots; the core decides what to accept):
 *
 * - The mode is the port's `portLevel` entry, else the workload's `mode` (PERMISSIVE without config).
 * - STRICT refuses a peer without mutual TLS. Istio refuses such a connection during the TLS
 *   handshake, so the client never gets an HTTP answer; the core cannot close connections, so it
 *   answers 403 `peer authentication: mutual TLS is required` with details
 *   `peer_authentication_strict`. A host able to reset the connection should do so on those details.
 * - PERMISSIVE accepts both; the peer's identity (its SPIFFE ID without `spiffe://`) is the
 *   principal when it presented a certificate.
 * - DISABLE accepts the request as plain text: Istio's sidecar would not terminate TLS, so no
 *   identity is taken from a certificate even if the host saw one.
 * - With a TrustConfig, a certificate whose serial is revoked is refused whatever the mode: 403
 *   `peer authentication: certificate revoked`, details `peer_certificate_revoked`.
 * - A SPIFFE ID of another trust domain is accepted here; authorization policies decide about it.
 */
import type { MtlsMode, PeerAuthenticationConfig, TrustConfig } from "../config/proxy-config.js";
import type { PeerInfo } from "./types.js";

export type PeerOutcome = { ok: true; principal: string | undefined } | { ok: false; response: Response; details: string };

export interface PeerAuthentication {
  check(peer: PeerInfo): PeerOutcome;
}

const SPIFFE = "spiffe://";
const DEFAULT_CONFIG: PeerAuthenticationConfig = { mode: "PERMISSIVE" };

/** A serial as compared: lower-case hex, no separators, no leading zeros. */
export function normalizeSerial(serial: string): string {
  const hex = serial.toLowerCase().replace(/[^0-9a-f]/g, "").replace(/^0+/, "");
  return hex === "" ? "0" : hex;
}

function refuse(message: string, details: string): PeerOutcome {
  return { ok: false, response: new Response(message, { status: 403, headers: { "content-type": "text/plain" } }), details };
}

/** Compiles the workload's PeerAuthentication and the mesh trust (either may be absent). */
export function createPeerAuthentication(config: PeerAuthenticationConfig | undefined, trust: TrustConfig | undefined): PeerAuthentication {
  const { mode, portLevel } = config ?? DEFAULT_CONFIG;
  const ports = new Map<number, MtlsMode>(Object.entries(portLevel ?? {}).map(([port, m]) => [Number(port), m]));
  const revoked = new Set((trust?.revokedSerials ?? []).map(normalizeSerial));

  return {
    check(peer: PeerInfo): PeerOutcome {
      const effective = ports.get(peer.port) ?? mode;
      if (peer.mtls && revoked.size > 0 && peer.certificateSerial !== undefined && revoked.has(normalizeSerial(peer.certificateSerial))) {
        return refuse("peer authentication: certificate revoked", "peer_certificate_revoked");
      }
      if (effective === "STRICT" && !peer.mtls) return refuse("peer authentication: mutual TLS is required", "peer_authentication_strict");
      if (effective === "DISABLE" || !peer.mtls || peer.spiffeId === undefined) return { ok: true, principal: undefined };
      const id = peer.spiffeId;
      return { ok: true, principal: id.startsWith(SPIFFE) ? id.slice(SPIFFE.length) : id };
    },
  };
}
