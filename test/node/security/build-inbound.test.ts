/**
 * @module test/node/security/build-inbound
 * Building a proxy's inbound config from hand-written Istio YAML: which policies apply (mesh,
 * namespace, workload selector, targetRef to a Gateway), PeerAuthentication precedence and UNSET
 * inheritance, AuthorizationPolicy order and CUSTOM providers, RequestAuthentication fields,
 * inbound ports from Services; then buildProxyConfig's output and the validator's field-named errors.
 */
import { describe, expect, it } from "vitest";
import { buildProxyConfig } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { buildInbound } from "../../../edge-proxy/core/config/build/inbound.js";
import type { ProxyConfig, ProxyIdentity } from "../../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";
import { BUILD_OPTIONS, istio, sidecar } from "./support.js";

const HTTPBIN = sidecar("foo", { app: "httpbin", version: "v1" });
const build = (yaml: string, proxy: ProxyIdentity = HTTPBIN) => buildInbound(istio(yaml), proxy, BUILD_OPTIONS);

const PEER_LEVELS = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system, creationTimestamp: "2024-01-01T00:00:00Z" }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: { name: ns-wide, namespace: foo, creationTimestamp: "2024-01-02T00:00:00Z" }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin, namespace: foo, creationTimestamp: "2024-01-03T00:00:00Z" }
spec:
  selector: { matchLabels: { app: httpbin } }
  mtls: { mode: UNSET }
  portLevelMtls:
    "8080": { mode: DISABLE }
    "9090": { mode: UNSET }
`;

describe("PeerAuthentication", () => {
  it("workload > namespace > mesh; UNSET inherits; portLevelMtls from the workload policy", () => {
    expect(build(PEER_LEVELS).peerAuthentication).toEqual({ mode: "PERMISSIVE", policy: "foo/ns-wide", portLevel: { "8080": "DISABLE", "9090": "PERMISSIVE" } });
  });

  it("another workload of the namespace gets the namespace mode and no port levels", () => {
    expect(build(PEER_LEVELS, sidecar("foo", { app: "sleep" })).peerAuthentication).toEqual({ mode: "PERMISSIVE", policy: "foo/ns-wide" });
  });

  it("another namespace gets the mesh-wide mode", () => {
    expect(build(PEER_LEVELS, sidecar("bar")).peerAuthentication).toEqual({ mode: "STRICT", policy: "istio-system/default" });
  });

  it("no policy: PERMISSIVE", () => {
    expect(build("").peerAuthentication).toEqual({ mode: "PERMISSIVE" });
  });

  it("the oldest policy of a level wins, whatever the input order", () => {
    const yaml = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: newer, namespace: foo, creationTimestamp: "2024-05-01T00:00:00Z" }
spec: { mtls: { mode: DISABLE } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: older, namespace: foo, creationTimestamp: "2024-04-01T00:00:00Z" }
spec: { mtls: { mode: STRICT } }
`;
    expect(build(yaml).peerAuthentication).toEqual({ mode: "STRICT", policy: "foo/older" });
    expect(buildInbound(istio(yaml).reverse(), HTTPBIN, BUILD_OPTIONS)).toEqual(build(yaml));
  });

  it("a root-namespace selector policy applies to matching workloads of every namespace", () => {
    const yaml = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin-strict, namespace: istio-system }
spec: { selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT } }
`;
    expect(build(yaml).peerAuthentication.mode).toBe("STRICT");
    expect(build(yaml, sidecar("foo", { app: "sleep" })).peerAuthentication.mode).toBe("PERMISSIVE");
  });
});

describe("AuthorizationPolicy selection and order", () => {
  const yaml = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: workload, namespace: foo, creationTimestamp: "2024-03-01T00:00:00Z" }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: mesh, namespace: istio-system, creationTimestamp: "2024-02-01T00:00:00Z" }
spec: { rules: [{}] }
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: ns, namespace: foo, creationTimestamp: "2024-01-01T00:00:00Z" }
spec:
  action: CUSTOM
  provider: { name: opa }
  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: other-workload, namespace: foo }
spec: { selector: { matchLabels: { app: sleep } }, action: DENY, rules: [{}] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: other-ns, namespace: bar }
spec: { action: DENY, rules: [{}] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-nothing, namespace: foo, creationTimestamp: "2024-04-01T00:00:00Z" }
spec: { action: DENY }
`;

  it("mesh + namespace + workload policies, oldest first, action defaulting to ALLOW, CUSTOM keeping its provider", () => {
    expect(build(yaml).authorizationPolicies).toEqual([
      { name: "foo/ns", action: "CUSTOM", provider: "opa", rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] },
      { name: "istio-system/mesh", action: "ALLOW", rules: [{}] },
      { name: "foo/workload", action: "DENY", rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }] },
      { name: "foo/deny-nothing", action: "DENY", rules: [] },
    ]);
  });

  it("a targetRef to a Gateway applies only to a gateway proxy serving it", () => {
    const gw = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: gw-only, namespace: istio-system }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: ingress }]
  action: DENY
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: svc-ref, namespace: istio-system }
spec:
  targetRef: { group: "", kind: Service, name: ingress }
  action: DENY
  rules: [{}]
