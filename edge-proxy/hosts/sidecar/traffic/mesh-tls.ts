/**
 * @module hosts/sidecar/traffic/mesh-tls
 * The mesh's mutual TLS from a MeshTlsSource, for both sides of a connection:
 *
 * - `credentials()`: one Node SecureContext holding our key, our chain and the trust roots as `ca`,
 *   cached per certificate serial and set of roots. It is read on every new connection, so a rotated
 *   certificate or a root rotation is used by the next connection and existing ones keep theirs.
 * - `checkPeer()`: what the chain check (Node's `rejectUnauthorized` against the roots) leaves to the
 *   mesh: the peer's single SPIFFE ID must be of our trust domain, no serial of its chain revoked, and
 *   on the client side one of the expected identities when there are any (see peer-certificate).
 * - `clientOptions()`: tls.connect / https.Agent options presenting our certificate, verifying the
 *   server against the roots, and checking its identity in `checkServerIdentity` (Node's default
 *   wants a DNS name, a SPIFFE certificate has only a URI SAN). TLS session resumption is off on the
 *   client, since Node skips `checkServerIdentity` for a resumed session.
 * - `SERVER_TLS_OPTIONS`: the server side requests and requires a client certificate.
 *
 * Connections between sidecars offer Istio's ALPN values (`istio-http/1.1` and `istio` for HTTP,
 * `istio-peer-exchange` and `istio` for TCP); the inbound listener tells mesh mutual TLS from an
 * application's own TLS by them, as Istio's inbound filter chains do.
 */
import tls from "node:tls";
import type { MeshTlsSource, MeshTrust } from "../sidecar-contracts.js";
import { checkPeerCertificate, type PeerCheck } from "./peer-certificate.js";

/** ALPN a sidecar offers for HTTP over mesh mutual TLS. */
export const ISTIO_HTTP_ALPN: readonly string[] = Object.freeze(["istio-http/1.1", "istio"]);
/** ALPN a sidecar offers for TCP over mesh mutual TLS. */
export const ISTIO_TCP_ALPN: readonly string[] = Object.freeze(["istio-peer-exchange", "istio"]);

/** Whether a ClientHello's ALPN list marks a mesh peer (`istio`, `istio-*`). */
export function offersIstioAlpn(protocols: readonly string[]): boolean {
  return protocols.some((p) => p === "istio" || p.startsWith("istio-"));
}

/** Options every mesh TLS server socket gets: a verified client certificate is required. */
export const SERVER_TLS_OPTIONS = Object.freeze({ requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2" as const });

/** Our side of mesh TLS at one moment: the context made of one certificate and one set of roots. */
export interface MeshCredentials {
  readonly context: tls.SecureContext;
  /** What the context was made of, for tls.Server#setSecureContext. */
  readonly options: tls.SecureContextOptions;
  /** Our certificate's serial, lowercase hex. */
  readonly serial: string;
  readonly spiffeId: string;
  /** Distinct for every context made (connection pools key on it). */
  readonly id: number;
}

export interface ClientTlsTarget {
  /** SNI to send (Istio's `outbound_.<port>_.<subset>_.<host>`); none for an IP address. */
  servername?: string;
  /** SPIFFE IDs the server must have one of (DestinationRule `subjectAltNames`); absent or empty: any of the trust domain. */
  expected?: readonly string[];
  alpn: readonly string[];
}

export interface MeshTls {
  /** The current credentials; undefined until there is a certificate and trust roots. Throws for unusable PEM. */
  credentials(): MeshCredentials | undefined;
  /** The current trust (roots, trust domain, revoked serials). */
  trust(): MeshTrust | undefined;
  /** Checks a peer certificate Node verified against the roots, with the current trust. */
  checkPeer(cert: tls.PeerCertificate | tls.DetailedPeerCertificate | undefined, expected?: readonly string[]): PeerCheck;
  /** tls.connect options for a mutual TLS client connection with `credentials`. */
  clientOptions(credentials: MeshCredentials, target: ClientTlsTarget): tls.ConnectionOptions;
}

/** Contexts kept: the current one and a few before it (a rotation in progress). */
const CACHE_LIMIT = 4;
/** A refusal from checkServerIdentity; Node destroys the connection with it. */
export const PEER_REFUSED = "ERR_MESH_PEER_REFUSED";

export function createMeshTls(source: MeshTlsSource): MeshTls {
  const cache = new Map<string, MeshCredentials>();
  let last: { certificate: object; roots: readonly string[]; credentials: MeshCredentials } | undefined;
  let nextId = 1;
  const rootKeys = new WeakMap<readonly string[], string>();

  const rootsKey = (roots: readonly string[]): string => {
    let key = rootKeys.get(roots);
    if (key === undefined) {
      key = roots.join("\n");
      rootKeys.set(roots, key);
    }
    return key;
  };

  const credentials = (): MeshCredentials | undefined => {
    const certificate = source.certificate();
    const trust = source.trust();
    if (certificate === undefined || trust === undefined || trust.roots.length === 0) return undefined;
    // The common case: the same objects as last time.
    if (last !== undefined && last.certificate === certificate && last.roots === trust.roots) return last.credentials;
    const key = `${certificate.serial}\n${certificate.certChainPem.length}\n${rootsKey(trust.roots)}`;
    let made = cache.get(key);
    if (made === undefined) {
      const options: tls.SecureContextOptions = { key: certificate.keyPem, cert: certificate.certChainPem, ca: [...trust.roots], minVersion: "TLSv1.2" };
      made = Object.freeze({ context: tls.createSecureContext(options), options, serial: certificate.serial.toLowerCase(), spiffeId: certificate.spiffeId, id: nextId++ });
      cache.set(key, made);
      if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    }
    last = { certificate, roots: trust.roots, credentials: made };
    return made;
  };

  const checkPeer: MeshTls["checkPeer"] = (cert, expected) => {
    const trust = source.trust();
    if (trust === undefined) return { ok: false, reason: "no mesh trust yet" };
    return checkPeerCertificate(cert, trust, expected);
  };

  const clientOptions = (creds: MeshCredentials, target: ClientTlsTarget): tls.ConnectionOptions => {
    const expected = target.expected;
    const options: tls.ConnectionOptions = {
      secureContext: creds.context,
      rejectUnauthorized: true,
      ALPNProtocols: [...target.alpn],
      checkServerIdentity: (_host, cert) => {
        const check = checkPeer(cert, expected);
        return check.ok ? undefined : Object.assign(new Error(`mesh TLS: ${check.reason}`), { code: PEER_REFUSED });
      },
    };
    if (target.servername !== undefined) options.servername = target.servername;
    return options;
  };

  return { credentials, trust: () => source.trust(), checkPeer, clientOptions };
}
