// The sidecar's config agent against a control plane in the test process, on a manual clock:
// register-then-stream, ACK/NACK and the disk cache, long-poll fallback and the stream's return,
// heartbeats and re-registration, a dead stream, the disk cache when the control plane is away, stop.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProxyConfig } from "../../../../edge-proxy/core/config/proxy-config.js";
import { createControlPlaneClient } from "../../../../edge-proxy/hosts/control-plane-client.js";
import { createConfigCache } from "../../../../edge-proxy/hosts/sidecar/agent/config-cache.js";
import { createSidecarConfigAgent, type SidecarConfigAgentOptions } from "../../../../edge-proxy/hosts/sidecar/agent/config-agent.js";
import { configNamed, createFakeControlPlane, versionOf, type FakeControlPlane } from "./support/fake-control-plane.js";
import { manualClock, type ManualClock } from "./support/manual-clock.js";

import { REGISTRATION } from "./support/registration.js";

const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 5_000, interval: 2 });

/** Waits (real time) until the agent has set a timer of `delay` ms, then lets that much time pass. */
async function afterTimer(clock: ManualClock, delay: number) {
  await waitFor(() => expect(clock.pending().map((t) => t.delay)).toContain(delay));
  await clock.advance(delay);
}

function setup(extra: Partial<SidecarConfigAgentOptions> = {}, cp: FakeControlPlane = createFakeControlPlane(), cacheDir?: string) {
  const dir = cacheDir ?? mkdtempSync(join(tmpdir(), "weft-config-agent-"));
  dirs.push(dir);
  const clock = manualClock();
  const events: Record<string, unknown>[] = [];
  const applied: string[] = [];
  const reported: [string, string][] = [];
  const client = createControlPlaneClient({ fetch: (request) => cp.fetch(request), baseUrl: "http://cp.test", token: "join-token", registration: REGISTRATION });
  const agent = createSidecarConfigAgent({
    client,
    cacheDir: dir,
    apply(config: ProxyConfig) {
      const route = config.listeners[0]?.virtualHosts[0]?.routes[0];
      const name = route?.action.kind === "direct" ? String(route.action.body) : "?";
      if (name.startsWith("uncompilable")) throw new Error(`engine refuses ${name} (test)`);
      applied.push(name);
    },
    log: (event) => void events.push(event),
    onApplied: (version, source) => void reported.push([version, source]),
    clock,
    random: () => 0.5,
    ...extra,
  });
  stops.push(() => agent.stop());
  const named = (event: string) => events.filter((e) => e.event === event);
  return { cp, dir, clock, events, named, applied, reported, agent, client };
}

