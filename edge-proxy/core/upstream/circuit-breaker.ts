/**
 * @module upstream/circuit-breaker
 * Envoy's cluster circuit breakers as Istio sets them from a DestinationRule's connectionPool:
 *
 *   active requests   ≤ min(maxConnections, http2MaxRequests): an HTTP/1 request holds a connection for
 *                     its whole life, so maxConnections bounds concurrent requests as well
 *   queued requests   ≤ http1MaxPendingRequests, waiting FIFO for a freed slot; past it: overflow (503 UO)
 *   active retries    ≤ maxRetries
 *
 * Istio leaves a limit at 2^32 − 1 (in effect unlimited; Envoy's own default is 1024) when the field is
 * absent or 0, and so does this module. Counting is per proxy, for the whole cluster.
 */
import type { CancelSignal } from "../proxy/cancellation.js";
import type { ConnectionPool } from "../config/proxy-config.js";
import type { RequestLease } from "./types.js";

/** Istio's default for every circuit-breaker threshold. */
export const UNLIMITED = 2 ** 32 - 1;

export interface CircuitBreakerLimits {
  /** Concurrent requests: min(maxConnections, http2MaxRequests). */
  maxRequests: number;
  /** Requests waiting for a slot: http1MaxPendingRequests. */
  maxPending: number;
  /** Concurrent retries: maxRetries. */
  maxRetries: number;
}

/** The limits for `pool`, absent and 0 fields meaning Istio's default (unlimited). Values are validated by the caller. */
export function circuitBreakerLimits(pool: ConnectionPool | undefined): CircuitBreakerLimits {
  return {
    maxRequests: Math.min(limit(pool?.maxConnections), limit(pool?.http2MaxRequests)),
    maxPending: limit(pool?.http1MaxPendingRequests),
    maxRetries: limit(pool?.maxRetries),
  };
}

function limit(value: number | undefined): number {
  return value === undefined || value <= 0 ? UNLIMITED : Math.min(value, UNLIMITED);
}

interface Waiter {
  resolve(lease: RequestLease): void;
  reject(reason: unknown): void;
  signal: CancelSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

export class CircuitBreaker {
  private activeRequests = 0;
  private activeRetries = 0;
  private pendingCount = 0;
  // FIFO of waiters, doubly linked so an aborted one leaves in O(1).
  private head: Waiter | undefined;
  private tail: Waiter | undefined;

  constructor(readonly limits: CircuitBreakerLimits) {}

  /** Requests holding a slot. */
  get active(): number {
    return this.activeRequests;
  }
  /** Requests queued for a slot. */
  get pending(): number {
    return this.pendingCount;
  }
  /** Retries in progress. */
  get retries(): number {
    return this.activeRetries;
  }

  /** See UpstreamCluster.admit. */
  admit(signal?: CancelSignal): Promise<RequestLease | "overflow"> {
    if (this.activeRequests < this.limits.maxRequests) {
      this.activeRequests++;
      return Promise.resolve(this.lease());
    }
    if (this.pendingCount >= this.limits.maxPending) return Promise.resolve("overflow");
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<RequestLease>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, prev: this.tail, next: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.unlink(waiter);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (this.tail === undefined) this.head = waiter;
      else this.tail.next = waiter;
      this.tail = waiter;
      this.pendingCount++;
    });
  }

  /** See UpstreamCluster.tryStartRetry. */
  tryStartRetry(): boolean {
    if (this.activeRetries >= this.limits.maxRetries) return false;
    this.activeRetries++;
    return true;
  }

  retryDone(): void {
    if (this.activeRetries > 0) this.activeRetries--;
  }

  private lease(): RequestLease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.handOver();
      },
    };
  }

  /** A slot is freed: the oldest waiter takes it, or it goes back. */
  private handOver(): void {
    const waiter = this.head;
    if (waiter === undefined) {
      this.activeRequests--;
      return;
    }
    this.unlink(waiter);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(this.lease());
  }

  private unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.pendingCount--;
  }
}
