/**
 * @module distribution/config-hub
 * The core of the ConfigHub Durable Object (one instance for the mesh): holds every open push stream
 * and every held long-poll, and when told that something changed, rebuilds each watched proxy's config
 * (through the builder's cache, so proxies of one scope share one build) and delivers it to those whose
 * version changed, and only to those. Runtime-agnostic: the Worker's Durable Object class wraps it.
 *
 * Rebuilds run one at a time; notifications that arrive meanwhile are coalesced into one more run.
 * New watchers are checked by the same loop, so what one client receives is always in build order.
 * State is in memory: if the object is evicted its streams end, and clients reconnect with the last
 * version they hold (`Last-Event-ID`), missing nothing.
 */
import { type ConfigCache, configsForProxies } from "./build-config.js";
import type { BuiltConfig, ProxyRegistration } from "./contracts.js";
import { configEvent, HEARTBEAT_INTERVAL_MS, SSE_HEADERS, sseComment, streamPreamble } from "./deliver-sse.js";
import { recordSent } from "./deliver-status.js";
import { listRegistrations } from "../registry/registry-store.js";
import { readRevisions } from "./snapshot.js";
import type { WeftDatabase } from "../store/resource-store.js";

export interface ConfigHubDeps {
  db: WeftDatabase;
  now: () => Date;
  trustDomain: string;
  cache: ConfigCache;
  /**
   * A byte pipe for one push stream; default `new TransformStream()`. Workers pass a native one
   * (`IdentityTransformStream`), which the runtime pumps to the client without re-entering JavaScript.
   */
  newStream?: () => { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
}

/** Writes a stream may have pending before it counts as dead (its client stopped reading). */
const MAX_PENDING_WRITES = 64;
/** Pause before retrying a rebuild that failed (a D1 hiccup). */
const RETRY_DELAY_MS = 1_000;
/** Longest the bookkeeping of a push waits for its writes to drain before recording anyway. */
const RECORD_AFTER_WRITES_MS = 2_000;

/** A proxy waiting for its config: an open stream, or a held long-poll. */
interface Watcher {
  proxyId: string;
  registration: ProxyRegistration;
  /** The version the client holds (undefined: none). */
  version: string | undefined;
  /** Whether deliveries count as sent to the proxy (not when an admin is looking). */
  recordsSent: boolean;
  /** Hands over a new version: settles once written; undefined when the client is gone. */
  deliver(built: BuiltConfig): Promise<unknown> | undefined;
  /** Ends the watch (the proxy is no longer registered, or the hub drops it). */
  end(): void;
}

export class ConfigHubCore {
  readonly #deps: ConfigHubDeps;
  readonly #watchers = new Set<Watcher>();
  readonly #streams = new Set<Watcher & { heartbeat(): void }>();
  /** Watchers not yet checked against the current config. */
  readonly #fresh = new Set<Watcher>();
  #everyoneDirty = false;
  #running: Promise<void> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The registry revision the watchers' registrations were last reloaded at. */
  #registryRevision: number | undefined;
  /** Sent versions being recorded, one batch after another. */
  #recording: Promise<void> = Promise.resolve();
  readonly #encoder = new TextEncoder();

  constructor(deps: ConfigHubDeps) {
    this.#deps = deps;
  }