describe("with the control plane up", () => {
  it("registers as a sidecar, follows the stream, applies, ACKs and keeps each version on disk", async () => {
    const t = setup();
    const v1 = t.cp.serve(configNamed("one"));
    await t.agent.start();
    expect(t.agent.version).toBe(v1);
    expect(t.agent.source).toBe("control-plane");
    expect(t.agent.transport).toBe("stream");
    expect(t.applied).toEqual(["one"]);
    expect(t.reported).toEqual([[v1, "control-plane"]]);
    const registration = t.cp.requests.find((r) => r.path === "/v1/registry/workloads")!;
    expect(registration.body).toEqual({ ...REGISTRATION, kind: "sidecar" });
    expect(registration.headers.authorization).toBe("Bearer join-token");
    await waitFor(() => expect(t.cp.answers).toEqual([{ version: v1, applied: true }]));
    await waitFor(() => expect(JSON.parse(readFileSync(join(t.dir, "proxy-config.json"), "utf8"))).toEqual({ version: v1, config: configNamed("one") }));

    const v2 = t.cp.serve(configNamed("two"));
    await waitFor(() => expect(t.agent.version).toBe(v2));
    expect(t.applied).toEqual(["one", "two"]);
    await waitFor(() => expect(t.cp.answers.at(-1)).toEqual({ version: v2, applied: true }));
    await waitFor(() => expect(JSON.parse(readFileSync(join(t.dir, "proxy-config.json"), "utf8")).version).toBe(v2));
    expect(readdirSync(t.dir)).toEqual(["proxy-config.json"]); // no temporary file left behind
    expect(t.cp.count("GET", "/config")).toBe(0); // no polling while the stream is up
  });

  it("NACKs a config that fails validation or compilation, keeps the old one, and does not ask for it again", async () => {
    const t = setup();
    const good = t.cp.serve(configNamed("good"));
    await t.agent.start();

    const invalid = { ...configNamed("bad"), listeners: "not a list" };
    const bad = t.cp.serve(invalid);
    await waitFor(() => expect(t.cp.answers.at(-1)).toMatchObject({ version: bad, error: expect.stringContaining("listeners") }));
    expect(t.agent.version).toBe(good);
    const uncompilable = t.cp.serve(configNamed("uncompilable-1"));
    await waitFor(() => expect(t.cp.answers.at(-1)).toEqual({ version: uncompilable, error: "cannot compile: Error: engine refuses uncompilable-1 (test)" }));
    expect(t.agent.version).toBe(good);
    expect(t.applied).toEqual(["good"]);
    expect(JSON.parse(readFileSync(join(t.dir, "proxy-config.json"), "utf8")).version).toBe(good);
    expect(t.named("config_rejected")).toHaveLength(2);

    // The stream ends; the agent comes back with the refused version as Last-Event-ID, so it is not resent.
    t.cp.endStreams();
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.cp.openStreams()).toBe(1));
    const reconnect = t.cp.requests.filter((r) => r.path.endsWith("/config/stream")).at(-1)!;
    expect(reconnect.headers["last-event-id"]).toBe(uncompilable);
    expect(t.cp.answers.filter((a) => a.version === uncompilable)).toHaveLength(1);

    const fixed = t.cp.serve(configNamed("fixed"));
    await waitFor(() => expect(t.agent.version).toBe(fixed));
    expect(t.applied).toEqual(["good", "fixed"]);
  });

  it("long-polls with ?wait=30s when the stream is not available, and tries the stream again later", async () => {
    const cp = createFakeControlPlane();
    cp.streamOff = true;
    const t = setup({ streamRetryMs: 60_000 }, cp);
    const v1 = cp.serve(configNamed("one"));
    await t.agent.start();
    expect(t.agent.transport).toBe("long-poll");
    expect(t.named("config_stream_unavailable")[0]).toMatchObject({ fallback: "long-poll", error: expect.stringContaining("501") });
    await waitFor(() => expect(cp.requests.filter((r) => r.query === "?wait=30s").length).toBeGreaterThanOrEqual(2));
    const poll = cp.requests.find((r) => r.query === "?wait=30s")!;
    expect(poll.headers["if-none-match"]).toBe(`"${v1}"`);

    // A change reaches a held long-poll.
    const v2 = cp.serve(configNamed("two"));
    await waitFor(() => expect(t.agent.version).toBe(v2));
    await waitFor(() => expect(cp.answers.at(-1)).toEqual({ version: v2, applied: true }));

    // The stream is back; after streamRetryMs the agent uses it again.
    cp.streamOff = false;
    const streamsTried = cp.count("GET", "/config/stream");
    await t.clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(cp.count("GET", "/config/stream")).toBe(streamsTried);
    await t.clock.advance(1_000);
    await waitFor(() => expect(t.agent.transport).toBe("stream"));
    expect(cp.openStreams()).toBe(1);
    const v3 = cp.serve(configNamed("three"));
    await waitFor(() => expect(t.agent.version).toBe(v3));
  });

  it("falls back to long-poll when streams end before saying anything", async () => {
    const cp = createFakeControlPlane();
    cp.streamEmpty = true;
    const t = setup({}, cp);
    cp.serve(configNamed("one"));
    await t.agent.start();
    expect(t.agent.transport).toBe("long-poll");
    expect(t.named("config_stream_unavailable")[0]!.error).toBe("the config stream ended before sending anything");
  });

  it("does not give up on the stream when the control plane is only unreachable: it backs off and reopens it", async () => {
    const t = setup();
    t.cp.serve(configNamed("one"));
    await t.agent.start();
    t.cp.down = true;
    t.cp.endStreams();
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.named("control_plane_unreachable")).toHaveLength(1));
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.named("control_plane_unreachable")).toHaveLength(2));
    expect(t.named("control_plane_unreachable").map((e) => e.retryInMs)).toEqual([1_000, 2_000]);
    t.cp.down = false;
    await afterTimer(t.clock, 2_000);
    await waitFor(() => expect(t.cp.openStreams()).toBe(1));
    expect(t.named("config_stream_unavailable")).toHaveLength(0);
    expect(t.cp.count("GET", "/config")).toBe(0);
    expect(t.agent.transport).toBe("stream");
  });

  it("gives up on a request the control plane never answers, after requestTimeoutMs of real time", async () => {
    const cp = createFakeControlPlane();
    const silent: FakeControlPlane = { ...cp, fetch: (request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason))) };
    const t = setup({ requestTimeoutMs: 50 }, silent);
    void t.agent.start().catch(() => undefined);
    await waitFor(() => expect(t.named("control_plane_unreachable")).toHaveLength(1));
    expect(t.named("control_plane_unreachable")[0]!.error).toBe("DeadlineExceeded: no answer within 50 ms");
  });

  it("heartbeats the registration and registers again when it is gone", async () => {
    const t = setup({ heartbeatMs: 30_000 });
    t.cp.serve(configNamed("one"));
    await t.agent.start();
    expect(t.cp.count("POST", "/v1/registry/workloads")).toBe(1);
    await afterTimer(t.clock, 30_000);
    await waitFor(() => expect(t.cp.count("PUT", "/heartbeat")).toBe(1));
    expect(t.cp.count("POST", "/v1/registry/workloads")).toBe(1);

    t.cp.registered = false; // expired
    await afterTimer(t.clock, 30_000);
    await waitFor(() => expect(t.cp.count("POST", "/v1/registry/workloads")).toBe(2));
    expect(t.cp.registered).toBe(true);
    expect(t.named("registration_lost")).toHaveLength(1);
    expect(t.named("registered").at(-1)).toMatchObject({ again: true });
  });

  it("re-registers when a reconnecting stream finds the registration gone", async () => {
    const t = setup();
    const v1 = t.cp.serve(configNamed("one"));
    await t.agent.start();
    t.cp.registered = false;
    t.cp.endStreams();
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.cp.openStreams()).toBe(1));
    expect(t.cp.count("POST", "/v1/registry/workloads")).toBe(2);
    const streams = t.cp.requests.filter((r) => r.path.endsWith("/config/stream"));
    expect(streams.map((r) => r.headers["last-event-id"])).toEqual([undefined, v1, v1]);
    expect(t.applied).toEqual(["one"]);
  });

  it("drops a stream that went silent and opens a new one", async () => {
    const t = setup({ streamIdleMs: 45_000 });
    t.cp.serve(configNamed("one"));
    await t.agent.start();
    t.cp.silence = true;
    await t.clock.advance(44_000);
    expect(t.named("config_stream_broken")).toHaveLength(0);
    await t.clock.advance(1_000);
    await waitFor(() => expect(t.named("config_stream_broken")).toHaveLength(1));
    expect(t.named("config_stream_broken")[0]!.error).toBe("no event nor heartbeat for 45000 ms");
    t.cp.silence = false;
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.cp.count("GET", "/config/stream")).toBe(2));
    const v2 = t.cp.serve(configNamed("two"));
    await waitFor(() => expect(t.agent.version).toBe(v2));
  });
});

