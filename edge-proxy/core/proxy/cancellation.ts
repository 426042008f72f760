/**
 * @module proxy/cancellation
 * The router's own abort signals. A forwarded request needs an overall signal (route timeout, the
 * client going away) and one per attempt (per-try timeout); made per request, AbortController and its
 * EventTarget cost more than the rest of a route decision. A Cancellation is a plain object with the
 * part of AbortSignal the router, the circuit breaker, sleeps and senders use (`aborted`, `reason`,
 * `addEventListener("abort")`, `removeEventListener`); a web AbortSignal satisfies CancelSignal too,
 * so either can be passed where one is read.
 */

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index >= 0) listeners.splice(index, 1);
  }

  /** Aborts once: listeners run in the order added, each at most once. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  /** A web AbortSignal that follows this one (for a web Request). */
  toAbortSignal(): AbortSignal {
    const controller = new AbortController();
    if (this.aborted) controller.abort(this.reason);
    else this.addEventListener("abort", () => controller.abort(this.reason));
    return controller.signal;
  }
}
