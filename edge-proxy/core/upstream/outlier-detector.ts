/**
 * @module upstream/outlier-detector
 * Passive health, Envoy's outlier detection as Istio configures it (split_external_local_origin_errors
 * off, so a connect failure or reset counts as a 503 and a timeout as a 504):
 *
 * - Per endpoint, consecutive 5xx (500–599) and consecutive gateway errors (502, 503, 504); a response
 *   below 500 resets both, a non-gateway 5xx resets the gateway count. Reaching consecutive5xxErrors or
 *   consecutiveGatewayErrors (each when > 0) asks for an ejection; the count that asked restarts either way.
 * - An ejection is refused when it would take the ejected share past maxEjectionPercent: Envoy (since
 *   1.27) ejects only while (ejected + 1) / endpoints × 100 ≤ maxEjectionPercent. Its always_eject_one_host
 *   (off by default, and Istio has no field for it) is not modelled: with Istio's 10% default, a cluster
 *   of fewer than 10 endpoints ejects none. (Envoy before 1.27 tested ejected / endpoints < max, which
 *   let the first ejection through.)
 * - An ejected endpoint stays out for baseEjectionTime × its ejection multiplier (capped at Envoy's
 *   default max_ejection_time, 300 s, or the base time when larger). The multiplier grows by one with each
 *   ejection and shrinks by one at every interval tick the endpoint is back in and has been for at least
 *   one interval, never below 0.
 * - Envoy returns endpoints only on its interval timer. Ticks are modelled lazily: they fall at
 *   first use + k × intervalMs, and every call first replays the ticks that have passed by `now`.
 * - Panic (Istio's minHealthPercent, Envoy's healthy_panic_threshold): while the non-ejected share is
 *   below it, ejections are ignored and all endpoints are balanced over. 0 never panics, so with every
 *   endpoint ejected there is no healthy one (503 UH).
 */
import type { OutlierDetection } from "../config/proxy-config.js";
import type { AttemptOutcome } from "./types.js";

/** Envoy's default max_ejection_time. */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

export class OutlierDetector {
  /** 1 while endpoint i is ejected. */
  readonly ejectedFlags: Uint8Array;
  /** Number of endpoints ejected. */
  ejectedCount = 0;

  private readonly n: number;
  private readonly consecutive5xx: Int32Array;
  private readonly consecutiveGateway: Int32Array;
  private readonly multiplier: Int32Array;
  private readonly ejectedAt: Float64Array;
  /** NaN until the endpoint first returns from an ejection. */
  private readonly returnedAt: Float64Array;
  private readonly threshold5xx: number;
  private readonly thresholdGateway: number;
  private readonly interval: number;
  private readonly base: number;
  private readonly maxEjection: number;
  private origin = NaN;
  private nextTick = Infinity;
  /** Endpoints with a multiplier above 0 (ticks have work only while this or ejectedCount is > 0). */
  private multiplied = 0;

  constructor(
    readonly config: OutlierDetection,
    endpointCount: number,
  ) {
    const n = endpointCount;
    this.n = n;
    this.ejectedFlags = new Uint8Array(n);
    this.consecutive5xx = new Int32Array(n);
    this.consecutiveGateway = new Int32Array(n);
    this.multiplier = new Int32Array(n);
    this.ejectedAt = new Float64Array(n);
    this.returnedAt = new Float64Array(n).fill(NaN);
    this.threshold5xx = config.consecutive5xxErrors ?? 0;
    this.thresholdGateway = config.consecutiveGatewayErrors ?? 0;
    this.interval = config.intervalMs;
    this.base = config.baseEjectionTimeMs;
    this.maxEjection = Math.max(DEFAULT_MAX_EJECTION_TIME_MS, config.baseEjectionTimeMs);
  }

  /** Whether the cluster is in panic: fewer than minHealthPercent of the endpoints are not ejected. */
  inPanic(): boolean {
    return this.ejectedCount > 0 && (100 * (this.n - this.ejectedCount)) / this.n < this.config.minHealthPercent;
  }

  /** Endpoint i's current ejection multiplier (diagnostics, tests). */
  ejectionMultiplier(index: number): number {
    return this.multiplier[index]!;
  }

  /** Replays the interval ticks up to `now`: returns endpoints whose time is up, shrinks multipliers. */
  advance(now: number): void {
    if (now < this.nextTick) {
      if (Number.isNaN(this.origin)) {
        this.origin = now;
        this.nextTick = now + this.interval;
      }
      return;
    }
    const interval = this.interval;
    const lastTick = this.nextTick + Math.floor((now - this.nextTick) / interval) * interval;
    const firstTick = this.nextTick;
    this.nextTick = lastTick + interval;
    if (this.ejectedCount === 0 && this.multiplied === 0) return;
    for (let i = 0; i < this.n; i++) {
      if (this.ejectedFlags[i] === 1) {
        const due = this.ejectedAt[i]! + Math.min(this.base * this.multiplier[i]!, this.maxEjection);
        const tick = this.tickAtOrAfter(Math.max(due, firstTick));
        if (tick > lastTick) continue;
        this.ejectedFlags[i] = 0;
        this.ejectedCount--;
        this.consecutive5xx[i] = 0;
        this.consecutiveGateway[i] = 0;
        this.returnedAt[i] = tick;
      }
      // Back in: one step down per tick from one interval after its return.
      const returned = this.returnedAt[i]!;
      if (this.multiplier[i]! === 0 || Number.isNaN(returned)) continue;
      const from = Math.max(firstTick, this.tickAtOrAfter(returned + interval));
      if (from > lastTick) continue;
      const steps = Math.floor((lastTick - from) / interval) + 1;
      const left = Math.max(0, this.multiplier[i]! - steps);
      if (left === 0) this.multiplied--;
      this.multiplier[i] = left;
    }
  }

  /** Feeds one attempt's outcome for endpoint i, at `now` (after `advance(now)`); ejects when a threshold is reached. */
  record(index: number, outcome: AttemptOutcome, now: number): void {
    const status = outcome.kind === "response" ? outcome.status : outcome.kind === "timeout" ? 504 : 503;
    if (status < 500 || status > 599) {
      this.consecutive5xx[index] = 0;
      this.consecutiveGateway[index] = 0;
      return;
    }
    if (status >= 502 && status <= 504) {
      const count = (this.consecutiveGateway[index] = this.consecutiveGateway[index]! + 1);
      if (count === this.thresholdGateway) {
        this.tryEject(index, now);
        this.consecutiveGateway[index] = 0;
      }
    } else {
      this.consecutiveGateway[index] = 0;
    }
    const count = (this.consecutive5xx[index] = this.consecutive5xx[index]! + 1);
    if (count === this.threshold5xx) {
      this.tryEject(index, now);
      this.consecutive5xx[index] = 0;
    }
  }

  private tryEject(index: number, now: number): void {
    // Envoy ignores a threshold reached by an endpoint that is already out (late answers of old attempts).
    if (this.ejectedFlags[index] === 1) return;
    if ((100 * (this.ejectedCount + 1)) / this.n > this.config.maxEjectionPercent) return;
    this.ejectedFlags[index] = 1;
    this.ejectedCount++;
    this.ejectedAt[index] = now;
    const multiplier = this.multiplier[index]!;
    if (multiplier * this.base < this.maxEjection + this.base) {
      if (multiplier === 0) this.multiplied++;
      this.multiplier[index] = multiplier + 1;
    }
  }

  private tickAtOrAfter(time: number): number {
    return this.origin + Math.ceil((time - this.origin) / this.interval) * this.interval;
  }
}
