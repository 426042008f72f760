/**
 * @module istio-values
 * Istio's scalar encodings turned into the proxy config's: Go-style durations (`1.5s`, `100ms`,
 * `1h30m`) into milliseconds, `Percent` messages into 0–100 numbers, and base64 bodies into text.
 */
import { num, obj } from "./raw.js";

const DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in whole milliseconds (rounded), or undefined when `value` is not a duration string. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string" || !DURATION.test(value)) return undefined;
  let total = 0;
  for (const m of value.matchAll(DURATION_PART)) total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  return Math.round(total);
}

/** Istio's `Percent { value }`, clamped to 0–100; undefined when absent. */
export function percentValue(value: unknown): number | undefined {
  const n = num(obj(value)?.value);
  return n === undefined ? undefined : Math.min(100, Math.max(0, n));
}

/** Decodes standard or URL-safe base64 (padding optional) as UTF-8 text. */
export function decodeBase64Text(encoded: string): string {
  const normal = encoded.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const padded = normal + "=".repeat((4 - (normal.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
