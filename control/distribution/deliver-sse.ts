/**
 * @module distribution/deliver-sse
 * Server-Sent Events framing for the config push stream: one `config` event per version, whose `id`
 * is the version, so a client that reconnects with `Last-Event-ID` says which config it holds; and
 * comment lines for heartbeats.
 */
import type { BuiltConfig } from "./contracts.js";

/** Response headers of a push stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
};

/** Quiet time after which a stream gets a heartbeat comment (keeps idle connections and proxies open). */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** How long an EventSource waits before reconnecting after the stream ends. */
export const RECONNECT_DELAY_MS = 1_000;

/** `event: config` carrying one version of a proxy's config (JSON on one `data:` line). */
export function configEvent(built: BuiltConfig): string {
  return `event: config\nid: ${built.version}\ndata: ${JSON.stringify(built.config)}\n\n`;
}

/** A comment line, which clients ignore: `: heartbeat`. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** The stream's first bytes: the reconnect delay, and a comment so headers and a first chunk flush at once. */
export function streamPreamble(): string {
  return `retry: ${RECONNECT_DELAY_MS}\n${sseComment("weft config stream")}`;
}
