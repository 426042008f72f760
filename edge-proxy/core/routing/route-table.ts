/**
 * @module route-table
 * Compiles a ProxyConfig's listeners once into the index the router runs on: per listener port (0 = any)
 * a Map of exact domains (plus the short names a sidecar's DNS search path completes to them), a Map of
 * wildcard suffixes for `*.example.com` (longest suffix wins), and the `*` virtual host. Finding a virtual
 * host costs a few Map probes per label of the Host, never a scan of the virtual hosts. Routes are compiled
 * here too (regexes built, weights accumulated, equal matchers shared through one MatcherPool), and every
 * virtual host's matches laid out in one flat array (match-program.ts) that the host indexes point into,
 * so nothing is parsed per request and a request's routes are read from adjacent memory.
 */
import type { Cluster, ProxyConfig, ProxyIdentity, VirtualHost } from "../config/proxy-config.js";
import { shortNamesOf } from "./authority.js";
import { compileRoute, type CompiledMatch, type CompiledRoute } from "./compile-route.js";
import { appendHost, type ProgramSlot } from "./match-program.js";
import { RouteTableError } from "./routing-error.js";
import { MatcherPool } from "./string-matcher.js";

export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** A virtual host of one listener with its routes compiled, in config order. */
export interface CompiledVirtualHost {
  /** This host's matches are the table's program slots [start, end). */
  readonly start: number;
  readonly end: number;
  readonly listenerPort: number;
  readonly virtualHost: VirtualHost;
  readonly routes: readonly CompiledRoute[];
  /** The matches of all routes flattened in order, what a request is tested against (fewer hops per request). */
  readonly matches: readonly CompiledMatch[];
}

/**
 * The host index of one listener port. A virtual host is named by the program position of its first match
 * (`start`), which is all routing needs of it; `hostAt(program, start)` gives its CompiledVirtualHost.
 */
export interface HostIndex {
  readonly port: number;
  /** Exact domains, then (where no exact domain claims them) the short names of mesh service domains. */
  readonly exact: ReadonlyMap<string, number>;
  /** `*.example.com` is stored under `example.com`. */
  readonly suffixes: ReadonlyMap<string, number>;
  /** Length of the longest key of `suffixes`: longer candidate suffixes are not probed. */
  readonly longestSuffix: number;
  /** The virtual host with domain `*`, consulted last; -1 when there is none. */
  readonly any: number;
}

export interface RouteTable {
  readonly proxy: ProxyIdentity;
  /** Namespace short names resolve in (the proxy's). */
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Host indexes by listener port; port 0 is the any-port listener, tried when the port's own has no host. */
  readonly listeners: ReadonlyMap<number, HostIndex>;
  /** Every listener's virtual hosts and their matches (match-program.ts). */
  readonly program: readonly ProgramSlot[];
  /** The gateway a request is taken to arrive through when it names none: `mesh` for a sidecar, a gateway proxy's only gateway. */
  readonly defaultGateway: string | undefined;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** Domains that an earlier virtual host of the same listener already claimed (the first one wins), for diagnostics. */
  readonly shadowedDomains: readonly string[];
  /**
   * Internal to find-virtual-host: per request port, the program position (or -1) each authority, as sent,
   * was found to name; filled as requests are routed. The table's answers never change, so neither do these.
   */
  readonly hostMemo: Map<number, Map<string, number>>;
}

export interface RouteTableOptions {
  /** The mesh's DNS suffix, `cluster.local` unless set. */
  clusterDomain?: string;
}

type Domain = { kind: "any" } | { kind: "exact"; name: string } | { kind: "suffix"; suffix: string };

