/**
 * @module telemetry/trace-context
 * Trace propagation for the upstream hop, as a sidecar does it: read the incoming W3C Trace Context
 * (`traceparent`, `tracestate`) or Zipkin B3 (single `b3` or multi `x-b3-*`) headers, keep the trace, make
 * a new span id for this hop whose parent is the incoming span, and write the headers back consistently.
 * Also generates Envoy's `x-request-id` (a UUID v4) when the request has none.
 *
 * Invalid incoming ids (wrong length, non-hex, all zeros, traceparent version ff) count as absent: a new
 * trace starts. Randomness is passed in so the core stays runtime-neutral and tests are deterministic.
 */
import type { HeaderMap } from "../http/header-list.js";

/** The trace this hop belongs to, as written to the upstream request. */
export interface TraceContext {
  /** 32 lowercase hex; a 64-bit B3 trace id is left-padded with zeros (as in traceparent). */
  traceId: string;
  /** 16 lowercase hex: the span id generated for this hop. */
  spanId: string;
  /** The incoming span id, absent when this hop starts the trace. */
  parentSpanId?: string;
  sampled: boolean;
  /** The request's x-request-id, kept or generated. */
  requestId: string;
}

export interface PropagateTraceOptions {
  /** The sampling decision for a request that arrives without one; default false. An incoming decision wins. */
  sampled?: boolean;
}

const HEX_DIGITS = "0123456789abcdef";
const ZERO_PAD_64 = "0000000000000000";

/**
 * Updates `headers` for the upstream hop and returns the trace context written.
 *
 * The trace id comes from a valid `traceparent`, else `b3`, else `x-b3-traceid`/`x-b3-spanid`; with none a
 * new one is made. `traceparent` is always written; B3 multi headers are written when the request came
 * with B3 or with no valid trace headers at all (Istio's Zipkin default propagates B3), and an incoming
 * single `b3` header is rewritten too. `tracestate` is passed through untouched with a valid traceparent
 * and dropped otherwise, as the W3C processing model requires.
 */
export function propagateTrace(
  headers: HeaderMap,
  randomBytes: (n: number) => Uint8Array,
  options?: PropagateTraceOptions,
): TraceContext {
  let traceId: string | undefined;
  let b3TraceId: string | undefined; // as it goes in x-b3-traceid: 16 or 32 hex
  let parentSpanId: string | undefined;
  let sampled: boolean | undefined;
  let debug = false;

  const traceparent = headers.get("traceparent");
  const validTraceparent = traceparent !== null && isValidTraceparent(traceparent);
  if (validTraceparent) {
    traceId = traceparent.slice(3, 35);
    parentSpanId = traceparent.slice(36, 52);
    sampled = (hexValue(traceparent.charCodeAt(54)) & 1) === 1;
  }

  const single = headers.get("b3");
  const multiTrace = headers.get("x-b3-traceid");
  const multiSpan = multiTrace === null ? null : headers.get("x-b3-spanid"); // alone it means nothing
  const multiSampled = headers.get("x-b3-sampled");
  const multiFlags = headers.get("x-b3-flags");
  const cameWithB3 = single !== null || multiTrace !== null || multiSampled !== null || multiFlags !== null;

  if (cameWithB3) {
    let b3Ids: { traceId: string; spanId: string } | undefined;
    let b3Sampling: string | undefined;
    if (single !== null) {
      const parsed = parseB3Single(single);
      if (parsed) {
        b3Ids = parsed.ids;
        b3Sampling = parsed.sampling;
      }
    }
    if (b3Ids === undefined && b3Sampling === undefined) {
      if (multiTrace !== null && multiSpan !== null) {
        const t = normalizeB3Id(multiTrace, true);
        const s = normalizeB3Id(multiSpan, false);
        if (t !== undefined && s !== undefined) b3Ids = { traceId: t, spanId: s };
      }
      if (multiFlags === "1") b3Sampling = "d";
      else if (multiSampled === "1" || multiSampled === "true") b3Sampling = "1";
      else if (multiSampled === "0" || multiSampled === "false") b3Sampling = "0";
    }
    if (!validTraceparent && b3Ids !== undefined) {
      b3TraceId = b3Ids.traceId;
      traceId = b3TraceId.length === 16 ? ZERO_PAD_64 + b3TraceId : b3TraceId;
      parentSpanId = b3Ids.spanId;
    }
    debug = b3Sampling === "d";
    if (sampled === undefined && b3Sampling !== undefined) sampled = b3Sampling !== "0";
  }

  traceId ??= randomHex(randomBytes, 16);
  b3TraceId ??= traceId;
  const spanId = randomHex(randomBytes, 8);
  const isSampled = sampled ?? options?.sampled ?? false;

  headers.set("traceparent", `00-${traceId}-${spanId}-${isSampled ? "01" : "00"}`);
  if (!validTraceparent) headers.delete("tracestate");

  if (cameWithB3 || !validTraceparent) {
    headers.set("x-b3-traceid", b3TraceId);
    headers.set("x-b3-spanid", spanId);
    if (parentSpanId === undefined) headers.delete("x-b3-parentspanid");
    else headers.set("x-b3-parentspanid", parentSpanId);
    headers.set("x-b3-sampled", isSampled ? "1" : "0");
    if (debug && isSampled) headers.set("x-b3-flags", "1");
    if (single !== null) {
      const sampling = debug && isSampled ? "d" : isSampled ? "1" : "0";
      headers.set("b3", `${b3TraceId}-${spanId}-${sampling}${parentSpanId === undefined ? "" : `-${parentSpanId}`}`);
    }
  }

  let requestId = headers.get("x-request-id");
  if (!requestId) {
    requestId = uuidV4(randomBytes(16));
    headers.set("x-request-id", requestId);
  }

  const context: TraceContext = { traceId, spanId, sampled: isSampled, requestId };
  if (parentSpanId !== undefined) context.parentSpanId = parentSpanId;
  return context;
}

