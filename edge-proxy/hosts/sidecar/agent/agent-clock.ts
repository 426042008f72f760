/**
 * @module hosts/sidecar/agent/agent-clock
 * The time the sidecar's agents run on: the current time and one-shot timers. Injected, so tests can
 * drive certificate rotation, heartbeats and backoff without waiting; the system clock chains timers
 * longer than Node allows (about 24.8 days), since a certificate may be renewed later than that.
 */

export type TimerHandle = unknown;

export interface AgentClock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's setTimeout fires at once beyond this. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export const systemClock: AgentClock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle: { timer?: ReturnType<typeof setTimeout> } = {};
    const due = Date.now() + ms;
    const arm = (wait: number) => {
      handle.timer = setTimeout(() => {
        const left = due - Date.now();
        if (left > 0) arm(left);
        else callback();
      }, Math.min(Math.max(0, wait), LONGEST_TIMER_MS));
    };
    arm(ms);
    return handle;
  },
  clearTimeout(handle) {
    const timer = (handle as { timer?: ReturnType<typeof setTimeout> } | undefined)?.timer;
    if (timer !== undefined) clearTimeout(timer);
  },
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). */
export function sleep(clock: AgentClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The operation took longer than the agent waits for an answer. */
export class DeadlineExceeded extends Error {
  readonly code = "DeadlineExceeded";
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "DeadlineExceeded";
  }
}

/**
 * A signal that aborts when `parent` does or `ms` pass (then with DeadlineExceeded), so a request to a
 * control plane that accepted the connection and went silent does not hold an agent. It runs on real
 * time by default: it guards I/O, not the agent's schedule. Call `clear()` once the answer is in.
 */
export function deadline(ms: number, parent?: AbortSignal, clock: AgentClock = systemClock): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParent();
  else parent?.addEventListener("abort", onParent, { once: true });
  const timer = clock.setTimeout(() => controller.abort(new DeadlineExceeded(ms)), ms);
  return {
    signal: controller.signal,
    clear() {
      clock.clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}
