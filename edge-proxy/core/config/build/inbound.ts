/**
 * @module inbound
 * Builds a proxy's {@link InboundConfig} from Istio's security resources (security.istio.io, any
 * version) and the Kubernetes Services selecting its workload.
 *
 * Which policies apply (Istio's rules):
 * - no selector (or empty `matchLabels`) in the root namespace: mesh-wide;
 * - no selector in the proxy's namespace: namespace-wide;
 * - `selector.matchLabels` ⊆ the proxy's labels, in the proxy's namespace or the root namespace: the workload;
 * - `targetRef`/`targetRefs`: only a reference of kind `Gateway` applies, to a gateway proxy whose
 *   `gateways` include `<ref namespace or policy namespace>/<name>`. Other kinds (Service,
 *   ServiceEntry, GatewayClass) address waypoints, which Weft does not run: they apply to no proxy.
 *
 * PeerAuthentication: the oldest workload policy, else the oldest namespace one, else the oldest
 * mesh-wide one; a mode of UNSET (or none) inherits from the next level (PERMISSIVE at the top);
 * `portLevelMtls` only from the workload policy, an UNSET port taking the workload's mode.
 * RequestAuthentication: every jwtRules entry of every applicable policy, oldest policy first
 * (`timeout`, `presence` and `spaceDelimitedClaims` are not carried). AuthorizationPolicy: every
 * applicable policy, oldest first, strings as Istio wrote them; `trustDomains`/`notTrustDomains`
 * (absent from the contract) become `source.trustDomain` conditions, splitting a rule per `from`
 * source where needed so the meaning is unchanged.
 * Ports: the Services in the proxy's namespace whose non-empty `spec.selector` ⊆ its labels give
 * their targetPort (the port itself when targetPort is absent or a name), one entry per port.
 */
import type {
  AuthorizationAction,
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicyConfig,
  AuthorizationRule,
  AuthorizationSource,
  InboundConfig,
  InboundPort,
  JwtRule,
  MtlsMode,
  PeerAuthenticationConfig,
  ProxyIdentity,
} from "../proxy-config.js";
import { type IstioObject, compareByAge, isKubernetesService, objectId } from "./istio-objects.js";
import { type Obj, num, obj, objList, str, strList, stringMap, text } from "./raw.js";

export const SECURITY_GROUP = "security.istio.io";
/** Istio's default SPIFFE trust domain. */
export const DEFAULT_TRUST_DOMAIN = "cluster.local";

export interface BuildInboundOptions {
  /** Where mesh-wide policies live (`istio-system`). */
  rootNamespace: string;
  /** Not used yet: kept so callers pass what Istio's policy resolution may need. */
  clusterDomain: string;
  /** Not used yet: principals are kept as written, not rewritten for trust-domain aliases. */
  trustDomain: string;
}

type Scope = "mesh" | "namespace" | "workload";

/** True for an object of `kind` in security.istio.io (any version; a missing apiVersion is accepted). */
export function isSecurityKind(o: IstioObject, kind: string): boolean {
  return o.kind === kind && (o.apiVersion === undefined || o.apiVersion.startsWith(`${SECURITY_GROUP}/`));
}

