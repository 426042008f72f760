/**
 * @module clusters
 * The upstream clusters routes and mirrors name. A route asks for `(host, subset, port)` and gets
 * Istio's cluster name `outbound|<port>|<subset>|<host>`; once every route is compiled, each named
 * cluster is built with its endpoints (narrowed to the subset's labels) and the traffic policy of
 * the DestinationRule for its host (top level, then subset, then the port's portLevelSettings).
 */
import type { Cluster } from "../proxy-config.js";
import { type DestinationRuleIndex, mergeTrafficPolicy } from "./destination-rules.js";
import { FALLBACK_PORT, type ServiceIndex } from "./service-index.js";
import { mapTrafficPolicy } from "./traffic-policy.js";

/** A destination as a route names it: host resolved to an FQDN (or wildcard), port when the route gave one. */
export interface DestinationRef {
  host: string;
  subset?: string;
  port?: number;
}

export function clusterName(host: string, port: number, subset: string | undefined): string {
  return `outbound|${port}|${subset ?? ""}|${host}`;
}

export class ClusterRegistry {
  private readonly wanted = new Map<string, { host: string; port: number; subset: string | undefined }>();

  constructor(
    private readonly services: ServiceIndex,
    private readonly rules: DestinationRuleIndex,
    private readonly clusterDomain: string,
  ) {}

  /**
   * The cluster for `dest`, recorded for building. Port: the destination's, else `matchPort` (the
   * port the route's matches are limited to, which is the listener port Istio would use), else the
   * service's port when it has exactly one, else 80.
   */
  clusterFor(dest: DestinationRef, matchPort: number | undefined): string {
    const port = dest.port ?? matchPort ?? this.services.uniquePort(dest.host) ?? FALLBACK_PORT;
    const subset = dest.subset === "" ? undefined : dest.subset;
    const name = clusterName(dest.host, port, subset);
    if (!this.wanted.has(name)) this.wanted.set(name, { host: dest.host, port, subset });
    return name;
  }

  /** The recorded clusters (those in `used`, when given), built, sorted by name. */
  build(used?: ReadonlySet<string>): Cluster[] {
    return [...this.wanted.entries()]
      .filter(([name]) => used === undefined || used.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, { host, port, subset }]) => this.buildCluster(name, host, port, subset));
  }

  private buildCluster(name: string, host: string, port: number, subset: string | undefined): Cluster {
    const rule = this.rules.lookup(host, this.services.namespaceOf(host, this.clusterDomain));
    const topLevel = mergeTrafficPolicy(undefined, rule?.trafficPolicy, port);
    let endpoints = this.services.endpoints(host, port);
    let policy = topLevel;
    if (subset !== undefined) {
      const def = rule?.subsets.find((s) => s.name === subset);
      // A subset no DestinationRule defines selects nothing (Istio builds no cluster for it: requests get 503).
      endpoints = def ? endpoints.filter((e) => Object.entries(def.labels).every(([k, v]) => e.labels[k] === v)) : [];
      policy = mergeTrafficPolicy(topLevel, def?.trafficPolicy, port);
    }
    return { name, host, port, ...(subset !== undefined ? { subset } : {}), endpoints, policy: mapTrafficPolicy(policy) };
  }
}
