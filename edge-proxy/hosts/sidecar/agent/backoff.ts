/**
 * @module hosts/sidecar/agent/backoff
 * How long the agents wait before trying the control plane again: exponential from `initialMs`,
 * doubling per consecutive failure up to `maxMs`, with ±20% jitter so a fleet of sidecars that lost the
 * control plane together does not return in lockstep.
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** 1 s doubling to 60 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000 };

/** The wait after the `failures`-th consecutive failure (1 for the first); `random` in [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failures - 1));
  return Math.max(0, Math.min(policy.maxMs, Math.round(base * (0.8 + 0.4 * random()))));
}
