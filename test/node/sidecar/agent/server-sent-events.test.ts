// The event-stream reader: the HTML standard's parsing rules (line endings, multi-line data, ids that
// persist, comments, retry), whatever the chunk boundaries.
import { describe, expect, it } from "vitest";
import { readServerSentEvents, type ServerSentItem } from "../../../../edge-proxy/hosts/server-sent-events.js";

function body(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function read(chunks: (string | Uint8Array)[]): Promise<ServerSentItem[]> {
  const items: ServerSentItem[] = [];
  for await (const item of readServerSentEvents(body(chunks))) items.push(item);
  return items;
}

const STREAM = 'retry: 1000\n: weft config stream\n\nevent: config\nid: v1\ndata: {"a":1}\n\n: heartbeat\n\nevent: config\nid: v2\ndata: {"a":\ndata: 2}\n\n';
const EXPECTED: ServerSentItem[] = [
  { kind: "retry", ms: 1000 },
  { kind: "comment", text: "weft config stream" },
  { kind: "event", event: "config", data: '{"a":1}', lastEventId: "v1" },
  { kind: "comment", text: "heartbeat" },
  { kind: "event", event: "config", data: '{"a":\n2}', lastEventId: "v2" },
];

describe("readServerSentEvents", () => {
  it("reads the control plane's framing", async () => {
    expect(await read([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same items for every way of splitting the bytes, and for CRLF and CR line endings", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      expect(await read([bytes.slice(0, cut), bytes.slice(cut)])).toEqual(EXPECTED);
    }
    expect(await read([...STREAM.replace(/\n/g, "\r\n")])).toEqual(EXPECTED);
    expect(await read([STREAM.replace(/\n/g, "\r")])).toEqual(EXPECTED);
    // A multi-byte character split across chunks.
    const text = new TextEncoder().encode("data: café\n\n");
    expect(await read([text.slice(0, 9), text.slice(9)])).toEqual([{ kind: "event", event: "message", data: "café", lastEventId: "" }]);
  });

  it("keeps the last id for later events, ignores unknown fields, and drops an event the stream cut off", async () => {
    expect(await read(["id: 7\ndata: a\n\nfoo: bar\ndata\n\ndata: never dispatched"])).toEqual([
      { kind: "event", event: "message", data: "a", lastEventId: "7" },
      { kind: "event", event: "message", data: "", lastEventId: "7" },
    ]);
  });

  it("stops the body when the reader leaves early", async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const item of readServerSentEvents(stream)) {
      expect(item.kind).toBe("event");
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe("aborting", () => {
  it("throws the abort and cancels the body, whatever the transport does with the signal", async () => {
    let cancelled: unknown;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(": hello\n\n"));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const controller = new AbortController();
    const items = readServerSentEvents(stream, controller.signal);
    expect((await items.next()).value).toEqual({ kind: "comment", text: "hello" });
    const pending = items.next();
    controller.abort(new Error("stopping (test)"));
    await expect(pending).rejects.toThrow("stopping (test)");
    expect(String(cancelled)).toContain("stopping (test)");
  });
});
