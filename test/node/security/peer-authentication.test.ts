/**
 * @module test/node/security/peer-authentication
 * PeerAuthentication on the host's connection facts: STRICT, PERMISSIVE and DISABLE, a port-level
 * override, revoked certificate serials, and peers of another trust domain.
 */
import { describe, expect, it } from "vitest";
import type { PeerAuthenticationConfig, TrustConfig } from "../../../edge-proxy/core/config/proxy-config.js";
import { createInboundSecurity } from "../../../edge-proxy/core/security/inbound-security.js";
import { createPeerAuthentication } from "../../../edge-proxy/core/security/peer-authentication.js";
import { denied, get, inbound, peer, plaintext, policy } from "./support.js";

const TRUST: TrustConfig = { trustDomain: "cluster.local", roots: [], revokedSerials: ["0a1b", "ff00"] };
const check = (config: PeerAuthenticationConfig | undefined, trust?: TrustConfig) => createPeerAuthentication(config, trust).check;

describe("modes", () => {
  it.each<[string, PeerAuthenticationConfig | undefined, boolean, { ok: boolean; principal?: string }]>([
    ["no config is PERMISSIVE: plain text passes", undefined, false, { ok: true, principal: undefined }],
    ["PERMISSIVE, mTLS: the SPIFFE ID is the principal", { mode: "PERMISSIVE" }, true, { ok: true, principal: "cluster.local/ns/default/sa/sleep" }],
    ["PERMISSIVE, plain text", { mode: "PERMISSIVE" }, false, { ok: true, principal: undefined }],
    ["STRICT, mTLS", { mode: "STRICT" }, true, { ok: true, principal: "cluster.local/ns/default/sa/sleep" }],
    ["STRICT, plain text is refused", { mode: "STRICT" }, false, { ok: false }],
    ["DISABLE, plain text", { mode: "DISABLE" }, false, { ok: true, principal: undefined }],
    ["DISABLE ignores a certificate", { mode: "DISABLE" }, true, { ok: true, principal: undefined }],
  ])("%s", (_name, config, mtls, expected) => {
    expect(check(config)(mtls ? peer() : plaintext())).toMatchObject(expected);
  });

  it("STRICT refuses with 403 and details peer_authentication_strict", async () => {
    const security = createInboundSecurity(inbound({ peerAuthentication: { mode: "STRICT" } }), undefined, { fetchJwks: async () => ({}), now: () => 0 });
    expect(denied(await security.check(get(), plaintext()))).toEqual({ status: 403, details: "peer_authentication_strict" });
  });
});

describe("port-level modes", () => {
  const config: PeerAuthenticationConfig = { mode: "STRICT", portLevel: { "8080": "PERMISSIVE", "9090": "DISABLE" } };
  it.each<[number, boolean]>([
    [8080, true],
    [9090, true],
    [8000, false],
  ])("port %i accepts plain text: %s", (port, ok) => {
    expect(check(config)(plaintext({ port })).ok).toBe(ok);
  });
  it("a STRICT port under a PERMISSIVE workload", () => {
    const strictPort = check({ mode: "PERMISSIVE", portLevel: { "8443": "STRICT" } });
    expect(strictPort(plaintext({ port: 8443 })).ok).toBe(false);
    expect(strictPort(plaintext({ port: 8080 })).ok).toBe(true);
  });
});

describe("trust", () => {
  it("refuses a revoked serial in any mode (case and leading zeros ignored)", () => {
    for (const mode of ["STRICT", "PERMISSIVE"] as const) {
      expect(check({ mode }, TRUST)(peer({ certificateSerial: "0A1B" }))).toMatchObject({ ok: false, details: "peer_certificate_revoked" });
      expect(check({ mode }, TRUST)(peer({ certificateSerial: "00ff00" }))).toMatchObject({ ok: false, details: "peer_certificate_revoked" });
      expect(check({ mode }, TRUST)(peer({ certificateSerial: "0a1c" })).ok).toBe(true);
    }
  });

  it("without a TrustConfig serials are not checked", () => {
    expect(check({ mode: "STRICT" })(peer({ certificateSerial: "0a1b" })).ok).toBe(true);
  });

  it("allows a peer of another trust domain; authorization decides", async () => {
    const foreign = peer({ spiffeId: "spiffe://other.example/ns/default/sa/sleep", certificateSerial: "77" });
    expect(check({ mode: "STRICT" }, TRUST)(foreign)).toEqual({ ok: true, principal: "other.example/ns/default/sa/sleep" });
    const config = inbound({ peerAuthentication: { mode: "STRICT" }, authorizationPolicies: [policy("default/local", "ALLOW", [{ from: [{ source: { principals: ["cluster.local/*"] } }] }])] });
    const security = createInboundSecurity(config, TRUST, { fetchJwks: async () => ({}), now: () => 0 });
    expect(denied(await security.check(get(), foreign))).toEqual({ status: 403, details: "rbac_access_denied_matched_policy[none]" });
    expect(denied(await security.check(get(), peer({ certificateSerial: "ff00" })))).toEqual({ status: 403, details: "peer_certificate_revoked" });
    expect((await security.check(get(), peer({ certificateSerial: "1234" }))).allowed).toBe(true);
  });
});
