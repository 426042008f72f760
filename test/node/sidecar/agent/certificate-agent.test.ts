// The certificate agent against a CA in the test process, on a manual clock: the key and CSR it
// makes, what it keeps, renewal at half the lifetime with a new key, backoff while the CA is down, a
// failed renewal serving the current certificate until it expires, and stop.
import "reflect-metadata";
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509 } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it, vi } from "vitest";
import { createCertificateAgent, type CertificateAgentOptions } from "../../../../edge-proxy/hosts/sidecar/agent/certificate-agent.js";
import type { WorkloadCertificate } from "../../../../edge-proxy/hosts/sidecar/sidecar-contracts.js";
import { createFakeCa, SAN_OID } from "./support/fake-ca.js";
import { manualClock, type ManualClock } from "./support/manual-clock.js";

const ID = "spiffe://cluster.local/ns/shop/sa/reviews";
const HOUR = 3_600_000;

async function setup(extra: Partial<CertificateAgentOptions> = {}, lifetimeMs = HOUR) {
  const clock = manualClock();
  const ca = await createFakeCa(clock.now, lifetimeMs);
  const events: Record<string, unknown>[] = [];
  let reads = 0;
  const agent = createCertificateAgent({
    controlPlaneUrl: "http://weft.test/",
    credential: { read: async () => `token-${++reads}` },
    identity: { trustDomain: "cluster.local", namespace: "shop", serviceAccount: "reviews" },
    fetch: (request) => ca.fetch(request),
    clock,
    random: () => 0.5,
    log: (event) => void events.push(event),
    ...extra,
  });
  return { clock, ca, events, agent };
}

/** Waits (real time) until the agent has set a timer; returns the earliest. */
async function nextTimer(clock: ManualClock) {
  await vi.waitFor(() => expect(clock.pending().length).toBeGreaterThan(0), { timeout: 5_000, interval: 2 });
  return clock.pending()[0]!;
}

function spkiOf(pem: string): string {
  return createPublicKey(createPrivateKey(pem)).export({ type: "spki", format: "der" }).toString("base64");
}