/** Builds the route table of `config`. Throws RouteTableError for a domain, match or weight it cannot compile. */
export function createRouteTable(config: ProxyConfig, options: RouteTableOptions = {}): RouteTable {
  const clusterDomain = (options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN).toLowerCase().replace(/\.$/, "");
  const namespace = config.proxy.namespace.toLowerCase();
  const byPort = new Map<number, VirtualHost[]>();
  for (const listener of config.listeners) {
    const hosts = byPort.get(listener.port) ?? [];
    hosts.push(...listener.virtualHosts);
    byPort.set(listener.port, hosts);
  }
  const shadowedDomains: string[] = [];
  const listeners = new Map<number, HostIndex>();
  const pool = new MatcherPool();
  const program: ProgramSlot[] = [];
  for (const [port, virtualHosts] of byPort) {
    listeners.set(port, buildHostIndex(port, virtualHosts, namespace, clusterDomain, shadowedDomains, pool, program));
  }
  const gateways = config.proxy.gateways;
  const defaultGateway = config.proxy.kind === "sidecar" ? "mesh" : gateways.length === 1 ? gateways[0] : undefined;
  return {
    proxy: config.proxy,
    namespace,
    clusterDomain,
    listeners,
    program,
    defaultGateway,
    clusters: new Map(config.clusters.map((cluster) => [cluster.name, cluster])),
    shadowedDomains,
    hostMemo: new Map(),
  };
}

function buildHostIndex(
  port: number,
  virtualHosts: VirtualHost[],
  namespace: string,
  clusterDomain: string,
  shadowed: string[],
  pool: MatcherPool,
  program: ProgramSlot[],
): HostIndex {
  const exact = new Map<string, number>();
  const suffixes = new Map<string, number>();
  let any: CompiledVirtualHost | undefined;
  const owners = new Map<string, CompiledVirtualHost>();
  const claim = (map: Map<string, number>, kind: string, key: string, host: CompiledVirtualHost, domain: string): void => {
    const owner = owners.get(`${kind}:${key}`);
    if (owner === undefined) {
      owners.set(`${kind}:${key}`, host);
      map.set(key, host.start);
    } else if (owner !== host) shadowed.push(`listener ${port}: ${domain} of ${host.virtualHost.name} is served by ${owner.virtualHost.name}`);
  };
  const exactNames: [string, CompiledVirtualHost][] = [];
  for (const virtualHost of virtualHosts) {
    const routes = virtualHost.routes.map((route, i) => compileRoute(route, i, virtualHost, port, pool));
    const matches = routes.flatMap((route) => route.matches);
    const compiled = appendHost(program, matches, (start, end): CompiledVirtualHost => ({ start, end, listenerPort: port, virtualHost, routes, matches }));
    for (const raw of virtualHost.domains) {
      const domain = parseDomain(raw, `${virtualHost.name} domains`);
      if (domain.kind === "exact") {
        claim(exact, "exact", domain.name, compiled, raw);
        exactNames.push([domain.name, compiled]);
      } else if (domain.kind === "suffix") claim(suffixes, "suffix", domain.suffix, compiled, raw);
      else if (any === undefined) any = compiled;
      else if (any !== compiled) shadowed.push(`listener ${port}: * of ${virtualHost.name} is served by ${any.virtualHost.name}`);
    }
  }
  // Short names never displace a configured domain, and the first service to own one keeps it.
  for (const [name, compiled] of exactNames) {
    for (const short of shortNamesOf(name, namespace, clusterDomain)) if (!exact.has(short)) exact.set(short, compiled.start);
  }
  let longestSuffix = 0;
  for (const suffix of suffixes.keys()) longestSuffix = Math.max(longestSuffix, suffix.length);
  return { port, exact, suffixes, longestSuffix, any: any === undefined ? -1 : any.start };
}

/** A configured domain in lookup form: lower case, no trailing dot; only `*` and `*.<suffix>` wildcards (Istio's host rule). */
function parseDomain(raw: string, where: string): Domain {
  if (typeof raw !== "string" || raw.length === 0) throw new RouteTableError("ERR_ROUTE_DOMAIN_INVALID", where, "a domain must be a non-empty string");
  const domain = raw.toLowerCase().replace(/\.$/, "");
  if (domain === "*") return { kind: "any" };
  const suffix = domain.startsWith("*.") ? domain.slice(2) : undefined;
  const name = suffix ?? domain;
  if (name.length === 0 || name.includes("*")) {
    throw new RouteTableError("ERR_ROUTE_DOMAIN_INVALID", where, `${JSON.stringify(raw)}: only "*" and "*.<suffix>" wildcards are supported`);
  }
  if (name.includes(":") && !name.startsWith("[")) {
    throw new RouteTableError("ERR_ROUTE_DOMAIN_INVALID", where, `${JSON.stringify(raw)}: a domain carries no port; the listener's port selects it`);
  }
  return suffix === undefined ? { kind: "exact", name } : { kind: "suffix", suffix };
}
