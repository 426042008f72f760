// The sidecar's agents against a real local control plane (`npm start`'s script in workerd, real D1
// and ConfigHub): a certificate for a join token that openssl verifies against the CA's roots, a config
// followed over the real SSE stream and ACKed (proxy-status SYNCED), and both agents riding out a
// control-plane restart: backoff while it is down, the disk cache meanwhile, then the real thing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ProxyConfig } from "../../../../edge-proxy/core/config/proxy-config.js";
import { createControlPlaneClient, type ProxyRegistration } from "../../../../edge-proxy/hosts/control-plane-client.js";
import { createCertificateAgent, type CertificateAgent } from "../../../../edge-proxy/hosts/sidecar/agent/certificate-agent.js";
import { createSidecarConfigAgent, type SidecarConfigAgent } from "../../../../edge-proxy/hosts/sidecar/agent/config-agent.js";
import { createCredential } from "../../../../edge-proxy/hosts/sidecar/agent/credential.js";
import type { WorkloadCertificate } from "../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";
import { startControlPlane, type RunningControlPlane } from "../../support/control-plane.js";

const NS = "agents";
const SA = "reviews";
const SPIFFE = `spiffe://cluster.local/ns/${NS}/sa/${SA}`;
const REGISTRATION: ProxyRegistration = {
  kind: "sidecar",
  name: "reviews-v1-0",
  namespace: NS,
  serviceAccount: SA,
  address: "10.1.0.7",
  labels: { app: "reviews", version: "v1" },
  ports: [{ port: 9080, name: "http", protocol: "HTTP" }],
};