/**
 * Whether `value` is a traceparent this proxy can continue: `vv-<32 hex>-<16 hex>-<2 hex>`, lowercase, ids
 * not all zero, version not ff; version 00 exactly 55 characters, a later version at least that with "-"
 * after the flags when longer (the spec's forward compatibility).
 */
export function isValidTraceparent(value: string): boolean {
  const length = value.length;
  if (length < 55) return false;
  if (!isHex(value, 0, 2, false) || value.startsWith("ff")) return false;
  if (value.startsWith("00") ? length !== 55 : length > 55 && value.charCodeAt(55) !== 45 /* - */) return false;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return false;
  return isHex(value, 3, 35, false) && !isZero(value, 3, 35) && isHex(value, 36, 52, false) && !isZero(value, 36, 52) && isHex(value, 53, 55, false);
}

/** `{trace}-{span}[-{sampling}[-{parent}]]` or a lone sampling state (`0`, `1`, `d`). Undefined when invalid. */
function parseB3Single(value: string): { ids?: { traceId: string; spanId: string }; sampling?: string } | undefined {
  if (value.length === 1) return isSamplingState(value) ? { sampling: value } : undefined;
  const parts = value.split("-");
  if (parts.length < 2 || parts.length > 4) return undefined;
  const traceId = normalizeB3Id(parts[0]!, true);
  const spanId = normalizeB3Id(parts[1]!, false);
  if (traceId === undefined || spanId === undefined) return undefined;
  const sampling = parts[2];
  if (sampling !== undefined && !isSamplingState(sampling)) return undefined;
  if (parts[3] !== undefined && normalizeB3Id(parts[3], false) === undefined) return undefined;
  return sampling === undefined ? { ids: { traceId, spanId } } : { ids: { traceId, spanId }, sampling };
}

function isSamplingState(value: string): boolean {
  return value === "0" || value === "1" || value === "d";
}

/** A B3 id in lowercase (trace: 16 or 32 hex; span: 16), or undefined when malformed or all zeros. */
function normalizeB3Id(value: string, trace: boolean): string | undefined {
  const length = value.length;
  if (!(length === 16 || (trace && length === 32))) return undefined;
  if (!isHex(value, 0, length, true) || isZero(value, 0, length)) return undefined;
  return value.toLowerCase();
}

function isHex(value: string, start: number, end: number, allowUpper: boolean): boolean {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (allowUpper && c >= 65 && c <= 70))) return false;
  }
  return true;
}

function isZero(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (value.charCodeAt(i) !== 48) return false;
  return true;
}

/** The value of a lowercase hex digit's char code. */
function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

/** `n` random bytes as 2n lowercase hex, never all zeros (an invalid id). */
function randomHex(randomBytes: (n: number) => Uint8Array, n: number): string {
  const bytes = randomBytes(n);
  if (bytes.length < n) throw new TypeError(`randomBytes(${n}) returned ${bytes.length} bytes`);
  let hex = "";
  let any = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    any |= b;
    hex += HEX_DIGITS.charAt(b >> 4) + HEX_DIGITS.charAt(b & 15);
  }
  return any === 0 ? `${hex.slice(0, -1)}1` : hex;
}

/** RFC 9562 version 4 UUID text from 16 random bytes. */
function uuidV4(bytes: Uint8Array): string {
  if (bytes.length < 16) throw new TypeError(`randomBytes(16) returned ${bytes.length} bytes`);
  let text = "";
  for (let i = 0; i < 16; i++) {
    let b = bytes[i]!;
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) text += "-";
    text += HEX_DIGITS.charAt(b >> 4) + HEX_DIGITS.charAt(b & 15);
  }
  return text;
}
