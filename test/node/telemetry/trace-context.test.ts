// Trace propagation for the upstream hop: W3C traceparent/tracestate and Zipkin B3 (single and multi),
// kept when valid with a new span id whose parent is the incoming span, started fresh when absent or
// invalid, and Envoy's x-request-id generated when missing. Randomness is a deterministic counter.
import { describe, expect, it } from "vitest";
import { isValidTraceparent, propagateTrace } from "../../../edge-proxy/core/telemetry/trace-context.js";

/** Deterministic bytes: 0x11, 0x12, ... continuing across calls. */
function counterBytes(start = 0x11): (n: number) => Uint8Array {
  let next = start;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}
const zeroBytes = (n: number) => new Uint8Array(n);

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE}-${SPAN}-01`;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const B3_HEADERS = ["x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3"];

function b3Of(headers: Headers): Record<string, string | null> {
  return Object.fromEntries(B3_HEADERS.map((h) => [h, headers.get(h)]));
}

describe("W3C traceparent", () => {
  it("keeps a valid trace id, makes a new span id whose parent is the incoming span, and leaves tracestate alone", () => {
    const headers = new Headers({ traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "x-request-id": "req-1" });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx).toEqual({ traceId: TRACE, spanId: "1112131415161718", parentSpanId: SPAN, sampled: true, requestId: "req-1" });
    expect(headers.get("traceparent")).toBe(`00-${TRACE}-1112131415161718-01`);
    expect(headers.get("tracestate")).toBe("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(headers.get("x-request-id")).toBe("req-1");
    // Only traceparent came: B3 is not added.
    expect(Object.values(b3Of(headers)).every((v) => v === null)).toBe(true);
  });

  it("carries the sampled flag, over the option", () => {
    const headers = new Headers({ traceparent: `00-${TRACE}-${SPAN}-00` });
    const ctx = propagateTrace(headers, counterBytes(), { sampled: true });
    expect(ctx.sampled).toBe(false);
    expect(headers.get("traceparent")).toMatch(/-00$/);
  });

  it("accepts a later version's longer header and writes version 00", () => {
    const headers = new Headers({ traceparent: `01-${TRACE}-${SPAN}-01-what-the-future-holds` });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx.traceId).toBe(TRACE);
    expect(ctx.parentSpanId).toBe(SPAN);
    expect(headers.get("traceparent")).toBe(`00-${TRACE}-${ctx.spanId}-01`);
  });

  it.each([
    ["too short", `00-${TRACE}-${SPAN.slice(1)}-01`],
    ["too long for version 00", `${TRACEPARENT}-extra`],
    ["uppercase hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["non-hex", `00-${TRACE.slice(0, -1)}g-${SPAN}-01`],
    ["wrong separators", `00_${TRACE}_${SPAN}_01`],
    ["non-hex flags", `00-${TRACE}-${SPAN}-0x`],
    ["later version without a dash after the flags", `01-${TRACE}-${SPAN}-01x`],
  ])("treats an invalid traceparent (%s) as absent: a new trace starts and tracestate is dropped", (_why, value) => {
    expect(isValidTraceparent(value)).toBe(false);
    const headers = new Headers({ traceparent: value, tracestate: "congo=t61rcWkgMzE" });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx.traceId).not.toBe(TRACE);
    expect(ctx.traceId).toMatch(HEX32);
    expect(ctx.parentSpanId).toBeUndefined();
    expect(headers.get("traceparent")).toBe(`00-${ctx.traceId}-${ctx.spanId}-00`);
    expect(headers.get("tracestate")).toBeNull();
    expect(headers.get("x-b3-traceid")).toBe(ctx.traceId);
  });
});

describe("B3", () => {
  it("continues a single b3 header, rewriting it and writing the multi headers and traceparent", () => {
    const headers = new Headers({ b3: `${TRACE}-${SPAN}-1-0000000000000abc` });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
    expect(ctx.spanId).toMatch(HEX16);
    expect(ctx.spanId).not.toBe(SPAN);
    expect(headers.get("traceparent")).toBe(`00-${TRACE}-${ctx.spanId}-01`);
    expect(b3Of(headers)).toEqual({
      "x-b3-traceid": TRACE,
      "x-b3-spanid": ctx.spanId,
      "x-b3-parentspanid": SPAN,
      "x-b3-sampled": "1",
      "x-b3-flags": null,
      b3: `${TRACE}-${ctx.spanId}-1-${SPAN}`,
    });
  });

  it("pads a 64-bit trace id to 32 hex for traceparent and keeps it 64-bit in B3", () => {
    const headers = new Headers({ b3: `463ac35c9f6413ad-${SPAN}` });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx.traceId).toBe("0000000000000000463ac35c9f6413ad");
    expect(ctx.sampled).toBe(false); // deferred decision, no option
    expect(headers.get("traceparent")).toBe(`00-0000000000000000463ac35c9f6413ad-${ctx.spanId}-00`);
    expect(headers.get("x-b3-traceid")).toBe("463ac35c9f6413ad");
    expect(headers.get("b3")).toBe(`463ac35c9f6413ad-${ctx.spanId}-0-${SPAN}`);
  });

  it("continues multi headers (64-bit, uppercase accepted) with the incoming sampling decision", () => {
    const headers = new Headers({ "x-b3-traceid": "463AC35C9F6413AD", "x-b3-spanid": SPAN, "x-b3-parentspanid": "0000000000000abc", "x-b3-sampled": "0" });
    const ctx = propagateTrace(headers, counterBytes(), { sampled: true });
    expect(ctx).toMatchObject({ traceId: "0000000000000000463ac35c9f6413ad", parentSpanId: SPAN, sampled: false });
    expect(b3Of(headers)).toEqual({
      "x-b3-traceid": "463ac35c9f6413ad",
      "x-b3-spanid": ctx.spanId,
      "x-b3-parentspanid": SPAN,
      "x-b3-sampled": "0",
      "x-b3-flags": null,
      b3: null,
    });
    expect(headers.get("traceparent")).toBe(`00-0000000000000000463ac35c9f6413ad-${ctx.spanId}-00`);
  });

  it("prefers a valid traceparent over B3 and rewrites B3 to match it", () => {
    const headers = new Headers({ traceparent: TRACEPARENT, "x-b3-traceid": "463ac35c9f6413ad", "x-b3-spanid": "1111111111111111", "x-b3-sampled": "0" });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, sampled: true });
    expect(headers.get("x-b3-traceid")).toBe(TRACE);
    expect(headers.get("x-b3-spanid")).toBe(ctx.spanId);
    expect(headers.get("x-b3-parentspanid")).toBe(SPAN);
    expect(headers.get("x-b3-sampled")).toBe("1");
  });

  it("honours a sampling-only b3 header, debug included, on a new trace", () => {
    const debug = new Headers({ b3: "d" });
    const ctx = propagateTrace(debug, counterBytes());
    expect(ctx.sampled).toBe(true);
    expect(ctx.parentSpanId).toBeUndefined();
    expect(debug.get("x-b3-flags")).toBe("1");
    expect(debug.get("b3")).toBe(`${ctx.traceId}-${ctx.spanId}-d`);
    const deny = new Headers({ b3: "0" });
    expect(propagateTrace(deny, counterBytes(), { sampled: true }).sampled).toBe(false);
  });

  it.each([
    ["span id of 8 hex", { b3: `${TRACE}-b7ad6b71-1` }],
    ["trace id of 20 hex", { b3: `${TRACE.slice(0, 20)}-${SPAN}` }],
    ["all-zero trace id", { b3: `${"0".repeat(32)}-${SPAN}` }],
    ["bad sampling state", { b3: `${TRACE}-${SPAN}-x` }],
    ["multi with non-hex span", { "x-b3-traceid": TRACE, "x-b3-spanid": "zzzzzzzzzzzzzzzz" }],
    ["multi without span", { "x-b3-traceid": TRACE }],
    ["multi with all-zero span", { "x-b3-traceid": TRACE, "x-b3-spanid": "0".repeat(16) }],
  ])("starts a new trace on invalid B3 (%s)", (_why, init) => {
    const headers = new Headers({ ...init, "x-b3-parentspanid": "0000000000000abc" });
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx.traceId).not.toBe(TRACE);
    expect(ctx.parentSpanId).toBeUndefined();
    expect(headers.get("x-b3-traceid")).toBe(ctx.traceId);
    expect(headers.get("x-b3-parentspanid")).toBeNull();
  });
});

describe("a request without trace headers", () => {
  it("gets a new trace in both formats, non-zero ids of the right length, and an x-request-id", () => {
    const headers = new Headers();
    const ctx = propagateTrace(headers, counterBytes());
    expect(ctx.traceId).toBe("1112131415161718191a1b1c1d1e1f20");
    expect(ctx.spanId).toBe("2122232425262728");
    expect(ctx.parentSpanId).toBeUndefined();
    expect("parentSpanId" in ctx).toBe(false);
    expect(ctx.sampled).toBe(false);
    expect(ctx.requestId).toMatch(UUID_V4);
    expect(ctx.requestId).toBe("292a2b2c-2d2e-4f30-b132-333435363738");
    expect(headers.get("traceparent")).toBe(`00-${ctx.traceId}-${ctx.spanId}-00`);
    expect(headers.get("x-request-id")).toBe(ctx.requestId);
    expect(b3Of(headers)).toEqual({
      "x-b3-traceid": ctx.traceId,
      "x-b3-spanid": ctx.spanId,
      "x-b3-parentspanid": null,
      "x-b3-sampled": "0",
      "x-b3-flags": null,
      b3: null,
    });
  });

  it("samples by the option when nothing was decided upstream", () => {
    const headers = new Headers();
    expect(propagateTrace(headers, counterBytes(), { sampled: true }).sampled).toBe(true);
    expect(headers.get("traceparent")).toMatch(/-01$/);
    expect(headers.get("x-b3-sampled")).toBe("1");
  });

  it("never writes all-zero ids, even from all-zero random bytes", () => {
    const headers = new Headers();
    const ctx = propagateTrace(headers, zeroBytes);
    expect(ctx.traceId).toMatch(HEX32);
    expect(ctx.spanId).toMatch(HEX16);
    expect(/^0+$/.test(ctx.traceId)).toBe(false);
    expect(/^0+$/.test(ctx.spanId)).toBe(false);
    expect(isValidTraceparent(headers.get("traceparent")!)).toBe(true);
    expect(ctx.requestId).toMatch(UUID_V4);
  });

  it("keeps an incoming x-request-id and makes a new span per hop", () => {
    const random = counterBytes();
    const headers = new Headers({ "x-request-id": "3b3c6a4e-8f1d-4f57-9f0e-2a7f6c1d9b11" });
    const first = propagateTrace(headers, random);
    const second = propagateTrace(headers, random);
    expect(first.requestId).toBe("3b3c6a4e-8f1d-4f57-9f0e-2a7f6c1d9b11");
    expect(second.requestId).toBe(first.requestId);
    expect(second.traceId).toBe(first.traceId);
    expect(second.parentSpanId).toBe(first.spanId);
    expect(second.spanId).not.toBe(first.spanId);
  });
});
