/**
 * @module hosts/sidecar/traffic/limited-log
 * Per-connection warnings (a refused plain-text client, a failed handshake, a loop) could flood the
 * log when a peer retries in a tight loop: this writes the first line for each key (event and what the
 * caller names, e.g. port, source and reason) and then at most one per interval, counting the lines it
 * held back in the next one's `suppressed` field.
 */
import type { SidecarLog } from "../sidecar-contracts.js";

export type LimitedLog = (key: string, event: Record<string, unknown>) => void;

/** Keys remembered at most; beyond that the memory is reset (a flood of distinct keys logs again). */
const MAX_KEYS = 4096;

export function limitedLog(log: SidecarLog, intervalMs: number): LimitedLog {
  if (intervalMs <= 0) return (_key, event) => log(event);
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (key, event) => {
    const now = Date.now();
    const entry = seen.get(key);
    if (entry !== undefined && now - entry.at < intervalMs) {
      entry.suppressed++;
      return;
    }
    if (seen.size >= MAX_KEYS) seen.clear();
    seen.set(key, { at: now, suppressed: 0 });
    log(entry !== undefined && entry.suppressed > 0 ? { ...event, suppressed: entry.suppressed } : event);
  };
}