  /** Open streams and held long-polls, for diagnostics. */
  get watching(): { streams: number; waiters: number } {
    return { streams: this.#streams.size, waiters: this.#watchers.size - this.#streams.size };
  }

  /**
   * Something that may change proxies' configs was written: rebuild for every watcher and deliver what
   * changed. Resolves when a run that started after this call has finished.
   */
  notify(): Promise<void> {
    this.#everyoneDirty = true;
    return this.#kick();
  }

  /**
   * Opens a push stream (SSE) for a proxy. Its first event is the current config unless `lastVersion`
   * is already that; then one event per new version.
   */
  openStream(registration: ProxyRegistration, lastVersion: string | undefined, recordsSent: boolean): Response {
    const { readable, writable } = this.#deps.newStream?.() ?? new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    let open = true;
    let pending = 0;
    const write = (text: string): Promise<unknown> | undefined => {
      if (!open) return undefined;
      if (pending >= MAX_PENDING_WRITES) {
        stream.end();
        return undefined;
      }
      pending++;
      return writer.write(this.#encoder.encode(text)).then(
        () => void pending--,
        () => stream.end(),
      );
    };
    const stream = {
      proxyId: registration.id,
      registration,
      version: lastVersion,
      recordsSent,
      deliver: (built: BuiltConfig) => {
        const written = write(configEvent(built));
        if (written) stream.version = built.version;
        return written;
      },
      heartbeat: () => void write(sseComment("heartbeat")),
      end: () => {
        if (!open) return;
        open = false;
        this.#forget(stream);
        writer.close().catch(() => undefined);
      },
    };
    // The client went away: the runtime cancels the readable side, which errors the writer.
    writer.closed.catch(() => stream.end());
    write(streamPreamble());
    this.#streams.add(stream);
    this.#watch(stream);
    this.#startHeartbeat();
    return new Response(readable, { headers: SSE_HEADERS });
  }

  /**
   * Holds a long-poll: resolves with the proxy's config as soon as its version differs from `version`,
   * or with undefined when `timeoutMs` passes first (or the proxy stops being registered).
   */
  waitForChange(registration: ProxyRegistration, version: string, timeoutMs: number): Promise<BuiltConfig | undefined> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (built: BuiltConfig | undefined) => {
        if (timer !== undefined) clearTimeout(timer);
        this.#forget(waiter);
        resolve(built);
      };
      const waiter: Watcher = {
        proxyId: registration.id,
        registration,
        version,
        recordsSent: false, // the Worker records what it answers
        deliver: (built) => {
          finish(built);
          return Promise.resolve();
        },
        end: () => finish(undefined),
      };
      timer = setTimeout(() => finish(undefined), timeoutMs);
      this.#watch(waiter);
    });
  }

  #watch(watcher: Watcher): void {
    this.#watchers.add(watcher);
    this.#fresh.add(watcher);
    void this.#kick();
  }

  #forget(watcher: Watcher): void {
    this.#watchers.delete(watcher);
    this.#fresh.delete(watcher);
    this.#streams.delete(watcher as Watcher & { heartbeat(): void });
    if (this.#streams.size === 0 && this.#heartbeat !== undefined) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #startHeartbeat(): void {
    this.#heartbeat ??= setInterval(() => {
      for (const stream of [...this.#streams]) stream.heartbeat();
    }, HEARTBEAT_INTERVAL_MS);
  }

  /** Starts the rebuild loop unless it runs; it runs until nothing is left to check. */
  #kick(): Promise<void> {
    this.#running ??= (async () => {
      try {
        while (this.#everyoneDirty || this.#fresh.size > 0) {
          const everyone = this.#everyoneDirty;
          const targets = everyone ? [...this.#watchers] : [...this.#fresh];
          this.#everyoneDirty = false;
          this.#fresh.clear();
          try {
            await this.#refresh(targets, everyone);
          } catch (err) {
            console.error("config hub: rebuild failed; retrying", err);
            for (const t of targets) if (this.#watchers.has(t)) this.#fresh.add(t);
            await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
          }
        }
      } finally {
        // No await between the loop's last check and here, so no notification can slip in unseen.
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Builds the config of each target and delivers it where the version differs from the client's. */
  async #refresh(targets: Watcher[], afterWrite: boolean): Promise<void> {
    if (targets.length === 0) return;
    const { db, now, trustDomain, cache } = this.#deps;
    const at = now();
    const revisions = await readRevisions(db);
    // Registrations change only with the registry revision (heartbeats aside, which the build does not
    // read): reload them after a write that moved it. A new watcher brings its own, just read.
    let registrations: Map<string, ProxyRegistration> | undefined;
    if (afterWrite && revisions.registry !== this.#registryRevision) {
      registrations = new Map((await listRegistrations(db, at)).map((r) => [r.id, r]));
      this.#registryRevision = revisions.registry;
    }
    const live: Watcher[] = [];
    for (const watcher of targets) {
      if (!this.#watchers.has(watcher)) continue; // left while this run was starting
      const registration = registrations ? registrations.get(watcher.proxyId) : watcher.registration;
      if (!registration) {
        watcher.end();
        continue;
      }
      watcher.registration = registration;
      live.push(watcher);
    }
    const built = await configsForProxies({ db, now, trustDomain, cache }, live.map((w) => w.registration), revisions);
    const sent: { proxyId: string; version: string }[] = [];
    const writes: Promise<unknown>[] = [];
    live.forEach((watcher, i) => {
      const config = built[i]!;
      if (config.version === watcher.version || !this.#watchers.has(watcher)) return;
      const written = watcher.deliver(config);
      if (!written) return;
      writes.push(written);
      if (watcher.recordsSent) sent.push({ proxyId: watcher.proxyId, version: config.version });
    });
    // Bookkeeping once the pushes are on their way (it would compete with them), one batch after another.
    if (sent.length > 0) {
      const drained = Promise.race([Promise.allSettled(writes), new Promise((resolve) => setTimeout(resolve, RECORD_AFTER_WRITES_MS))]);
      this.#recording = this.#recording
        .then(() => drained)
        .then(() => recordSent(db, sent, at))
        .catch((err: unknown) => console.error("config hub: recording sent versions failed", err));
    }
  }
}