`;
    const gateway: ProxyIdentity = { kind: "gateway", namespace: "istio-system", labels: { istio: "ingressgateway" }, gateways: ["istio-system/ingress"] };
    expect(build(gw, gateway).authorizationPolicies.map((p) => p.name)).toEqual(["istio-system/gw-only"]);
    expect(build(gw, { ...gateway, gateways: ["istio-system/other"] }).authorizationPolicies).toEqual([]);
    expect(build(gw, sidecar("istio-system")).authorizationPolicies).toEqual([]);
  });

  it("trustDomains become source.trustDomain conditions without changing the rule's meaning", () => {
    const td = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: td, namespace: foo }
spec:
  rules:
  - from:
    - source: { namespaces: ["a"] }
    - source: { principals: ["*/sa/b"], trustDomains: ["td1"], notTrustDomains: ["td2"] }
    to: [{ operation: { methods: ["GET"] } }]
    when: [{ key: "request.headers[x]", values: ["1"] }]
`;
    const to = [{ operation: { methods: ["GET"] } }];
    const header = { key: "request.headers[x]", values: ["1"] };
    expect(build(td).authorizationPolicies[0]?.rules).toEqual([
      { from: [{ source: { namespaces: ["a"] } }], to, when: [header] },
      { from: [{ source: { principals: ["*/sa/b"] } }], to, when: [header, { key: "source.trustDomain", values: ["td1"], notValues: ["td2"] }] },
    ]);
  });
});

