/**
 * @module find-virtual-host
 * Picks the virtual host for a request's authority and port, with Envoy's precedence: an exact domain (or a
 * short name of one), then the longest matching `*.` suffix, then `*`. The port's own listener is tried
 * first, then the any-port listener (0). Work is a handful of Map probes per label of the host.
 * The indexes name a virtual host by the program position of its first match (route-table.ts).
 */
import { expandShortName, hostOfAuthority } from "./authority.js";
import { hostAt } from "./match-program.js";
import type { CompiledVirtualHost, HostIndex, RouteTable } from "./route-table.js";

/** Work counters for tests and diagnostics; pass one to see what a lookup cost. */
export interface LookupProbe {
  /** Map lookups made to find the virtual host: each looks at one candidate at most. */
  indexProbes: number;
  /** RouteMatches evaluated in the chosen virtual host (a route without matches counts one). */
  matchesExamined: number;
}

/** The virtual host `authority` (a Host or `:authority` value, any port, case or trailing dot) names on `port`. */
export function findVirtualHost(table: RouteTable, authority: string, port: number, probe?: LookupProbe): CompiledVirtualHost | undefined {
  const start = findHostStart(table, authority, port, probe);
  return start < 0 ? undefined : hostAt(table.program, start);
}

/** As {@link findVirtualHost}, the program position of the host's first match; -1 when none serves it. */
export function findHostStart(table: RouteTable, authority: string, port: number, probe?: LookupProbe): number {
  // Authorities repeat (a client sends the same Host to a service, in the same form, request after request):
  // the answer for each (port, authority as sent) is remembered, so a repeat costs one Map probe and no
  // parsing, lower-casing or string copies. A probed lookup is always worked out, so its count is the work.
  if (probe !== undefined) return resolveHostStart(table, authority, port, probe);
  let memo = table.hostMemo.get(port);
  if (memo === undefined) {
    memo = new Map();
    table.hostMemo.set(port, memo);
  }
  let start = memo.get(authority);
  if (start === undefined) {
    start = resolveHostStart(table, authority, port, undefined);
    // Bounded: forgotten all at once when full (a stream of distinct authorities only costs the parsing again).
    if (memo.size >= HOST_MEMO_LIMIT) memo.clear();
    memo.set(authority, start);
  }
  return start;
}

/** Authorities remembered per listener port, at most. */
const HOST_MEMO_LIMIT = 16_384;

function resolveHostStart(table: RouteTable, authority: string, port: number, probe: LookupProbe | undefined): number {
  const host = hostOfAuthority(authority);
  const own = port === 0 ? undefined : table.listeners.get(port);
  const found = own === undefined ? -1 : lookupHost(own, host, table, probe);
  if (found >= 0) return found;
  const anyPort = table.listeners.get(0);
  return anyPort === undefined ? -1 : lookupHost(anyPort, host, table, probe);
}

function lookupHost(index: HostIndex, host: string, table: RouteTable, probe: LookupProbe | undefined): number {
  if (probe !== undefined) probe.indexProbes++;
  const exact = index.exact.get(host);
  if (exact !== undefined) return exact;
  if (index.suffixes.size > 0) {
    const wildcard = longestSuffixMatch(index, host, probe);
    if (wildcard >= 0) return wildcard;
    // A short name may fall under a wildcard only once completed: `reviews` → `reviews.<ns>.svc.cluster.local`.
    const expanded = expandShortName(host, table.namespace, table.clusterDomain);
    if (expanded !== undefined) {
      const completed = longestSuffixMatch(index, expanded, probe);
      if (completed >= 0) return completed;
    }
  }
  return index.any;
}

/** `*.b.example.com` beats `*.example.com` for `a.b.example.com`; a wildcard never matches its bare suffix. */
function longestSuffixMatch(index: HostIndex, name: string, probe: LookupProbe | undefined): number {
  for (let dot = name.indexOf("."); dot !== -1; dot = name.indexOf(".", dot + 1)) {
    if (dot === 0 || name.length - dot - 1 > index.longestSuffix) continue;
    if (probe !== undefined) probe.indexProbes++;
    const hit = index.suffixes.get(name.slice(dot + 1));
    if (hit !== undefined) return hit;
  }
  return -1;
}