describe("with the control plane away", () => {
  it("starts from the disk cache, keeps trying with backoff, and moves to the control plane's config when it is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-config-agent-"));
    const kept = configNamed("kept");
    await createConfigCache(dir).save({ version: versionOf(kept), config: kept });
    const cp = createFakeControlPlane();
    cp.down = true;
    const t = setup({}, cp, dir);
    await t.agent.start();
    expect(t.agent.source).toBe("disk");
    expect(t.agent.version).toBe(versionOf(kept));
    expect(t.applied).toEqual(["kept"]);
    expect(t.reported).toEqual([[versionOf(kept), "disk"]]);

    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await waitFor(() => expect(t.named("control_plane_unreachable")).toHaveLength(i + 1));
      delays.push(t.named("control_plane_unreachable")[i]!.retryInMs as number);
      await afterTimer(t.clock, delays[i]!);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
    // The first failure loaded the disk cache; every report says what is served meanwhile.
    expect(t.named("control_plane_unreachable")[0]).toMatchObject({ level: "warn", source: "disk", version: versionOf(kept), error: expect.stringContaining("ECONNREFUSED") });

    // Back, serving a newer version.
    cp.down = false;
    const v2 = cp.serve(configNamed("fresh"));
    await afterTimer(t.clock, 16_000);
    await waitFor(() => expect(t.agent.version).toBe(v2));
    expect(t.agent.source).toBe("control-plane");
    expect(t.applied).toEqual(["kept", "fresh"]);
  });

  it("confirms the disk's version with an ACK, without applying it again, when the control plane serves the same", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-config-agent-"));
    const kept = configNamed("same");
    await createConfigCache(dir).save({ version: versionOf(kept), config: kept });
    const cp = createFakeControlPlane();
    cp.down = true;
    const t = setup({}, cp, dir);
    await t.agent.start();
    cp.down = false;
    cp.serve(kept);
    await afterTimer(t.clock, 1_000);
    await waitFor(() => expect(t.agent.source).toBe("control-plane"));
    expect(t.applied).toEqual(["same"]);
    await waitFor(() => expect(cp.answers).toEqual([{ version: versionOf(kept), applied: true }]));
    expect(t.named("config_confirmed")).toHaveLength(1);
    // It asked for the config without claiming to hold the disk's version.
    expect(cp.requests.find((r) => r.path.endsWith("/config/stream"))!.headers["last-event-id"]).toBeUndefined();
  });

  it("without a cache, start() waits until the control plane answers", async () => {
    const cp = createFakeControlPlane();
    cp.down = true;
    const t = setup({}, cp);
    let started = false;
    const start = t.agent.start().then(() => (started = true));
    await waitFor(() => expect(t.named("control_plane_unreachable")).toHaveLength(1));
    expect(t.named("config_cache_empty")).toHaveLength(1);
    expect(t.named("control_plane_unreachable")[0]!.level).toBe("error");
    await t.clock.advance(5_000);
    expect(started).toBe(false);
    cp.down = false;
    const v1 = cp.serve(configNamed("one"));
    await afterTimer(t.clock, 4_000);
    await start;
    expect(t.agent.version).toBe(v1);
    expect(t.agent.source).toBe("control-plane");
  });

  it("reports an unreadable cache file and keeps waiting for the control plane", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-config-agent-"));
    writeFileSync(join(dir, "proxy-config.json"), '{"version": "v1", "config": {"trunc');
    const cp = createFakeControlPlane();
    cp.down = true;
    const t = setup({}, cp, dir);
    void t.agent.start().catch(() => undefined);
    await waitFor(() => expect(t.named("config_cache_unreadable")).toHaveLength(1));
    expect(String(t.named("config_cache_unreadable")[0]!.error)).toContain("is not JSON");
    expect(t.agent.version).toBeUndefined();
  });

  it("uses the disk cache after diskFallbackMs when the control plane does not answer at all", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-config-agent-"));
    const kept = configNamed("kept");
    await createConfigCache(dir).save({ version: versionOf(kept), config: kept });
    const cp = createFakeControlPlane();
    const hanging: FakeControlPlane = { ...cp, fetch: (request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))) };
    const t = setup({ diskFallbackMs: 5_000 }, hanging, dir);
    const start = t.agent.start();
    await t.clock.advance(4_999);
    expect(t.agent.version).toBeUndefined();
    await t.clock.advance(1);
    await start;
    expect(t.agent.source).toBe("disk");
  });
});

describe("stop", () => {
  it("ends the stream at once, rejects a pending start, and deregisters when asked", async () => {
    const t = setup();
    t.cp.serve(configNamed("one"));
    await t.agent.start();
    expect(t.cp.openStreams()).toBe(1);
    await t.agent.stop({ deregister: true });
    expect(t.cp.openStreams()).toBe(0);
    expect(t.cp.registered).toBe(false);
    expect(t.named("deregistered")).toEqual([expect.objectContaining({ removed: true })]);
    expect(t.clock.pending()).toEqual([]);

    const cp = createFakeControlPlane();
    cp.down = true;
    const pending = setup({}, cp);
    const start = pending.agent.start();
    await waitFor(() => expect(pending.named("control_plane_unreachable")).toHaveLength(1));
    await pending.agent.stop();
    await expect(start).rejects.toThrow(/stopped/);
    expect(existsSync(join(pending.dir, "proxy-config.json"))).toBe(false);
  });
});
