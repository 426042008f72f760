/**
 * @module destination-rules
 * Finds the DestinationRule that applies to a host for one proxy, as Istio's
 * PushContext.destinationRule does: a rule in the proxy's own namespace first (whatever its
 * exportTo; a workloadSelector must match the proxy), then a rule the service's namespace exports
 * to the proxy's, then one the root namespace exports. Within a namespace the most specific host
 * wins (exact, then the longest wildcard), and rules for the same host are merged oldest first
 * (Istio's mergeDestinationRule: the first traffic policy, every distinct subset).
 */
import type { ProxyIdentity } from "../proxy-config.js";
import { type IstioObject, compareByAge, hostCoveredBy, isExportedTo, isNetworkingKind, resolveHost } from "./istio-objects.js";
import { type Obj, obj, objList, str, stringMap, text } from "./raw.js";

/** One DestinationRule as the builder reads it, host resolved. */
interface RuleView {
  namespace: string;
  host: string;
  spec: Obj;
  exportTo: unknown;
  selector: Record<string, string> | undefined;
}

/** The rules for one host, merged. */
export interface MergedDestinationRule {
  /** `namespace/name` of every rule merged in, oldest first. */
  sources: string[];
  trafficPolicy: Obj | undefined;
  subsets: { name: string; labels: Record<string, string>; trafficPolicy: Obj | undefined }[];
}

export interface DestinationRuleLookup {
  proxy: ProxyIdentity;
  rootNamespace: string;
}

export class DestinationRuleIndex {
  private readonly byNamespace = new Map<string, { rule: RuleView; id: string }[]>();

  constructor(resources: readonly IstioObject[], private readonly opts: DestinationRuleLookup & { clusterDomain: string }) {
    for (const o of resources.filter((r) => isNetworkingKind(r, "DestinationRule")).sort(compareByAge)) {
      const spec = obj(o.spec) ?? {};
      const host = text(spec.host);
      if (host === undefined) continue;
      const ns = o.metadata.namespace;
      const rule: RuleView = {
        namespace: ns,
        host: resolveHost(host, ns, opts.clusterDomain),
        spec,
        exportTo: spec.exportTo,
        selector: stringMap(obj(spec.workloadSelector)?.matchLabels),
      };
      const entries = this.byNamespace.get(ns) ?? [];
      entries.push({ rule, id: `${ns}/${o.metadata.name}` });
      this.byNamespace.set(ns, entries);
    }
  }

  /** The rule for `host` (whose service lives in `serviceNamespace`, when known), or undefined. */
  lookup(host: string, serviceNamespace: string | undefined): MergedDestinationRule | undefined {
    const { proxy, rootNamespace } = this.opts;
    const order: Array<[string, boolean]> = [];
    // In the root namespace, Istio looks at the service's namespace before its own (the root's rules are the mesh-wide fallback).
    if (proxy.namespace !== rootNamespace) order.push([proxy.namespace, true]);
    if (serviceNamespace !== undefined) order.push([serviceNamespace, serviceNamespace === proxy.namespace]);
    order.push([rootNamespace, rootNamespace === proxy.namespace]);
    for (const [ns, local] of order) {
      const found = this.inNamespace(ns, host, local);
      if (found) return found;
    }
    return undefined;
  }

  private inNamespace(namespace: string, host: string, local: boolean): MergedDestinationRule | undefined {
    const { proxy } = this.opts;
    const all = this.byNamespace.get(namespace) ?? [];
    let candidates: { rule: RuleView; id: string }[];
    if (local) {
      // A rule with a workloadSelector applies only to the workloads it selects, and is preferred for them.
      const selecting = all.filter(({ rule }) => rule.selector !== undefined && labelsMatch(rule.selector, proxy.labels));
      candidates = selecting.some(({ rule }) => hostCoveredBy(host, rule.host)) ? selecting : all.filter(({ rule }) => rule.selector === undefined);
    } else {
      candidates = all.filter(({ rule }) => rule.selector === undefined && isExportedTo(rule.exportTo, rule.namespace, proxy.namespace));
    }
    const best = mostSpecificHost(host, candidates.map(({ rule }) => rule.host));
    if (best === undefined) return undefined;
    return mergeRules(candidates.filter(({ rule }) => rule.host === best));
  }
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Istio's MostSpecificHostMatch: an exact match, else the longest wildcard covering `host`. */
function mostSpecificHost(host: string, ruleHosts: string[]): string | undefined {
  if (ruleHosts.includes(host)) return host;
  let best: string | undefined;
  for (const h of ruleHosts) {
    if (h.startsWith("*") && hostCoveredBy(host, h) && (best === undefined || h.length > best.length)) best = h;
  }
  return best;
}

function mergeRules(rules: { rule: RuleView; id: string }[]): MergedDestinationRule {
  const merged: MergedDestinationRule = { sources: [], trafficPolicy: undefined, subsets: [] };
  for (const { rule, id } of rules) {
    merged.sources.push(id);
    merged.trafficPolicy ??= obj(rule.spec.trafficPolicy);
    for (const s of objList(rule.spec.subsets)) {
      const name = str(s.name);
      if (name === undefined || merged.subsets.some((x) => x.name === name)) continue;
      merged.subsets.push({ name, labels: stringMap(s.labels) ?? {}, trafficPolicy: obj(s.trafficPolicy) });
    }
  }
  return merged;
}

const POLICY_PARTS = ["loadBalancer", "connectionPool", "outlierDetection", "tls"] as const;

/**
 * Istio's MergeTrafficPolicy: `override`'s parts replace `base`'s, then a portLevelSettings entry
 * for `port` replaces all four parts at once ("port level policies do not inherit": a part the
 * entry leaves out falls back to the default, not to the enclosing policy).
 */
export function mergeTrafficPolicy(base: Obj | undefined, override: Obj | undefined, port: number): Obj | undefined {
  if (!override) return base;
  const merged: Obj = {};
  for (const part of POLICY_PARTS) {
    const value = override[part] ?? base?.[part];
    if (value !== undefined) merged[part] = value;
  }
  const portLevel = objList(override.portLevelSettings).find((p) => obj(p.port)?.number === port);
  if (portLevel) {
    for (const part of POLICY_PARTS) {
      if (portLevel[part] !== undefined) merged[part] = portLevel[part];
      else delete merged[part];
    }
  }
  return merged;
}
