/**
 * @module cli/human-age
 * The AGE column: kubectl's `HumanDuration` (`45s`, `3m20s`, `17m`, `5h12m`, `3d4h`, `2y31d`).
 */

/** Formats the time from `since` (an RFC 3339 timestamp) to `now`; `<unknown>` when it is not a date. */
export function humanAge(since: unknown, now: Date): string {
  if (typeof since !== "string") return "<unknown>";
  const then = Date.parse(since);
  if (Number.isNaN(then)) return "<unknown>";
  return humanDuration(now.getTime() - then);
}

/** kubectl's rounding: precise while short, coarser as the duration grows. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, "y", days % 365, "d");
  return `${years}y`;
}

function withRest(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}
