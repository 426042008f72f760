/**
 * @module delegate
 * VirtualService delegation, as Istio's mergeVirtualServicesIfNeeded does it: a root's HTTP route
 * with `delegate: {name, namespace}` is replaced by the delegate's routes, each merged with the
 * root route. A delegate route's matches must each fall inside one of the root route's matches
 * (their conditions are combined); a route that conflicts with every root match is dropped. Fields
 * the delegate route leaves unset (rewrite, timeout, retries, fault, mirror, CORS, headers, ...)
 * come from the root route. A missing delegate, or one not exported to the root's namespace,
 * contributes no routes.
 */
import { isExportedTo } from "./istio-objects.js";
import { type Obj, obj, objList, text } from "./raw.js";
import type { ResolvedVirtualService } from "./virtual-services.js";

const INHERITED = [
  "rewrite", "directResponse", "timeout", "retries", "fault", "mirror", "mirrorPercent", "mirror_percent",
  "mirrorPercentage", "corsPolicy", "mirrors", "headers",
] as const;
const STRING_MATCH_FIELDS = ["uri", "scheme", "method", "authority"] as const;
const MAP_MATCH_FIELDS = ["headers", "withoutHeaders", "queryParams"] as const;

/** The HTTP routes of `root` with every delegate route expanded. */
export function expandDelegates(root: ResolvedVirtualService, all: readonly ResolvedVirtualService[]): Obj[] {
  return root.http.flatMap((route) => {
    const ref = obj(route.delegate);
    if (!ref) return [route];
    const name = text(ref.name);
    const namespace = text(ref.namespace) ?? root.namespace;
    const delegate = all.find((vs) => vs.hosts.length === 0 && vs.id === `${namespace}/${name}`);
    if (!delegate || !isExportedTo(delegate.exportTo, delegate.namespace, root.namespace)) return [];
    return delegate.http.flatMap((sub) => {
      const merged = mergeRoute(route, structuredClone(sub));
      return merged ? [merged] : [];
    });
  });
}

function mergeRoute(root: Obj, leaf: Obj): Obj | undefined {
  const match = mergeMatches(objList(root.match), objList(leaf.match));
  if (match === undefined) return undefined;
  const out: Obj = { ...leaf };
  if (match.length > 0) out.match = match;
  else delete out.match;
  const rootName = text(root.name);
  const leafName = text(leaf.name);
  if (rootName !== undefined) out.name = leafName !== undefined ? `${rootName}-${leafName}` : rootName;
  for (const field of INHERITED) if (out[field] === undefined && root[field] !== undefined) out[field] = root[field];
  delete out.delegate;
  return out;
}

/** Each leaf match combined with every root match it does not conflict with; undefined on conflict. */
function mergeMatches(root: Obj[], leaf: Obj[]): Obj[] | undefined {
  if (root.length === 0) return leaf;
  if (leaf.length === 0) return root;
  const out: Obj[] = [];
  for (const sub of leaf) {
    const compatible = root.filter((r) => !matchConflict(r, sub));
    if (compatible.length === 0) return undefined;
    for (const r of compatible) out.push(mergeMatch(r, sub));
  }
  return out;
}

function mergeMatch(root: Obj, leaf: Obj): Obj {
  const out: Obj = { ...leaf };
  const rootName = text(root.name);
  const leafName = text(leaf.name);
  if (rootName !== undefined) out.name = leafName !== undefined ? `${rootName}-${leafName}` : rootName;
  for (const f of STRING_MATCH_FIELDS) if (out[f] === undefined && root[f] !== undefined) out[f] = root[f];
  for (const f of [...MAP_MATCH_FIELDS, "sourceLabels"] as const) {
    if (obj(root[f]) || obj(leaf[f])) out[f] = { ...(obj(root[f]) ?? {}), ...(obj(leaf[f]) ?? {}) };
  }
  if (out.port === undefined && root.port !== undefined) out.port = root.port;
  if (text(out.sourceNamespace) === undefined && root.sourceNamespace !== undefined) out.sourceNamespace = root.sourceNamespace;
  if (!(Array.isArray(out.gateways) && out.gateways.length > 0) && root.gateways !== undefined) out.gateways = root.gateways;
  return out;
}

/** Istio's hasConflict: the leaf match must be narrower than (or equal to) the root match. */
function matchConflict(root: Obj, leaf: Obj): boolean {
  for (const f of STRING_MATCH_FIELDS) if (stringMatchConflict(obj(root[f]), obj(leaf[f]))) return true;
  for (const f of MAP_MATCH_FIELDS) {
    for (const [key, value] of Object.entries(obj(leaf[f]) ?? {})) {
      if (stringMatchConflict(obj(obj(root[f])?.[key]), obj(value))) return true;
    }
  }
  if ((root.ignoreUriCase === true) !== (leaf.ignoreUriCase === true)) return true;
  const rp = typeof root.port === "number" ? root.port : 0;
  const lp = typeof leaf.port === "number" ? leaf.port : 0;
  if (rp > 0 && lp > 0 && rp !== lp) return true;
  const rns = text(root.sourceNamespace);
  if (rns !== undefined && text(leaf.sourceNamespace) !== rns) return true;
  const rootLabels = obj(root.sourceLabels) ?? {};
  for (const [k, v] of Object.entries(obj(leaf.sourceLabels) ?? {})) if (k in rootLabels && rootLabels[k] !== v) return true;
  const rg = Array.isArray(root.gateways) ? root.gateways : [];
  const lg = Array.isArray(leaf.gateways) ? leaf.gateways : [];
  if (rg.length > 0 && lg.length > 0 && !lg.every((g) => rg.includes(g))) return true;
  return false;
}

function stringMatchConflict(root: Obj | undefined, leaf: Obj | undefined): boolean {
  if (!root || !leaf) return false;
  const [rRegex, rPrefix, rExact] = [text(root.regex), text(root.prefix), text(root.exact)];
  const [lRegex, lPrefix, lExact] = [text(leaf.regex), text(leaf.prefix), text(leaf.exact)];
  if (rRegex !== undefined && (lRegex !== undefined || lPrefix !== undefined || lExact !== undefined)) return true;
  if (lRegex !== undefined && (rRegex !== undefined || rPrefix !== undefined || rExact !== undefined)) return true;
  if (rExact !== undefined) return lPrefix !== undefined || lExact !== rExact;
  if (rPrefix !== undefined) {
    if (lPrefix !== undefined && !lPrefix.startsWith(rPrefix)) return true;
    if (lExact !== undefined && !lExact.startsWith(rPrefix)) return true;
  }
  return false;
}
