/**
 * @module hosts/sidecar/sidecar-contracts
 * What the sidecar host's parts hand each other: the workload certificate the certificate agent keeps
 * (its key made in the Pod and never sent anywhere), the mesh trust the config carries, and the one
 * structured log function. The traffic side (capture listeners, the mTLS sender) reads certificates
 * and trust through `MeshTlsSource`, so it always uses the current ones after a rotation.
 */

/** The workload's current certificate, as the certificate agent holds it. */
export interface WorkloadCertificate {
  /** PKCS#8 PEM private key, generated in the Pod. */
  keyPem: string;
  /** PEM certificates, leaf first, then the intermediates up to (not including) the root. */
  certChainPem: string;
  /** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
  spiffeId: string;
  /** Lowercase hex, no leading zeros stripped beyond what the CA printed. */
  serial: string;
  /** Epoch milliseconds. */
  notBefore: number;
  notAfter: number;
}

/** Who the mesh trusts: the CA roots and the serials it revoked (from the proxy config's `trust`). */
export interface MeshTrust {
  trustDomain: string;
  /** PEM root certificates (several during a root rotation). */
  roots: string[];
  /** Lowercase hex serials; a peer presenting one is refused. */
  revokedSerials: ReadonlySet<string>;
}

/** Read on every new connection, so rotations and trust updates apply without restarts. */
export interface MeshTlsSource {
  certificate(): WorkloadCertificate | undefined;
  trust(): MeshTrust | undefined;
}

/** One structured log event (`level`, `event`, then fields), written as a JSON line. */
export type SidecarLog = (event: Record<string, unknown>) => void;
