/**
 * @module test/node/security/corpus
 * Every AuthorizationPolicy, RequestAuthentication and PeerAuthentication of Istio's corpus (the
 * invalid `_err` documents left out) builds, for a workload it selects, into a proxy config that
 * passes validateProxyConfig, shows the policy, and compiles into a working security check.
 * Documents attached by targetRef to a Service (waypoint attachment, which Weft does not run) apply
 * to no sidecar; they are also built with the targetRef removed, as namespace-wide policies.
 */
import { describe, expect, it } from "vitest";
import { buildProxyConfig } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import type { IstioObject } from "../../../edge-proxy/core/config/build/istio-objects.js";
import type { ProxyConfig } from "../../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";
import { createInboundSecurity } from "../../../edge-proxy/core/security/inbound-security.js";
import { type CorpusObject, corpusObjects } from "../../corpus.js";
import { get, peer, sidecar } from "./support.js";

const KINDS = ["AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication"] as const;
const TRUST = { trustDomain: "cluster.local", roots: [], revokedSerials: ["dead"] };

const entries = KINDS.flatMap((kind) => corpusObjects(kind, "security.istio.io").filter((o) => o.err === undefined).map((o) => [kind, o] as const));

function toObject(kind: string, o: CorpusObject, spec: Record<string, unknown>): IstioObject {
  return { kind, apiVersion: "security.istio.io/v1", metadata: { name: o.name, namespace: o.namespace }, spec };
}

function buildValid(object: IstioObject, labels: Record<string, string>): ProxyConfig {
  const config = buildProxyConfig({ resources: [object], proxy: sidecar(object.metadata.namespace, labels), trust: TRUST });
  const result = validateProxyConfig(config);
  expect(result.ok ? [] : result.errors).toEqual([]);
  return config;
}

function expectPresent(kind: string, object: IstioObject, config: ProxyConfig): void {
  const inbound = config.inbound!;
  const spec = object.spec as Record<string, any>;
  const id = `${object.metadata.namespace}/${object.metadata.name}`;
  if (kind === "AuthorizationPolicy") {
    const found = inbound.authorizationPolicies.find((p) => p.name === id);
    expect(found?.action).toBe(spec.action ?? "ALLOW");
    expect(found!.rules.length).toBeGreaterThanOrEqual((spec.rules ?? []).length);
  } else if (kind === "RequestAuthentication") {
    expect(inbound.jwtRules.map((r) => r.issuer)).toEqual((spec.jwtRules ?? []).map((r: { issuer: string }) => r.issuer));
  } else {
    const mode = spec.mtls?.mode;
    expect(inbound.peerAuthentication.mode).toBe(mode === undefined || mode === "UNSET" ? "PERMISSIVE" : mode);
    const ports = Object.keys(spec.portLevelMtls ?? {});
    const selects = Object.keys(spec.selector?.matchLabels ?? {}).length > 0;
    expect(Object.keys(inbound.peerAuthentication.portLevel ?? {})).toEqual(selects ? ports : []);
  }
}

describe("corpus: every security policy builds into a valid inbound config", () => {
  it("covers the corpus", () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
    expect(new Set(entries.map(([kind]) => kind))).toEqual(new Set(KINDS));
  });

  it.each(entries.map(([kind, o]) => [`${kind} ${o.label}#${o.index}`, kind, o] as const))("%s", async (_label, kind, o) => {
    const spec = { ...(o.spec as Record<string, unknown>) };
    const labels = ((spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {}) as Record<string, string>;
    let object = toObject(kind, o, spec);
    if (spec.targetRef !== undefined || spec.targetRefs !== undefined) {
      const config = buildValid(object, labels);
      expect(config.inbound).toEqual({ ports: [], peerAuthentication: { mode: "PERMISSIVE" }, jwtRules: [], authorizationPolicies: [] });
      delete spec.targetRef;
      delete spec.targetRefs;
      object = toObject(kind, o, spec);
    }
    const config = buildValid(object, labels);
    expectPresent(kind, object, config);
    const security = createInboundSecurity(config.inbound, config.trust, { fetchJwks: async () => ({ keys: [] }), now: () => 0 });
    const decision = await security.check(get(), peer({ port: 80 }));
    expect(typeof decision.allowed).toBe("boolean");
  });
});
