/**
 * @module hosts/sidecar/agent/config-agent
 * What pilot-agent and Envoy's xDS client do for config: register the Pod's workload (kind sidecar),
 * then follow its config on the push stream (SSE, resumed with Last-Event-ID); when the stream cannot
 * be opened, long-poll (`?wait=`) instead and try the stream again later. The registration is kept
 * alive with heartbeats and made again when it is gone. Every config is validated and applied: an
 * applied one is ACKed and written to the disk cache (last known good), a refused one NACKed while the
 * old one stays. `start()` resolves once a config is in use: the control plane's, or, when it cannot
 * be reached, the disk cache's, while the agent keeps trying the control plane with backoff.
 */
import type { ProxyConfig } from "../../../core/config/proxy-config.js";
import { applyReceivedConfig } from "../../apply-received-config.js";
import type { ControlPlaneClient } from "../../control-plane-client.js";
import type { SidecarLog } from "../sidecar-contracts.js";
import { ControlPlaneError } from "../../control-plane-client.js";
import { deadline, sleep, systemClock, type AgentClock, type TimerHandle } from "./agent-clock.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
import { createConfigCache } from "./config-cache.js";

export interface SidecarConfigAgentOptions {
  client: ControlPlaneClient;
  /** Where the last applied config is kept (`/var/lib/istio/data` in a Pod). */
  cacheDir: string;
  /** Puts a validated config to use; throws (and nothing changes) when the engine cannot compile it. */
  apply(config: ProxyConfig): void;
  log: SidecarLog;
  /** Told each time a config is put to use (after `apply` took it). */
  onApplied?: (version: string, source: ConfigSource) => void;
  clock?: AgentClock;
  /** [0, 1), for jitter. */
  random?: () => number;
  /** Between failed attempts to reach the control plane (default 1 s doubling to 60 s). */
  backoff?: BackoffPolicy;
  /** How often the registration is renewed (default 30 s; it lives 90 s). */
  heartbeatMs?: number;
  /** The long-poll's `?wait=` (default 30). */
  longPollWaitSeconds?: number;
  /** After the stream could not be opened, long-poll this long before trying it again (default 60 s). */
  streamRetryMs?: number;
  /** A stream silent this long is dead (the control plane sends a heartbeat every 15 s; default 45 s). */
  streamIdleMs?: number;
  /** Pause before reopening a stream that ended (default 1 s, the stream's own `retry:`). */
  reconnectMs?: number;
  /** Without a config this long after start, the disk cache is used meanwhile (default 5 s). */
  diskFallbackMs?: number;
  /** How long a request may go unanswered (beyond a long-poll's wait), real time (default 15 s). */
  requestTimeoutMs?: number;
}

export type ConfigSource = "control-plane" | "disk";
export type ConfigTransport = "stream" | "long-poll";

export interface SidecarConfigAgent {
  /** Resolves once a config is applied; rejects only when stopped before that. */
  start(): Promise<void>;
  /** The version in use. */
  readonly version: string | undefined;
  /** Where the config in use came from. */
  readonly source: ConfigSource | undefined;
  /** How the agent is following the control plane now. */
  readonly transport: ConfigTransport | undefined;
  /** Stops following; with `deregister`, removes the registration (when the Pod is going away). */
  stop(options?: { deregister?: boolean }): Promise<void>;
}