describe("the first certificate", () => {
  it("comes from an in-process P-256 key and a CSR whose only identity is the SPIFFE URI; the key never leaves", async () => {
    const { agent, ca, clock } = await setup({ ttl: "1h" });
    await agent.start();
    const cert = agent.current()!;
    expect(cert.spiffeId).toBe(ID);

    const key = createPrivateKey(cert.keyPem);
    expect(cert.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");

    const [seen] = ca.csrs;
    expect(seen!.request.subject).toBe("");
    expect((seen!.request.getExtension(SAN_OID) as x509.SubjectAlternativeNameExtension).names.toJSON()).toEqual([{ type: "url", value: ID }]);
    expect(await seen!.request.verify()).toBe(true);
    expect(seen!.ttl).toBe("1h");
    expect(seen!.authorization).toBe("Bearer token-1");
    // Only the CSR travels: no private key in the request body.
    const der = key.export({ type: "pkcs8", format: "der" }).toString("base64");
    expect(seen!.body).not.toContain("PRIVATE KEY");
    expect(seen!.body).not.toContain(der.slice(40, 80));

    // The leaf carries the key; the chain stops before the root; the roots are the CA's bundle.
    const leaf = new NodeX509(cert.certChainPem);
    expect(leaf.checkPrivateKey(key)).toBe(true);
    expect(cert.certChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(leaf.subjectAltName).toBe(`URI:${ID}`);
    expect(agent.roots()).toEqual([ca.rootPem]);
    expect(leaf.verify(new NodeX509(ca.rootPem).publicKey)).toBe(true);
    expect(cert.serial).toBe(ca.serials[0]);
    expect(cert.notAfter - cert.notBefore).toBe(HOUR);
    expect(cert.notBefore).toBe(clock.now());
  });

  it("is renewed at half the lifetime with random 0.5, and between 45% and 55% otherwise", async () => {
    const half = await setup();
    await half.agent.start();
    const cert = half.agent.current()!;
    expect(half.agent.nextRenewalAt()).toBe(cert.notBefore + HOUR / 2);
    await half.agent.stop();

    for (const [random, share] of [
      [0, 0.45],
      [0.999999, 0.55],
    ] as const) {
      const { agent } = await setup({ random: () => random });
      await agent.start();
      const c = agent.current()!;
      expect(agent.nextRenewalAt()! - c.notBefore).toBeCloseTo(HOUR * share, -2);
      await agent.stop();
    }
  });
});

describe("renewal", () => {
  it("replaces the certificate at the renewal time, with a new key, and tells the listeners", async () => {
    const { agent, clock, ca, events } = await setup();
    await agent.start();
    const first = agent.current()!;
    const changes: WorkloadCertificate[] = [];
    agent.onChange((c) => void changes.push(c));

    const renewal = await nextTimer(clock);
    expect(renewal.at).toBe(first.notBefore + HOUR / 2);
    clock.fireNext();
    await vi.waitFor(() => expect(changes).toHaveLength(1), { timeout: 5_000, interval: 2 });

    const second = agent.current()!;
    expect(second).toBe(changes[0]);
    expect(second.serial).not.toBe(first.serial);
    expect(second.keyPem).not.toBe(first.keyPem);
    expect(spkiOf(second.keyPem)).not.toBe(spkiOf(first.keyPem));
    expect(new NodeX509(second.certChainPem).checkPrivateKey(createPrivateKey(second.keyPem))).toBe(true);
    expect(ca.csrs).toHaveLength(2);
    expect(ca.csrs[1]!.authorization).toBe("Bearer token-2"); // the credential is read again
    expect(agent.nextRenewalAt()).toBe(second.notBefore + HOUR / 2);
    expect(events.map((e) => e.event)).toEqual(["certificate_issued", "certificate_renewed"]);
    await agent.stop();
  });

  it("keeps serving the current certificate while renewals fail, backing off to 60 s, and drops it once expired", async () => {
    const { agent, clock, ca, events } = await setup();
    await agent.start();
    const first = agent.current()!;
    ca.always = "503";

    const delays: number[] = [];
    clock.fireNext(); // the renewal at half the lifetime
    while (clock.now() < first.notAfter) {
      const timer = await nextTimer(clock);
      delays.push(timer.delay);
      expect(agent.nextRenewalAt()).toBe(timer.at);
      if (timer.at < first.notAfter) expect(agent.current()).toBe(first);
      clock.fireNext();
    }
    await nextTimer(clock);
    // 1 s doubling, capped at 60 s (random 0.5 puts the jitter in the middle).
    expect(delays.slice(0, 8)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(new Set(delays.slice(6))).toEqual(new Set([60_000]));
    expect(agent.current()).toBeUndefined();
    const failed = events.filter((e) => e.event === "certificate_renewal_failed");
    expect(failed[0]).toMatchObject({ level: "warn", serving: first.serial, failures: 1, retryInMs: 1_000 });
    expect(String(failed[0]!.error)).toContain("503");
    expect(events.some((e) => e.event === "certificate_expired" && e.serial === first.serial)).toBe(true);

    // The CA is back: a new certificate is held again.
    ca.always = undefined;
    clock.fireNext();
    await vi.waitFor(() => expect(agent.current()).toBeDefined(), { timeout: 5_000, interval: 2 });
    expect(agent.current()!.serial).not.toBe(first.serial);
    await agent.stop();
  });
});

describe("an unreachable CA at start", () => {
  it("is retried with exponential backoff and jitter, and start() resolves once it answers", async () => {
    const { agent, clock, ca, events } = await setup();
    ca.failures = ["down", "down", "503", "down"];
    let started = false;
    const start = agent.start().then(() => (started = true));
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const timer = await nextTimer(clock);
      delays.push(timer.delay);
      expect(started).toBe(false);
      expect(agent.current()).toBeUndefined();
      clock.fireNext();
    }
    await start;
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(agent.current()!.spiffeId).toBe(ID);
    expect(events.filter((e) => e.event === "certificate_request_failed").map((e) => e.level)).toEqual(["error", "error", "error", "error"]);
    await agent.stop();
  });

  it("spreads retries by ±20%", async () => {
    for (const [random, first] of [
      [0, 800],
      [0.75, 1_100],
    ] as const) {
      const { agent, clock, ca } = await setup({ random: () => random });
      ca.always = "down";
      void agent.start().catch(() => undefined);
      expect((await nextTimer(clock)).delay).toBe(first);
      await agent.stop();
    }
  });

  it("refuses a certificate for another identity or another key, and tries again", async () => {
    const { agent, clock, ca, events } = await setup();
    ca.failures = ["wrong-san", "wrong-key"];
    const start = agent.start();
    await nextTimer(clock);
    clock.fireNext();
    await vi.waitFor(() => expect(events.filter((e) => e.event === "certificate_request_failed")).toHaveLength(2), { timeout: 5_000, interval: 2 });
    await nextTimer(clock);
    clock.fireNext();
    await start;
    const errors = events.filter((e) => e.event === "certificate_request_failed").map((e) => String(e.error));
    expect(errors[0]).toContain("spiffe://cluster.local/ns/other/sa/other");
    expect(errors[1]).toContain("does not carry the key");
    expect(new NodeX509(agent.current()!.certChainPem).checkPrivateKey(createPrivateKey(agent.current()!.keyPem))).toBe(true);
    await agent.stop();
  });

  it("counts a CA that never answers as a failure after requestTimeoutMs (real time), and retries", async () => {
    const hanging = (request: Request) => new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
    const { agent, clock, events } = await setup({ fetch: hanging, requestTimeoutMs: 50 });
    void agent.start().catch(() => undefined);
    expect((await nextTimer(clock)).delay).toBe(1_000);
    expect(events[0]).toMatchObject({ event: "certificate_request_failed", error: "DeadlineExceeded: no answer within 50 ms" });
    await agent.stop();
  });

  it("stop() rejects a pending start and cancels the retry", async () => {
    const { agent, clock, ca } = await setup();
    ca.always = "down";
    const start = agent.start();
    await nextTimer(clock);
    await agent.stop();
    await expect(start).rejects.toThrow(/stopped/);
    expect(clock.pending()).toEqual([]);
    expect(agent.nextRenewalAt()).toBeUndefined();
  });
});
