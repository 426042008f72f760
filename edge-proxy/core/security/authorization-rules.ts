/**
 * @module security/authorization-rules
 * One AuthorizationPolicy rule compiled into a predicate over a {@link RequestView}: a rule holds when
 * one of its `from` sources holds (or it has none), one of its `to` operations holds (or none), and
 * every `when` condition holds. Within a source or operation every field given must hold; a field
 * holds when any of its values matches, its `not` form when none does. An empty list is not given.
 *
 * A `when` key Weft cannot evaluate (`experimental.envoy.filters.*`, or any key Istio does not define)
 * fails closed, as Istio treats fields a proxy cannot check: the condition never holds in an ALLOW
 * policy and always holds in DENY, CUSTOM and AUDIT ones.
 *
 * Each field compiles to one check reading its attribute and calling its list's matcher; a pair of checks
 * is joined without a loop. Policies are evaluated on every request.
 */
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationRule, AuthorizationSource } from "../config/proxy-config.js";
import { type IpBlock, ipInBlock, parseIpBlock } from "./ip-block.js";
import { type ValueMatcher, compilePathPatterns, compilePatterns } from "./istio-pattern.js";
import type { RequestView } from "./request-view.js";

export type Check = (r: RequestView) => boolean;

export interface RuleContext {
  /** The policy's namespace: a `serviceAccounts` entry without one is in it. */
  namespace: string;
  /** What an unsupported condition evaluates to (false in ALLOW policies, true otherwise). */
  unsupported: boolean;
}

const ALWAYS: Check = () => true;

function allOf(checks: Check[]): Check {
  if (checks.length === 0) return ALWAYS;
  if (checks.length === 1) return checks[0]!;
  if (checks.length === 2) {
    const [a, b] = checks as [Check, Check];
    return (r) => a(r) && b(r);
  }
  return (r) => {
    for (const c of checks) if (!c(r)) return false;
    return true;
  };
}

function someOf(checks: Check[]): Check {
  if (checks.length === 1) return checks[0]!;
  if (checks.length === 2) {
    const [a, b] = checks as [Check, Check];
    return (r) => a(r) || b(r);
  }
  return (r) => {
    for (const c of checks) if (c(r)) return true;
    return false;
  };
}

const given = (list: readonly string[] | undefined): list is readonly string[] => list !== undefined && list.length > 0;

/** Adds the checks for a field and its `not` form, given `holds`: the check "some value of the compiled list matches". */
function field<T>(checks: Check[], list: readonly string[] | undefined, notList: readonly string[] | undefined, compile: (list: readonly string[]) => T, holds: (compiled: T) => Check): void {
  if (given(list)) checks.push(holds(compile(list)));
  if (given(notList)) {
    const check = holds(compile(notList));
    checks.push((r) => !check(r));
  }
}

const patterns = (list: readonly string[]): ValueMatcher => compilePatterns(list);
const blocks = (list: readonly string[]): IpBlock[] =>
  list.flatMap((text) => {
    const block = parseIpBlock(text);
    // Validated upstream; an unparsable block matches nothing rather than everything.
    return block ? [block] : [];
  });
const inBlocks = (ip: Uint8Array | undefined, list: readonly IpBlock[]) => ip !== undefined && list.some((b) => ipInBlock(ip, b));
const stripSpiffe = (p: string) => (p.startsWith("spiffe://") ? p.slice("spiffe://".length) : p);

/** `sa` is `<policy namespace>/sa`; `ns/sa` stays. */
function serviceAccountSet(list: readonly string[], namespace: string): Set<string> {
  return new Set(list.map((sa) => (sa.includes("/") ? sa : `${namespace}/${sa}`)));
}

const serviceAccountIn =
  (set: Set<string>): Check =>
  (r) => {
    const sa = r.serviceAccount;
    return sa !== undefined && set.has(sa);
  };

function compileSource(source: AuthorizationSource, ctx: RuleContext): Check {
  const checks: Check[] = [];
  const principals = (list: readonly string[]) => compilePatterns(list.map(stripSpiffe));
  field(checks, source.principals, source.notPrincipals, principals, (m) => (r) => m(r.attributes.principal));
  field(checks, source.requestPrincipals, source.notRequestPrincipals, patterns, (m) => (r) => m(r.attributes.requestPrincipal));
  field(checks, source.namespaces, source.notNamespaces, patterns, (m) => (r) => m(r.identity?.namespace));
  field(checks, source.serviceAccounts, source.notServiceAccounts, (l) => serviceAccountSet(l, ctx.namespace), serviceAccountIn);
  field(checks, source.ipBlocks, source.notIpBlocks, blocks, (b) => (r) => inBlocks(r.sourceIp, b));
  field(checks, source.remoteIpBlocks, source.notRemoteIpBlocks, blocks, (b) => (r) => inBlocks(r.remoteIp, b));
  return allOf(checks);
}

