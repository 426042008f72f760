/**
 * @module hosts/worker/config-agent
 * Keeps an edge gateway's config in the isolate: on first use it registers the gateway and fetches its
 * config; after that it revalidates by version (If-None-Match) at most every `refreshMs`, in the
 * background (stale-while-revalidate), heartbeating the registration and re-registering when it
 * expired. Every config is validated before use: a bad one is NACKed and the previous one kept (its
 * version is then sent in If-None-Match too, so it is not fetched again); an applied one is ACKed and
 * kept in the Cache API. A cold isolate that cannot reach the control plane falls back to the kept one.
 */
import type { ProxyConfig } from "../../core/config/proxy-config.js";
import { applyReceivedConfig } from "../apply-received-config.js";
import type { ControlPlaneClient } from "../control-plane-client.js";
import type { KeptConfigStore } from "./kept-config.js";

export interface ConfigAgentOptions {
  client: ControlPlaneClient;
  kept: KeptConfigStore;
  /** Revalidate at most this often, ms. */
  refreshMs: number;
  now: () => number;
  /** Puts a validated config to use; throws (and nothing changes) when the engine cannot compile it. */
  apply(config: ProxyConfig): void;
  /** One structured log event. */
  log(event: Record<string, unknown>): void;
}

export interface ConfigAgent {
  /**
   * Resolves once there is a config to route with (true), or none could be had (false). With a config,
   * it never waits on the control plane: a due revalidation is handed to `waitUntil`.
   */
  ready(waitUntil: (work: Promise<unknown>) => void): Promise<boolean>;
  /** The version in use, if any. */
  readonly version: string | undefined;
  /** Revalidates now (what `ready` schedules); never rejects. */
  refresh(): Promise<void>;
}

export function createConfigAgent(options: ConfigAgentOptions): ConfigAgent {
  const { client, kept, now, log } = options;
  let version: string | undefined;
  let rejected: string | undefined;
  let registered = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  /** Validates, applies, ACKs and keeps `body`; NACKs it otherwise. True when applied. */
  const accept = async (body: unknown, next: string, source: "control-plane" | "kept"): Promise<boolean> => {
    const outcome = applyReceivedConfig(body, options.apply);
    if (!outcome.ok) {
      const { error } = outcome;
      log({ level: "error", event: "config_rejected", version: next, source, error });
      if (source === "control-plane") {
        rejected = next;
        await client.nack(next, error).catch((cause) => log({ level: "warn", event: "nack_failed", version: next, error: String(cause) }));
      }
      return false;
    }
    version = next;
    log({ level: "info", event: "config_applied", version: next, source });
    if (source === "control-plane") {
      await Promise.all([
        client.ack(next).catch((cause) => log({ level: "warn", event: "ack_failed", version: next, error: String(cause) })),
        kept.save({ version: next, config: body }).catch((cause) => log({ level: "warn", event: "keep_failed", version: next, error: String(cause) })),
      ]);
    }
    return true;
  };

  const ifNoneMatch = () => {
    const tags = [version, rejected].filter((v): v is string => v !== undefined).map((v) => `"${v}"`);
    return tags.length > 0 ? tags.join(", ") : undefined;
  };

  /** Registers or heartbeats, then fetches the config by version. Throws when the control plane fails. */
  const sync = async () => {
    if (!registered || !(await client.heartbeat())) {
      await client.register();
      registered = true;
    }
    let answer = await client.fetchConfig(ifNoneMatch());
    if (answer.kind === "not-registered") {
      await client.register();
      answer = await client.fetchConfig(ifNoneMatch());
    }
    if (answer.kind === "not-registered") throw new Error(`${client.proxyId} is not registered right after registering`);
    if (answer.kind === "config" && answer.version !== version) await accept(answer.body, answer.version, "control-plane");
  };

  const coldStart = async () => {
    checkedAt = now();
    try {
      await sync();
    } catch (cause) {
      log({ level: "error", event: "control_plane_unreachable", proxy: client.proxyId, error: String(cause) });
    }
    if (version !== undefined) return;
    const stored = await kept.load().catch((cause) => void log({ level: "warn", event: "kept_config_unreadable", error: String(cause) }));
    if (stored !== undefined) await accept(stored.config, stored.version, "kept");
  };

  const refresh = async () => {
    try {
      await sync();
    } catch (cause) {
      log({ level: "warn", event: "revalidate_failed", proxy: client.proxyId, version, error: String(cause) });
    }
  };

  const once = (work: () => Promise<void>) => {
    inflight ??= work().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  return {
    get version() {
      return version;
    },
    refresh: () => once(refresh),
    async ready(waitUntil) {
      if (version === undefined) {
        // A cold isolate waits for the control plane (or the kept config); after a failure it retries
        // at most once per refresh interval, answering without a config meanwhile.
        if (inflight === undefined && now() - checkedAt < options.refreshMs) return false;
        await once(coldStart);
        return version !== undefined;
      }
      if (inflight === undefined && now() - checkedAt >= options.refreshMs) {
        checkedAt = now();
        waitUntil(once(refresh));
      }
      return true;
    },
  };
}
