// A clock for the agents whose time moves only when the test says: timers fire in order as it is
// advanced, so certificate rotation, heartbeats and backoff run without waiting.
import type { AgentClock } from "../../../../../edge-proxy/hosts/sidecar/agent/agent-clock.js";

export interface ManualTimer {
  id: number;
  at: number;
  delay: number;
}

export interface ManualClock extends AgentClock {
  /** Timers not yet fired nor cleared, earliest first. */
  pending(): ManualTimer[];
  /** Every timer ever set, in order. */
  history(): ManualTimer[];
  /** Moves time to the earliest pending timer and fires it; returns it (undefined when none). */
  fireNext(): ManualTimer | undefined;
  /** Moves time forward by `ms`, firing the timers due on the way (letting async work run between them). */
  advance(ms: number): Promise<void>;
  /** Jumps to `at` without firing anything. */
  set(at: number): void;
}

/** Lets promise chains and I/O callbacks queued now run. */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function manualClock(start = Date.parse("2030-01-01T00:00:00.000Z")): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, ManualTimer & { callback: () => void }>();
  const all: ManualTimer[] = [];
  const earliest = () => [...timers.values()].sort((a, b) => a.at - b.at || a.id - b.id)[0];
  const strip = ({ id, at, delay }: ManualTimer): ManualTimer => ({ id, at, delay });
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const timer = { id: ++seq, at: now + Math.max(0, ms), delay: ms, callback };
      timers.set(timer.id, timer);
      all.push(strip(timer));
      return timer.id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    pending: () => [...timers.values()].sort((a, b) => a.at - b.at || a.id - b.id).map(strip),
    history: () => [...all],
    fireNext() {
      const next = earliest();
      if (next === undefined) return undefined;
      timers.delete(next.id);
      now = Math.max(now, next.at);
      next.callback();
      return strip(next);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        const next = earliest();
        if (next === undefined || next.at > target) break;
        timers.delete(next.id);
        now = Math.max(now, next.at);
        next.callback();
        for (let i = 0; i < 5; i++) await tick();
      }
      now = target;
    },
    set(at) {
      now = at;
    },
  };
}