let cp: RunningControlPlane;
const dir = mkdtempSync(join(tmpdir(), "weft-agents-e2e-"));
const file = (name: string) => join(dir, name);
const cacheDir = file("istio-data");
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
  const response = await admin("POST", "/v1/join-tokens", { namespace: NS, serviceAccount: SA, ttl: "1h" });
  expect(response.status).toBe(201);
  // The join token as a mounted secret file, read on each use.
  writeFileSync(file("join-token"), `${((await response.json()) as { token: string }).token}\n`);
});
afterAll(async () => {
  for (const stop of stops.splice(0)) await stop();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${cp.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${cp.adminToken}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const credential = () => createCredential({ kind: "join-token-file", path: file("join-token") });

function certificateAgent(log: Record<string, unknown>[], backoff?: { initialMs: number; maxMs: number }): CertificateAgent {
  const agent = createCertificateAgent({
    controlPlaneUrl: cp.url,
    credential: credential(),
    identity: { trustDomain: "cluster.local", namespace: NS, serviceAccount: SA },
    ttl: "1h",
    log: (event) => void log.push(event),
    ...(backoff ? { backoff } : {}),
  });
  stops.push(() => agent.stop());
  return agent;
}

function configAgent(log: Record<string, unknown>[], applied: ProxyConfig[], backoff?: { initialMs: number; maxMs: number }): SidecarConfigAgent {
  const client = createControlPlaneClient({ fetch: (request) => fetch(request), baseUrl: cp.url, token: () => credential().read(), registration: REGISTRATION });
  const agent = createSidecarConfigAgent({ client, cacheDir, apply: (config) => void applied.push(config), log: (event) => void log.push(event), ...(backoff ? { backoff } : {}) });
  stops.push(() => agent.stop());
  return agent;
}

/** openssl's verdict on the certificate against the CA's published roots, and its SAN. */
function opensslCheck(certificate: WorkloadCertificate, name: string): { verify: string; san: string; keyMatches: boolean } {
  writeFileSync(file(`${name}.pem`), certificate.certChainPem);
  writeFileSync(file(`${name}.key`), certificate.keyPem);
  const leaf = certificate.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0];
  writeFileSync(file(`${name}-leaf.pem`), leaf);
  const intermediates = certificate.certChainPem.slice(leaf.length);
  writeFileSync(file(`${name}-chain.pem`), intermediates);
  const untrusted = intermediates.trim() ? ["-untrusted", file(`${name}-chain.pem`)] : [];
  const verify = openssl("verify", "-CAfile", file("roots.pem"), ...untrusted, "-purpose", "sslclient", file(`${name}-leaf.pem`));
  const san = openssl("x509", "-in", file(`${name}-leaf.pem`), "-noout", "-ext", "subjectAltName");
  const modulus = (args: string[]) => openssl(...args).trim();
  const keyMatches = modulus(["pkey", "-in", file(`${name}.key`), "-pubout"]) === modulus(["x509", "-in", file(`${name}-leaf.pem`), "-noout", "-pubkey"]);
  return { verify, san, keyMatches };
}

describe("the certificate agent", () => {
  it("gets a certificate with a join token that openssl verifies against GET /v1/ca/roots, whose only SAN is the SPIFFE ID", async () => {
    const log: Record<string, unknown>[] = [];
    const agent = certificateAgent(log);
    await agent.start();
    const certificate = agent.current()!;
    expect(certificate.spiffeId).toBe(SPIFFE);

    const published = await (await fetch(`${cp.url}/v1/ca/roots`)).text();
    writeFileSync(file("roots.pem"), published);
    expect(agent.roots().join("")).toBe(published.replace(/\n+$/, "\n"));

    const { verify, san, keyMatches } = opensslCheck(certificate, "first");
    expect(verify).toContain(": OK");
    // Exactly one name, the SPIFFE URI (critical, since the subject is empty).
    expect(san.replace(/\s+/g, " ").trim()).toBe(`X509v3 Subject Alternative Name: critical URI:${SPIFFE}`);
    expect(keyMatches).toBe(true);
    // About an hour, renewed at about half.
    expect(certificate.notAfter - Date.now()).toBeGreaterThan(55 * 60_000);
    const lifetime = certificate.notAfter - certificate.notBefore;
    expect(agent.nextRenewalAt()! - certificate.notBefore).toBeGreaterThanOrEqual(Math.floor(lifetime * 0.45));
    expect(agent.nextRenewalAt()! - certificate.notBefore).toBeLessThanOrEqual(Math.ceil(lifetime * 0.55));
    // The CA's audit log records it, requested with the join token.
    const audit = (await (await admin("GET", `/v1/certificates?namespace=${NS}`)).json()) as { items: { serial: string; requester: string }[] };
    expect(audit.items.find((i) => i.serial === certificate.serial)?.requester).toMatch(/^join-token:/);
    await agent.stop();
  });
});

describe("the config agent", () => {
  it("registers, follows the real SSE stream, ACKs (proxy-status SYNCED) and applies a pushed change", async () => {
    const log: Record<string, unknown>[] = [];
    const applied: ProxyConfig[] = [];
    const agent = configAgent(log, applied);
    await agent.start();
    expect(agent.source).toBe("control-plane");
    expect(agent.transport).toBe("stream");
    expect(applied[0]!.proxy).toMatchObject({ kind: "sidecar", namespace: NS, labels: REGISTRATION.labels });

    const status = async () => {
      const body = (await (await admin("GET", `/v1/proxy-status?namespace=${NS}`)).json()) as { items: { id: string; status: string; version: string; ackedVersion: string | null }[] };
      return body.items.find((i) => i.id === "reviews-v1-0.agents");
    };
    await vi.waitFor(async () => expect(await status()).toMatchObject({ status: "SYNCED", ackedVersion: agent.version }), { timeout: 20_000, interval: 200 });
    const first = agent.version;

    // A ServiceEntry in the proxy's namespace changes its config: the hub pushes it.
    const created = await admin("POST", `/apis/networking.istio.io/v1/namespaces/${NS}/serviceentries`, {
      apiVersion: "networking.istio.io/v1",
      kind: "ServiceEntry",
      metadata: { name: "ratings-external", namespace: NS },
      spec: { hosts: ["ratings.example.com"], ports: [{ number: 80, name: "http", protocol: "HTTP" }], resolution: "DNS", location: "MESH_EXTERNAL" },
    });
    expect(created.status).toBe(201);
    await vi.waitFor(() => expect(agent.version).not.toBe(first), { timeout: 20_000, interval: 100 });
    expect(applied.at(-1)!.clusters.some((c) => c.host === "ratings.example.com")).toBe(true);
    expect(log.filter((e) => e.event === "config_applied").length).toBe(2);
    expect(log.some((e) => e.event === "config_transport" && e.transport === "long-poll")).toBe(false);
    await vi.waitFor(async () => expect(await status()).toMatchObject({ status: "SYNCED", ackedVersion: agent.version }), { timeout: 20_000, interval: 200 });
    const kept = JSON.parse(readFileSync(join(cacheDir, "proxy-config.json"), "utf8")) as { version: string; config: ProxyConfig };
    expect(kept.version).toBe(agent.version);
    expect(kept.config).toEqual(applied.at(-1));
    await agent.stop();
  });
});

describe("a control-plane restart", () => {
  it("the agents back off while it is down (the config agent serving the disk cache), then get the real thing", async () => {
    const backoff = { initialMs: 250, maxMs: 2_000 };
    const restarting = cp.restart();
    let restarted = false;
    void restarting.then(() => (restarted = true));
    // Down for sure before the agents start.
    await vi.waitFor(
      async () => {
        const up = await fetch(`${cp.url}/healthz`).then(
          () => true,
          () => false,
        );
        expect(up).toBe(false);
      },
      { timeout: 30_000, interval: 100 },
    );

    const certLog: Record<string, unknown>[] = [];
    const certificates = certificateAgent(certLog, backoff);
    const configLog: Record<string, unknown>[] = [];
    const applied: ProxyConfig[] = [];
    const configs = configAgent(configLog, applied, backoff);
    const cacheVersion = (JSON.parse(readFileSync(join(cacheDir, "proxy-config.json"), "utf8")) as { version: string }).version;

    let certified = false;
    const gotCertificate = certificates.start().then(() => (certified = true));
    await configs.start();
    expect(configs.source).toBe("disk");
    expect(configs.version).toBe(cacheVersion);
    expect(certified).toBe(false);

    await gotCertificate;
    expect(restarted).toBe(true);
    await restarting;
    const failures = certLog.filter((e) => e.event === "certificate_request_failed");
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const delays = failures.map((e) => e.retryInMs as number);
    // Exponential with ±20% jitter, capped: each wait is at least 0.8× the base, the base doubling from 250 ms to 2 s.
    delays.forEach((delay, i) => {
      const base = Math.min(2_000, 250 * 2 ** i);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(delay).toBeLessThanOrEqual(2_000);
    });
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(String(failures[0]!.error)).toMatch(/fetch failed|ECONNREFUSED/);

    writeFileSync(file("roots.pem"), await (await fetch(`${cp.url}/v1/ca/roots`)).text());
    const { verify, san } = opensslCheck(certificates.current()!, "after-restart");
    expect(verify).toContain(": OK");
    expect(san).toContain(`URI:${SPIFFE}`);

    // The config agent reaches the control plane again; the same mesh state serves the disk's version.
    await vi.waitFor(() => expect(configs.source).toBe("control-plane"), { timeout: 30_000, interval: 100 });
    expect(configs.version).toBe(cacheVersion);
    expect(configLog.some((e) => e.event === "control_plane_unreachable")).toBe(true);
    await certificates.stop();
    await configs.stop({ deregister: true });
    const gone = await admin("GET", "/v1/registry/workloads/reviews-v1-0.agents");
    expect(gone.status).toBe(404);
  }, 240_000);
});