function labelsSelect(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function targetRefsOf(spec: Obj): Obj[] {
  const single = obj(spec.targetRef);
  return [...(single ? [single] : []), ...objList(spec.targetRefs)];
}

/** How `o` applies to the proxy, or undefined when it does not. */
function scopeOf(o: IstioObject, proxy: ProxyIdentity, rootNamespace: string): Scope | undefined {
  const spec = obj(o.spec) ?? {};
  const ns = o.metadata.namespace;
  const refs = targetRefsOf(spec);
  if (refs.length > 0) {
    if (proxy.kind !== "gateway") return undefined;
    const hit = refs.some((ref) => str(ref.kind) === "Gateway" && proxy.gateways.includes(`${text(ref.namespace) ?? ns}/${str(ref.name) ?? ""}`));
    return hit ? "workload" : undefined;
  }
  const matchLabels = stringMap(obj(spec.selector)?.matchLabels) ?? {};
  if (Object.keys(matchLabels).length > 0) {
    if (ns !== proxy.namespace && ns !== rootNamespace) return undefined;
    return labelsSelect(matchLabels, proxy.labels) ? "workload" : undefined;
  }
  if (ns === rootNamespace) return "mesh";
  return ns === proxy.namespace ? "namespace" : undefined;
}

function applicable(resources: readonly IstioObject[], kind: string, proxy: ProxyIdentity, rootNamespace: string): { o: IstioObject; scope: Scope }[] {
  return resources
    .filter((o) => isSecurityKind(o, kind))
    .sort(compareByAge)
    .flatMap((o) => {
      const scope = scopeOf(o, proxy, rootNamespace);
      return scope ? [{ o, scope }] : [];
    });
}

const MODES: ReadonlySet<string> = new Set<MtlsMode>(["STRICT", "PERMISSIVE", "DISABLE"]);

/** A set mode, or undefined for UNSET / absent (inherit). */
function modeOf(mtls: unknown): MtlsMode | undefined {
  const mode = str(obj(mtls)?.mode);
  return mode !== undefined && MODES.has(mode) ? (mode as MtlsMode) : undefined;
}

function buildPeerAuthentication(policies: { o: IstioObject; scope: Scope }[]): PeerAuthenticationConfig {
  const oldest = (scope: Scope) => policies.find((p) => p.scope === scope)?.o;
  let config: PeerAuthenticationConfig = { mode: "PERMISSIVE" };
  for (const o of [oldest("mesh"), oldest("namespace"), oldest("workload")]) {
    if (!o) continue;
    const mode = modeOf(obj(o.spec)?.mtls);
    if (mode) config = { mode, policy: objectId(o) };
  }
  const workload = oldest("workload");
  const portLevelSpec = obj(obj(workload?.spec)?.portLevelMtls);
  if (portLevelSpec) {
    const ports: [number, MtlsMode][] = [];
    for (const [key, value] of Object.entries(portLevelSpec)) {
      const port = Number(key);
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      ports.push([port, modeOf(value) ?? config.mode]);
    }
    if (ports.length > 0) {
      const portLevel: Record<string, MtlsMode> = {};
      for (const [port, mode] of ports.sort((a, b) => a[0] - b[0])) portLevel[String(port)] = mode;
      config.portLevel = portLevel;
    }
  }
  return config;
}

function buildJwtRule(rule: Obj, policy: string): JwtRule | undefined {
  const issuer = text(rule.issuer);
  if (issuer === undefined) return undefined;
  const out: JwtRule = { policy, issuer };
  const audiences = strList(rule.audiences);
  if (audiences.length > 0) out.audiences = audiences;
  const jwks = text(rule.jwks);
  const jwksUri = text(rule.jwksUri) ?? text(rule.jwks_uri);
  if (jwks !== undefined) out.jwks = jwks;
  else if (jwksUri !== undefined) out.jwksUri = jwksUri;
  const fromHeaders = objList(rule.fromHeaders).flatMap((h) => {
    const name = text(h.name);
    if (name === undefined) return [];
    const prefix = str(h.prefix);
    return [prefix === undefined ? { name } : { name, prefix }];
  });
  if (fromHeaders.length > 0) out.fromHeaders = fromHeaders;
  const fromParams = strList(rule.fromParams).filter((p) => p !== "");
  if (fromParams.length > 0) out.fromParams = fromParams;
  const fromCookies = strList(rule.fromCookies).filter((c) => c !== "");
  if (fromCookies.length > 0) out.fromCookies = fromCookies;
  const payloadHeader = text(rule.outputPayloadToHeader);
  if (payloadHeader !== undefined) out.outputPayloadToHeader = payloadHeader;
  if (rule.forwardOriginalToken === true) out.forwardOriginalToken = true;
  const claimHeaders = objList(rule.outputClaimToHeaders).flatMap((c) => {
    const header = text(c.header);
    const claim = text(c.claim);
    return header !== undefined && claim !== undefined ? [{ header, claim }] : [];
  });
  if (claimHeaders.length > 0) out.outputClaimToHeaders = claimHeaders;
  return out;
}

const SOURCE_FIELDS = [
  "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
  "serviceAccounts", "notServiceAccounts", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
] as const satisfies readonly (keyof AuthorizationSource)[];
const OPERATION_FIELDS = ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"] as const satisfies readonly (keyof AuthorizationOperation)[];

/** The non-empty string lists of `fields` in `value`. */
function stringLists<K extends string>(value: Obj, fields: readonly K[]): Partial<Record<K, string[]>> {
  const out: Partial<Record<K, string[]>> = {};
  for (const f of fields) {
    const list = strList(value[f]);
    if (list.length > 0) out[f] = list;
  }
  return out;
}

function condition(key: string, values: string[], notValues: string[]): AuthorizationCondition {
  const c: AuthorizationCondition = { key };
  if (values.length > 0) c.values = values;
  if (notValues.length > 0) c.notValues = notValues;
  return c;
}

/** One Istio rule as one or more contract rules (more only when a source names trust domains). */
function buildRules(rule: Obj): AuthorizationRule[] {
  const base: AuthorizationRule = {};
  const to = objList(rule.to).map((t) => ({ operation: stringLists(obj(t.operation) ?? {}, OPERATION_FIELDS) as AuthorizationOperation }));
  if (to.length > 0) base.to = to;
  const when = objList(rule.when).flatMap((w) => {
    const key = str(w.key);
    return key === undefined ? [] : [condition(key, strList(w.values), strList(w.notValues))];
  });
  if (when.length > 0) base.when = when;

  const sources = objList(rule.from).map((f) => {
    const raw = obj(f.source) ?? {};
    const trust = condition("source.trustDomain", strList(raw.trustDomains), strList(raw.notTrustDomains));
    return { source: stringLists(raw, SOURCE_FIELDS) as AuthorizationSource, trust: trust.values || trust.notValues ? trust : undefined };
  });
  if (sources.length === 0) return [base];
  if (sources.every((s) => s.trust === undefined)) return [withFrom(base, sources.map((s) => ({ source: s.source })))];
  // A trust-domain constraint belongs to its own source: give each such source a rule of its own.
  const plain = sources.filter((s) => s.trust === undefined).map((s) => ({ source: s.source }));
  const out: AuthorizationRule[] = plain.length > 0 ? [withFrom(base, plain)] : [];
  for (const s of sources) {
    if (s.trust === undefined) continue;
    const split = withFrom(base, [{ source: s.source }]);
    split.when = [...(base.when ?? []), s.trust];
    out.push(split);
  }
  return out;
}

function withFrom(base: AuthorizationRule, from: { source: AuthorizationSource }[]): AuthorizationRule {
  const out: AuthorizationRule = { from };
  if (base.to) out.to = base.to;
  if (base.when) out.when = base.when;
  return out;
}

const ACTIONS: ReadonlySet<string> = new Set<AuthorizationAction>(["ALLOW", "DENY", "AUDIT", "CUSTOM"]);

function buildAuthorizationPolicy(o: IstioObject): AuthorizationPolicyConfig {
  const spec = obj(o.spec) ?? {};
  const action = str(spec.action);
  const policy: AuthorizationPolicyConfig = {
    name: objectId(o),
    action: action !== undefined && ACTIONS.has(action) ? (action as AuthorizationAction) : "ALLOW",
    rules: objList(spec.rules).flatMap(buildRules),
  };
  const provider = text(obj(spec.provider)?.name);
  if (policy.action === "CUSTOM" && provider !== undefined) policy.provider = provider;
  return policy;
}

/** `spec.ports` of the Services selecting the proxy's workload, one per arrival port, ascending. */
function buildPorts(resources: readonly IstioObject[], proxy: ProxyIdentity): InboundPort[] {
  const byPort = new Map<number, InboundPort>();
  const services = resources.filter((o) => isKubernetesService(o) && o.metadata.namespace === proxy.namespace).sort(compareByAge);
  for (const svc of services) {
    const spec = obj(svc.spec) ?? {};
    const selector = stringMap(spec.selector) ?? {};
    if (Object.keys(selector).length === 0 || !labelsSelect(selector, proxy.labels)) continue;
    for (const p of objList(spec.ports)) {
      const servicePort = num(p.port);
      const port = num(p.targetPort) ?? servicePort;
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || byPort.has(port)) continue;
      const entry: InboundPort = { port, targetPort: port };
      const name = text(p.name);
      if (name !== undefined) entry.name = name;
      byPort.set(port, entry);
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

/** The inbound config of `proxy` (see the module header). */
export function buildInbound(resources: readonly IstioObject[], proxy: ProxyIdentity, options: BuildInboundOptions): InboundConfig {
  const { rootNamespace } = options;
  const peer = applicable(resources, "PeerAuthentication", proxy, rootNamespace);
  const jwtRules = applicable(resources, "RequestAuthentication", proxy, rootNamespace).flatMap(({ o }) =>
    objList(obj(o.spec)?.jwtRules).flatMap((r) => {
      const rule = buildJwtRule(r, objectId(o));
      return rule ? [rule] : [];
    }),
  );
  const authorizationPolicies = applicable(resources, "AuthorizationPolicy", proxy, rootNamespace).map(({ o }) => buildAuthorizationPolicy(o));
  return { ports: buildPorts(resources, proxy), peerAuthentication: buildPeerAuthentication(peer), jwtRules, authorizationPolicies };
}