describe("RequestAuthentication", () => {
  it("keeps every jwtRules field of every applicable policy, oldest first", () => {
    const yaml = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: workload, namespace: foo, creationTimestamp: "2024-02-01T00:00:00Z" }
spec:
  selector: { matchLabels: { version: v1 } }
  jwtRules:
  - issuer: https://a.example.com
    jwksUri: https://a.example.com/jwks
    audiences: [web]
    fromHeaders: [{ name: x-jwt, prefix: "Bearer " }, { name: x-raw }]
    fromParams: [token]
    fromCookies: [session]
    outputPayloadToHeader: x-payload
    forwardOriginalToken: true
    outputClaimToHeaders: [{ header: x-sub, claim: sub }]
    timeout: 5s
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: mesh, namespace: istio-system, creationTimestamp: "2024-01-01T00:00:00Z" }
spec:
  jwtRules:
  - issuer: https://b.example.com
    jwks: '{"keys":[]}'
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: elsewhere, namespace: bar }
spec: { jwtRules: [{ issuer: https://c.example.com }] }
`;
    expect(build(yaml).jwtRules).toEqual([
      { policy: "istio-system/mesh", issuer: "https://b.example.com", jwks: '{"keys":[]}' },
      {
        policy: "foo/workload",
        issuer: "https://a.example.com",
        audiences: ["web"],
        jwksUri: "https://a.example.com/jwks",
        fromHeaders: [{ name: "x-jwt", prefix: "Bearer " }, { name: "x-raw" }],
        fromParams: ["token"],
        fromCookies: ["session"],
        outputPayloadToHeader: "x-payload",
        forwardOriginalToken: true,
        outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }],
      },
    ]);
  });
});

describe("inbound ports", () => {
  it("come from the Services selecting the workload in its namespace, by targetPort, deduplicated", () => {
    const yaml = `
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { app: httpbin }
  ports:
  - { name: http, port: 8000, targetPort: 8080 }
  - { name: grpc, port: 9000, targetPort: grpc-port }
  - { name: admin, port: 15000 }
---
apiVersion: v1
kind: Service
metadata: { name: httpbin-alias, namespace: foo }
spec: { selector: { app: httpbin, version: v1 }, ports: [{ name: http-alias, port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: sleep, namespace: foo }
spec: { selector: { app: sleep }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: headless, namespace: foo }
spec: { ports: [{ port: 7000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: bar }
spec: { selector: { app: httpbin }, ports: [{ port: 6000 }] }
`;
    expect(build(yaml).ports).toEqual([
      { port: 8080, targetPort: 8080, name: "http" },
      { port: 9000, targetPort: 9000, name: "grpc" },
      { port: 15000, targetPort: 15000, name: "admin" },
    ]);
  });
});

describe("buildProxyConfig", () => {
  const resources = istio(PEER_LEVELS);
  const trust = { trustDomain: "cluster.local", roots: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"], revokedSerials: ["FF", "0a", "ff"] };

  it("always has inbound, has trust when given, and keeps the identity's workload and service account", () => {
    const proxy = { ...HTTPBIN, workload: "httpbin-v1", serviceAccount: "httpbin" };
    const config = buildProxyConfig({ resources, proxy, trust });
    expect(validateProxyConfig(config)).toMatchObject({ ok: true });
    expect(config.inbound?.peerAuthentication.mode).toBe("PERMISSIVE");
    expect(config.trust).toEqual({ ...trust, revokedSerials: ["0a", "ff"] });
    expect(config.proxy).toMatchObject({ workload: "httpbin-v1", serviceAccount: "httpbin" });
    expect(buildProxyConfig({ resources: [], proxy: HTTPBIN })).not.toHaveProperty("trust");
    expect(buildProxyConfig({ resources: [], proxy: HTTPBIN }).inbound).toEqual({ ports: [], peerAuthentication: { mode: "PERMISSIVE" }, jwtRules: [], authorizationPolicies: [] });
  });

  it("gives byte-identical JSON for the resources in any order", () => {
    const all = [...resources, ...istio(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: a, namespace: foo }
spec: { rules: [{}] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: b, namespace: foo }
spec: { action: DENY, rules: [{}] }
`)];
    const json = JSON.stringify(buildProxyConfig({ resources: all, proxy: HTTPBIN, trust }));
    expect(JSON.stringify(buildProxyConfig({ resources: [...all].reverse(), proxy: HTTPBIN, trust }))).toBe(json);
  });
});

describe("validateProxyConfig refuses a bad inbound or trust, naming the field", () => {
  const base = (): ProxyConfig => buildProxyConfig({ resources: istio(PEER_LEVELS), proxy: HTTPBIN });
  const errors = (config: unknown) => {
    const result = validateProxyConfig(config);
    if (result.ok) throw new Error("expected the config to be refused");
    return result.errors;
  };

  it("an unknown mTLS mode and a bad port-level key", () => {
    const badMode = base() as any;
    badMode.inbound.peerAuthentication.mode = "MUTUAL";
    expect(errors(badMode).map((e) => e.field)).toEqual(["inbound.peerAuthentication.mode"]);
    const badPort = base() as any;
    badPort.inbound.peerAuthentication.portLevel = { http: "STRICT", "8080": "UNSET" };
    expect(errors(badPort)).toEqual([
      { field: "inbound.peerAuthentication.portLevel.8080", message: expect.any(String) },
    ]);
    delete badPort.inbound.peerAuthentication.portLevel["8080"];
    expect(errors(badPort)).toEqual([{ field: "inbound.peerAuthentication.portLevel.http", message: 'portLevel key "http" is not a port 1-65535' }]);
  });

  it("a CIDR that does not parse, an operation port that is not a number, an unknown field", () => {
    const config = base() as any;
    config.inbound.authorizationPolicies = [
      { name: "foo/a", action: "ALLOW", rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/33"] } }], to: [{ operation: { ports: ["http"] } }], when: [{ key: "source.ip", values: ["nope"] }] }] },
      { name: "foo/b", action: "CUSTOM", rules: [], extra: true },
    ];
    const fields = errors(config).map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "inbound.authorizationPolicies[0].rules[0].from[0].source.ipBlocks[0]",
        "inbound.authorizationPolicies[0].rules[0].to[0].operation.ports[0]",
        "inbound.authorizationPolicies[0].rules[0].when[0].values[0]",
        "inbound.authorizationPolicies[1]",
      ]),
    );
  });

  it("a CUSTOM policy without provider, a duplicate port, an inline JWKS that is not a key set, a revoked serial in upper case", () => {
    const config = base() as any;
    config.inbound.authorizationPolicies = [{ name: "foo/c", action: "CUSTOM", rules: [] }];
    config.inbound.ports = [{ port: 80, targetPort: 80 }, { port: 80, targetPort: 80 }];
    config.inbound.jwtRules = [{ policy: "foo/r", issuer: "i", jwks: "{}" }];
    config.trust = { trustDomain: "cluster.local", roots: [], revokedSerials: ["AB"] };
    expect(errors(config).map((e) => e.field)).toEqual(
      expect.arrayContaining(["inbound.authorizationPolicies[0].provider", "inbound.ports[1].port", "inbound.jwtRules[0].jwks", "trust.revokedSerials[0]"]),
    );
  });
});
