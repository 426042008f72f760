// A test mesh PKI made with the openssl CLI: a root CA and an intermediate for trust domain
// `cluster.local`, SPIFFE leaf certificates (P-256, empty subject, a single critical URI SAN, serverAuth
// and clientAuth) issued by the intermediate, plus the bad ones the mTLS tests need: a revoked serial,
// another trust domain under the same root, and a leaf of an unrelated CA. Serials are chosen with a
// leading zero nibble so the uppercase/leading-zero comparison is exercised.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MeshTlsSource, MeshTrust, WorkloadCertificate } from "../../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";

export const TRUST_DOMAIN = "cluster.local";

export interface MeshPki {
  root: string;
  /** Leaves by name: server, server2 (rotated), client, client2 (rotated), revoked, foreign, untrusted, revokedServer, foreignServer, untrustedServer. */
  leaf(name: LeafName): WorkloadCertificate;
  trust(revoked?: string[]): MeshTrust;
  cleanup(): void;
}

export type LeafName = "server" | "server2" | "client" | "client2" | "revoked" | "foreign" | "untrusted" | "revokedServer" | "foreignServer" | "untrustedServer";

const LEAVES: Record<LeafName, { id: string; serial: string; ca: "intermediate" | "other" }> = {
  server: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/server`, serial: "0a11", ca: "intermediate" },
  server2: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/server`, serial: "0a12", ca: "intermediate" },
  client: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/client`, serial: "0b21", ca: "intermediate" },
  client2: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/client`, serial: "0b22", ca: "intermediate" },
  revoked: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/client`, serial: "0c31", ca: "intermediate" },
  foreign: { id: "spiffe://other.domain/ns/default/sa/client", serial: "0d41", ca: "intermediate" },
  untrusted: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/client`, serial: "0e51", ca: "other" },
  revokedServer: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/server`, serial: "0c32", ca: "intermediate" },
  foreignServer: { id: "spiffe://other.domain/ns/default/sa/server", serial: "0d42", ca: "intermediate" },
  untrustedServer: { id: `spiffe://${TRUST_DOMAIN}/ns/default/sa/server`, serial: "0e52", ca: "other" },
};

/** The serials the tests revoke, written as the CA prints them (lowercase, leading zero kept). */
export const REVOKED_SERIALS = [LEAVES.revoked.serial, LEAVES.revokedServer.serial];

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
}

export function createMeshPki(): MeshPki {
  const dir = mkdtempSync(join(tmpdir(), "weft-mesh-pki-"));
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  writeFileSync(join(dir, "ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
  writeFileSync(join(dir, "intermediate.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");

  for (const ca of ["root", "other"]) {
    openssl(dir, "req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/O=weft-test/CN=${ca} CA`, "-extensions", "v3_ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  }
  openssl(dir, "req", "-new", ...ec, "-keyout", "intermediate.key", "-out", "intermediate.csr", "-subj", "/O=weft-test/CN=intermediate CA");
  openssl(dir, "x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "0x7001", "-days", "2", "-extfile", "intermediate.ext", "-out", "intermediate.pem");

  const leaves = new Map<LeafName, WorkloadCertificate>();
  for (const [name, spec] of Object.entries(LEAVES) as [LeafName, (typeof LEAVES)[LeafName]][]) {
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=critical,URI:${spec.id}\n`);
    openssl(dir, "req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/");
    const [ca, caKey] = spec.ca === "intermediate" ? ["intermediate.pem", "intermediate.key"] : ["other.pem", "other.key"];
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", ca, "-CAkey", caKey, "-set_serial", `0x${spec.serial}`, "-days", "1", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
    const chain = spec.ca === "intermediate" ? read(`${name}.pem`) + read("intermediate.pem") : read(`${name}.pem`);
    leaves.set(name, { keyPem: read(`${name}.key`), certChainPem: chain, spiffeId: spec.id, serial: spec.serial, notBefore: Date.now() - 60_000, notAfter: Date.now() + 86_400_000 });
  }
  const root = read("root.pem");

  return {
    root,
    leaf: (name) => leaves.get(name)!,
    trust: (revoked = REVOKED_SERIALS) => ({ trustDomain: TRUST_DOMAIN, roots: [root], revokedSerials: new Set(revoked) }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A MeshTlsSource whose certificate and trust a test can swap (rotation, revocation). */
export interface SwitchableTls extends MeshTlsSource {
  use(certificate: WorkloadCertificate | undefined): void;
  useTrust(trust: MeshTrust | undefined): void;
}

export function switchableTls(certificate: WorkloadCertificate | undefined, trust: MeshTrust | undefined): SwitchableTls {
  let current = certificate;
  let currentTrust = trust;
  return {
    certificate: () => current,
    trust: () => currentTrust,
    use: (next) => (current = next),
    useTrust: (next) => (currentTrust = next),
  };
}
