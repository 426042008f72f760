/**
 * @module hosts/sidecar/traffic/mesh-endpoints
 * Which captured outbound TCP connections go over the mesh's mutual TLS: those whose original
 * destination is an endpoint of a config cluster that upstream-tls puts on mesh TLS (ISTIO_MUTUAL, or
 * auto mTLS for an endpoint with a sidecar). A destination the config does not list as an endpoint (a
 * Service's cluster IP, an address outside the mesh) stays plain TCP. One index per config.
 */
import type { ProxyConfig } from "../../../core/config/proxy-config.js";
import type { UpstreamTarget } from "../../../core/proxy/host.js";
import { upstreamTls, type UpstreamTls } from "./upstream-tls.js";

export type MeshTcpTarget = { target: UpstreamTarget; tls: Extract<UpstreamTls, { kind: "mesh" }> };

const INDEXES = new WeakMap<ProxyConfig, Map<string, MeshTcpTarget>>();

function index(config: ProxyConfig): Map<string, MeshTcpTarget> {
  let found = INDEXES.get(config);
  if (found === undefined) {
    found = new Map();
    for (const cluster of config.clusters) {
      for (const endpoint of cluster.endpoints) {
        const key = `${endpoint.address}|${endpoint.port}`;
        if (found.has(key)) continue;
        const target: UpstreamTarget = { cluster, endpoint, maxRequestsPerConnection: 0, direction: "outbound" };
        const tls = upstreamTls(target);
        if (tls.kind === "mesh") found.set(key, { target, tls });
      }
    }
    INDEXES.set(config, found);
  }
  return found;
}

/** The mesh endpoint at `address:port`, when the config has one that takes mutual TLS. */
export function meshTcpTarget(config: ProxyConfig | undefined, address: string, port: number): MeshTcpTarget | undefined {
  if (config === undefined) return undefined;
  return index(config).get(`${address}|${port}`);
}
