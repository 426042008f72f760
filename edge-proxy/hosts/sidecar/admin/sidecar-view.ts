/**
 * @module hosts/sidecar/admin/sidecar-view
 * What the sidecar's status and admin ports read of the running sidecar: whether it is ready (config
 * and certificate loaded, not draining), the engine with its config, the certificate, the trust, the
 * capture connections, and how to ask it to quit. The runner (../run-sidecar.ts) implements it; the
 * admin apps only read it, so they are tested with a plain object.
 */
import type { Proxy } from "../../../core/proxy/proxy.js";
import type { MeshTrust, WorkloadCertificate } from "../sidecar-contracts.js";

export interface Readiness {
  ready: boolean;
  /** Why not, one short phrase each: `no config yet`, `no certificate yet`, `draining`. */
  reasons: string[];
}

export interface SidecarView {
  readiness(): Readiness;
  /** The engine, once a config has been applied. */
  proxy(): Proxy | undefined;
  /** The applied config's version and where it came from. */
  config(): { version: string; source: "control-plane" | "disk" } | undefined;
  certificate(): WorkloadCertificate | undefined;
  /** When the certificate agent renews next (epoch ms). */
  nextRenewalAt(): number | undefined;
  trust(): MeshTrust | undefined;
  /** Open connections on the capture ports. */
  connections(): number;
  /** Epoch ms the sidecar started. */
  startedAt: number;
  now(): number;
  /** Starts the graceful shutdown (drain, then exit), as SIGTERM does. */
  quit(reason: string): void;
}