/** A host pattern: compared with the port when it names one, else with the host alone; case-insensitive. */
function compileHost(pattern: string): Check {
  const withPort = /:(\d+|\*)$/.test(pattern) && !pattern.endsWith("]");
  const m = compilePatterns([pattern], true);
  return withPort ? (r) => m(r.authority) : (r) => m(r.host);
}

function compileOperation(op: AuthorizationOperation): Check {
  const checks: Check[] = [];
  field(checks, op.hosts, op.notHosts, (l) => someOf(l.map(compileHost)), (c) => c);
  field(checks, op.ports, op.notPorts, (l) => new Set(l.map(Number)), portIn);
  field(checks, op.methods, op.notMethods, patterns, (m) => (r) => m(r.attributes.method));
  field(checks, op.paths, op.notPaths, compilePathPatterns, (m) => (r) => m(r.attributes.path));
  return allOf(checks);
}

const portIn =
  (set: Set<number>): Check =>
  (r) =>
    set.has(r.attributes.port);

/** A condition attribute: one value, several (any may match), or none. */
type Attribute = (r: RequestView) => string | readonly string[] | undefined;

/** A claim value as strings: a string, number or boolean is one value, a list each of its scalar elements. */
function claimStrings(value: unknown): string | readonly string[] | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.flatMap((v) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? [String(v)] : []));
  return undefined;
}

/** `[a][b]` → `["a", "b"]`; undefined when the text is not one or more bracketed names. */
function bracketPath(text: string): string[] | undefined {
  if (!/^(\[[^\][]+\])+$/.test(text)) return undefined;
  return [...text.matchAll(/\[([^\][]+)\]/g)].map((m) => m[1]!);
}

function claimAttribute(path: readonly string[]): Attribute {
  return (r) => {
    let value: unknown = r.attributes.claims;
    for (const name of path) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
      value = (value as Record<string, unknown>)[name];
    }
    return claimStrings(value);
  };
}

const STRING_KEYS: Readonly<Record<string, Attribute>> = {
  "source.namespace": (r) => r.identity?.namespace,
  "source.principal": (r) => r.attributes.principal,
  "source.trustDomain": (r) => r.identity?.trustDomain,
  "request.auth.principal": (r) => r.attributes.requestPrincipal,
  "request.auth.audiences": (r) => claimStrings(r.attributes.claims?.aud),
  "request.auth.presenter": (r) => claimStrings(r.attributes.claims?.azp),
  "connection.sni": (r) => r.attributes.sni,
};

const IP_KEYS: Readonly<Record<string, (r: RequestView) => Uint8Array | undefined>> = {
  "source.ip": (r) => r.sourceIp,
  "remote.ip": (r) => r.remoteIp,
  "destination.ip": (r) => r.destinationIp,
};

const HEADER_PREFIXES = ["request.headers", "request.experimental.inline.headers"];

/** The string attribute a condition key names, or undefined when it is not a string key. */
function stringAttribute(key: string): Attribute | undefined {
  const direct = STRING_KEYS[key];
  if (direct) return direct;
  for (const prefix of HEADER_PREFIXES) {
    if (!key.startsWith(`${prefix}[`)) continue;
    const path = bracketPath(key.slice(prefix.length));
    if (path?.length !== 1) return undefined;
    const name = path[0]!.toLowerCase();
    return (r) => r.attributes.headers.get(name) ?? undefined;
  }
  if (key.startsWith("request.auth.claims[")) {
    const path = bracketPath(key.slice("request.auth.claims".length));
    return path ? claimAttribute(path) : undefined;
  }
  return undefined;
}

function someMatches(value: string | readonly string[] | undefined, m: ValueMatcher): boolean {
  if (typeof value === "string" || value === undefined) return m(value);
  for (const v of value) if (m(v)) return true;
  return false;
}

function compileCondition(cond: AuthorizationCondition, ctx: RuleContext): Check {
  const checks: Check[] = [];
  const { key, values, notValues } = cond;
  const attribute = stringAttribute(key);
  if (attribute) {
    field(checks, values, notValues, patterns, (m) => (r) => someMatches(attribute(r), m));
  } else if (IP_KEYS[key]) {
    const ip = IP_KEYS[key];
    field(checks, values, notValues, blocks, (b) => (r) => inBlocks(ip(r), b));
  } else if (key === "destination.port") {
    field(checks, values, notValues, (l) => new Set(l.map(Number)), portIn);
  } else if (key === "source.serviceAccount") {
    field(checks, values, notValues, (l) => serviceAccountSet(l, ctx.namespace), serviceAccountIn);
  } else {
    const constant = ctx.unsupported;
    return () => constant;
  }
  return allOf(checks);
}

/** Compiles one rule (see the module header). */
export function compileRule(rule: AuthorizationRule, ctx: RuleContext): Check {
  const checks: Check[] = [];
  if (rule.from && rule.from.length > 0) checks.push(someOf(rule.from.map((f) => compileSource(f.source, ctx))));
  if (rule.to && rule.to.length > 0) checks.push(someOf(rule.to.map((t) => compileOperation(t.operation))));
  for (const cond of rule.when ?? []) checks.push(compileCondition(cond, ctx));
  return allOf(checks);
}
