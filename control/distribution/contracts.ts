/**
 * @module distribution/contracts
 * The seams between the registry (control/registry), the config builder (control/distribution/build-*)
 * and delivery (control/distribution/deliver-*, the ConfigHub Durable Object): who a proxy is, what it is
 * sent, and how a change is announced. Building stays apart from delivering.
 */
import type { ProxyConfig } from "../../edge-proxy/core/config/proxy-config.js";
import type { WorkloadPort } from "../store/schema.js";

/** A registered proxy (a row of `workloads`), as the builder and delivery read it. */
export interface ProxyRegistration {
  /** istioctl's proxy id: `<name>.<namespace>`. */
  id: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  address: string;
  labels: Record<string, string>;
  ports: WorkloadPort[];
  node?: string;
  kind: "sidecar" | "gateway";
  gateways: string[];
  registeredBy: string;
  registeredAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

/** A proxy's config and its version: the content hash of the config's canonical JSON (lowercase hex). */
export interface BuiltConfig {
  version: string;
  config: ProxyConfig;
}

/** The revisions a built config depends on; a cache entry is valid for one pair. */
export interface MeshRevisions {
  /** The resource store's mesh revision. */
  mesh: number;
  /** The registry's revision (registrations, expiries, kube syncs). */
  registry: number;
}
