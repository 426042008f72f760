/**
 * @module distribution/deliver-wait
 * The long-poll's `wait` parameter (`?wait=30s`): how long `GET /v1/proxies/{id}/config` may hold a
 * request whose `If-None-Match` is the current version, waiting for a change to that proxy's config.
 */
import { BadRequest } from "../errors.js";
import { parseDurationMs } from "../validation/primitives.js";

/** The longest a long-poll is held; a client wanting longer polls again. */
export const MAX_WAIT_MS = 60_000;

/**
 * Milliseconds to wait: 0 when the parameter is absent. Takes a duration (`30s`, `1m`, `500ms`) or a
 * whole number of seconds; BadRequest naming `wait` for anything else or anything above 60s.
 */
export function parseWait(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDurationMs(text);
  if (ms === undefined) {
    throw new BadRequest(`wait must be a duration such as 30s, got "${text}"`, [{ field: "wait", message: `invalid duration "${text}": use e.g. 30s, 1m or 500ms` }]);
  }
  if (ms > MAX_WAIT_MS) {
    throw new BadRequest(`wait must be at most ${MAX_WAIT_MS / 1000}s, got "${text}"`, [{ field: "wait", message: `must be at most ${MAX_WAIT_MS / 1000}s` }]);
  }
  return ms;
}

/**
 * The versions an `If-None-Match` header names (`"abc"`, `W/"abc"`, a list, or `*`), without quotes;
 * a bare unquoted value is taken too, as clients write it by hand.
 */
export function etagsIn(header: string | undefined): Set<string> {
  const tags = new Set<string>();
  if (!header) return tags;
  for (const part of header.split(",")) {
    const tag = part.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
    if (tag) tags.add(tag);
  }
  return tags;
}

/** Whether an `If-None-Match` set names `version` (or is `*`). */
export function holdsVersion(tags: Set<string>, version: string): boolean {
  return tags.has(version) || tags.has("*");
}