export function createSidecarConfigAgent(options: SidecarConfigAgentOptions): SidecarConfigAgent {
  const { client, log } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const waitSeconds = options.longPollWaitSeconds ?? 30;
  const streamRetryMs = options.streamRetryMs ?? 60_000;
  const streamIdleMs = options.streamIdleMs ?? 45_000;
  const reconnectMs = options.reconnectMs ?? 1_000;
  const diskFallbackMs = options.diskFallbackMs ?? 5_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  const cache = createConfigCache(options.cacheDir);
  const proxy = client.proxyId;
  const stopping = new AbortController();
  const signal = stopping.signal;

  let version: string | undefined;
  let source: ConfigSource | undefined;
  let transport: ConfigTransport | undefined;
  /** The last version the control plane sent (applied or refused): the stream's Last-Event-ID. */
  let received: string | undefined;
  let rejected: string | undefined;
  let registered = false;
  let registeredBefore = false;
  /** Registered, and no config answer since: a not-registered answer now is an error, not expiry. */
  let justRegistered = false;
  let diskTried = false;
  let streamRetryAt = Number.NEGATIVE_INFINITY;
  let stopped = false;
  let heartbeatTimer: TimerHandle | undefined;
  let diskTimer: TimerHandle | undefined;
  let loop: Promise<void> | undefined;
  let started: Promise<void> | undefined;
  let settleStart: { resolve(): void; reject(error: Error): void } | undefined;

  /** Runs one request, aborted on stop or when it stays unanswered `ms` beyond the timeout. */
  const within = async <T>(call: (signal: AbortSignal) => Promise<T>, extraMs = 0): Promise<T> => {
    const limit = deadline(requestTimeoutMs + extraMs, signal);
    try {
      return await call(limit.signal);
    } finally {
      limit.clear();
    }
  };

  const ready = () => {
    settleStart?.resolve();
    settleStart = undefined;
    if (diskTimer !== undefined) clock.clearTimeout(diskTimer);
    diskTimer = undefined;
  };

  const setTransport = (next: ConfigTransport) => {
    if (transport === next) return;
    transport = next;
    log({ level: "info", event: "config_transport", proxy, transport: next });
  };

  const ifNoneMatch = () => {
    const held = [source === "control-plane" ? version : undefined, rejected].filter((v): v is string => v !== undefined);
    return held.length > 0 ? held.map((v) => `"${v}"`).join(", ") : undefined;
  };

  const refuse = async (next: string, error: string) => {
    rejected = next;
    log({ level: "error", event: "config_rejected", proxy, version: next, source: "control-plane", error, keeping: version });
    await within((s) => client.nack(next, error, { signal: s })).catch((cause) => log({ level: "warn", event: "nack_failed", proxy, version: next, error: String(cause) }));
    // Nothing in use yet and the control plane's config is refused: the last known good one will do.
    if (version === undefined) await loadDisk();
  };

  /** Validates and applies what the control plane sent; ACKs and keeps it, or NACKs it. */
  const accept = async (body: unknown, next: string) => {
    received = next;
    if (next === version) {
      // Held already (from the disk cache): the control plane serves the same version.
      if (source !== "control-plane") {
        source = "control-plane";
        log({ level: "info", event: "config_confirmed", proxy, version: next });
        options.onApplied?.(next, "control-plane");
      }
      rejected = undefined;
      await within((s) => client.ack(next, { signal: s })).catch((cause) => log({ level: "warn", event: "ack_failed", proxy, version: next, error: String(cause) }));
      return;
    }
    const outcome = applyReceivedConfig(body, options.apply);
    if (!outcome.ok) return refuse(next, outcome.error);
    const previous = version;
    version = next;
    source = "control-plane";
    rejected = undefined;
    log({ level: "info", event: "config_applied", proxy, version: next, source: "control-plane", ...(previous !== undefined ? { previous } : {}) });
    options.onApplied?.(next, "control-plane");
    ready();
    await Promise.all([
      within((s) => client.ack(next, { signal: s })).catch((cause) => log({ level: "warn", event: "ack_failed", proxy, version: next, error: String(cause) })),
      cache.save({ version: next, config: body }).catch((cause) => log({ level: "warn", event: "config_cache_write_failed", path: cache.path, version: next, error: String(cause) })),
    ]);
  };

  /** Once, while nothing is in use: the config kept on disk. */
  const loadDisk = async () => {
    if (diskTried || version !== undefined || stopped) return;
    diskTried = true;
    let kept;
    try {
      kept = await cache.load();
    } catch (cause) {
      log({ level: "warn", event: "config_cache_unreadable", path: cache.path, error: String(cause) });
      return;
    }
    if (kept === undefined) {
      log({ level: "info", event: "config_cache_empty", path: cache.path });
      return;
    }
    if (version !== undefined || stopped) return;
    const outcome = applyReceivedConfig(kept.config, options.apply);
    if (!outcome.ok) {
      log({ level: "error", event: "config_rejected", proxy, version: kept.version, source: "disk", error: outcome.error });
      return;
    }
    version = kept.version;
    source = "disk";
    log({ level: "info", event: "config_applied", proxy, version: kept.version, source: "disk", path: cache.path });
    options.onApplied?.(kept.version, "disk");
    ready();
  };

  const register = async () => {
    await within((s) => client.register({ signal: s }));
    registered = true;
    justRegistered = true;
    log({ level: "info", event: "registered", proxy, ...(registeredBefore ? { again: true } : {}) });
    registeredBefore = true;
    scheduleHeartbeat();
  };

  /** The control plane does not know the proxy: register again, unless it just did (then it is an error). */
  const notRegistered = () => {
    if (justRegistered) throw new Error(`${proxy} is not registered right after registering`);
    log({ level: "warn", event: "registration_lost", proxy });
    registered = false;
  };

  const beat = async () => {
    try {
      if (registered && (await within((s) => client.heartbeat({ signal: s })))) return;
      if (registered) log({ level: "warn", event: "registration_lost", proxy });
      registered = false;
      await register();
    } catch (cause) {
      if (!stopped) log({ level: "warn", event: "heartbeat_failed", proxy, error: String(cause) });
    }
  };

  function scheduleHeartbeat() {
    if (stopped || heartbeatTimer !== undefined) return;
    heartbeatTimer = clock.setTimeout(() => {
      void beat().finally(() => {
        heartbeatTimer = undefined;
        scheduleHeartbeat();
      });
    }, heartbeatMs);
  }

  /**
   * Follows the push stream until it ends. False when the control plane does not serve it (it answered
   * something else, or a stream ended before saying anything): long-poll meanwhile, try it again later.
   */
  const followStream = async (): Promise<boolean> => {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal.addEventListener("abort", stop, { once: true });
    let idle: TimerHandle | undefined;
    let idled = false;
    /** (Re)arms the watchdog: a stream (or its opening) silent for streamIdleMs is dead. */
    const watch = () => {
      if (idle !== undefined) clock.clearTimeout(idle);
      idle = clock.setTimeout(() => {
        idled = true;
        controller.abort();
      }, streamIdleMs);
    };
    const unavailable = (error: string) => {
      streamRetryAt = clock.now() + streamRetryMs;
      log({ level: "warn", event: "config_stream_unavailable", proxy, error, fallback: "long-poll", retryStreamInMs: streamRetryMs });
      return false;
    };
    try {
      watch();
      let opened;
      try {
        opened = await client.openConfigStream({ signal: controller.signal, ...(received !== undefined ? { lastEventId: received } : {}) });
      } catch (cause) {
        if (stopped) return true;
        // The control plane answered, but not with a stream: it does not serve one here.
        if (cause instanceof ControlPlaneError && cause.status !== 401 && cause.status !== 403) return unavailable(String(cause));
        throw idled ? new Error(`the config stream did not open within ${streamIdleMs} ms`) : cause;
      }
      if (opened.kind === "not-registered") {
        notRegistered();
        return true;
      }
      justRegistered = false;
      let items = 0;
      try {
        for await (const item of opened.items) {
          watch();
          if (items++ === 0) setTransport("stream");
          if (item.kind === "config") await accept(item.body, item.version);
          else if (item.kind === "malformed") {
            received = item.version;
            await refuse(item.version, item.error);
          }
        }
        if (stopped) return true;
        if (items === 0) return unavailable("the config stream ended before sending anything");
        log({ level: "info", event: "config_stream_ended", proxy, version });
      } catch (cause) {
        if (stopped) return true;
        const error = idled ? `no event nor heartbeat for ${streamIdleMs} ms` : String(cause);
        if (items === 0) return unavailable(`the config stream broke before sending anything: ${error}`);
        log({ level: "warn", event: "config_stream_broken", proxy, version, error });
      }
      await sleep(clock, reconnectMs, signal);
      return true;
    } finally {
      if (idle !== undefined) clock.clearTimeout(idle);
      signal.removeEventListener("abort", stop);
    }
  };

  const longPoll = async (): Promise<boolean> => {
    const etag = ifNoneMatch();
    const wait = etag !== undefined ? waitSeconds : 0;
    const answer = await within((s) => client.fetchConfig(etag, { signal: s, ...(wait > 0 ? { waitSeconds: wait } : {}) }), wait * 1000);
    if (answer.kind === "not-registered") {
      notRegistered();
      return true;
    }
    justRegistered = false;
    setTransport("long-poll");
    if (answer.kind === "config") await accept(answer.body, answer.version);
    return true;
  };

  const run = async () => {
    let failures = 0;
    while (!stopped) {
      try {
        if (!registered) await register();
        const progressed = clock.now() >= streamRetryAt ? await followStream() : await longPoll();
        if (progressed) failures = 0;
      } catch (cause) {
        if (stopped) break;
        failures++;
        const delay = backoffDelay(failures, policy, random);
        await loadDisk();
        log({ level: version === undefined ? "error" : "warn", event: "control_plane_unreachable", proxy, error: String(cause), failures, retryInMs: delay, version, source });
        await sleep(clock, delay, signal);
      }
    }
  };

  return {
    get version() {
      return version;
    },
    get source() {
      return source;
    },
    get transport() {
      return transport;
    },
    start() {
      if (stopped) return Promise.reject(new Error("config agent stopped"));
      started ??= new Promise<void>((resolve, reject) => {
        settleStart = { resolve, reject };
        diskTimer = clock.setTimeout(() => {
          diskTimer = undefined;
          void loadDisk();
        }, diskFallbackMs);
        loop = run();
      });
      return started;
    },
    async stop(o = {}) {
      if (stopped) return;
      stopped = true;
      for (const timer of [heartbeatTimer, diskTimer]) if (timer !== undefined) clock.clearTimeout(timer);
      heartbeatTimer = diskTimer = undefined;
      stopping.abort();
      settleStart?.reject(new Error("config agent stopped before a config was applied"));
      settleStart = undefined;
      await loop;
      if (o.deregister && registered) {
        const limit = deadline(requestTimeoutMs);
        await client
          .deregister({ signal: limit.signal })
          .then((removed) => log({ level: "info", event: "deregistered", proxy, removed }))
          .catch((cause) => log({ level: "warn", event: "deregister_failed", proxy, error: String(cause) }))
          .finally(() => limit.clear());
      }
    },
  };
}
