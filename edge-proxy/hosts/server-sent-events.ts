/**
 * @module hosts/server-sent-events
 * Reads a `text/event-stream` body as the HTML standard's EventSource parser does: lines end in CRLF,
 * LF or CR; `data:` lines join with "\n"; `event:` names the event (default `message`); `id:` sets the
 * last event id, which stays until another `id:` changes it; `retry:` sets the reconnect delay; a blank
 * line dispatches; lines starting with `:` are comments. Comments are yielded too, since a stream's
 * heartbeats are comments and a reader uses them to tell a quiet stream from a dead one. Web APIs only.
 */

export type ServerSentItem =
  | { kind: "event"; event: string; data: string; lastEventId: string }
  | { kind: "comment"; text: string }
  | { kind: "retry"; ms: number };

/** Turns the stream's lines into items; `line` is fed one line at a time (without its line ending). */
export function createServerSentEventParser() {
  let data: string[] = [];
  let event = "";
  let lastEventId = "";
  return {
    line(line: string): ServerSentItem | undefined {
      if (line === "") {
        const dispatch = data.length > 0;
        const item: ServerSentItem | undefined = dispatch ? { kind: "event", event: event || "message", data: data.join("\n"), lastEventId } : undefined;
        data = [];
        event = "";
        return item;
      }
      if (line.startsWith(":")) return { kind: "comment", text: line.slice(1).replace(/^ /, "") };
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id" && !value.includes("\0")) lastEventId = value;
      else if (field === "retry" && /^\d+$/.test(value)) return { kind: "retry", ms: Number(value) };
      return undefined;
    },
  };
}

/**
 * The items of an event stream, as they arrive. Ends when the body ends (an event without its closing
 * blank line is dropped, as EventSource drops it); throws what the body's reader throws, and the
 * signal's reason once `signal` aborts (the body is cancelled then, whatever the transport does).
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<ServerSentItem, void, undefined> {
  const reader = body.getReader();
  const aborted = () => signal?.reason ?? new DOMException("This operation was aborted", "AbortError");
  const onAbort = () => void reader.cancel(aborted()).catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  const decoder = new TextDecoder();
  const parser = createServerSentEventParser();
  let buffer = "";
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  let pendingCr = false;
  try {
    for (;;) {
      if (signal?.aborted) throw aborted();
      const { done, value } = await reader.read();
      if (signal?.aborted) throw aborted();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      if (pendingCr && buffer.startsWith("\n")) buffer = buffer.slice(1);
      pendingCr = false;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== "\n" && c !== "\r") continue;
        const item = parser.line(buffer.slice(start, i));
        if (c === "\r") {
          if (i + 1 === buffer.length) pendingCr = true;
          else if (buffer[i + 1] === "\n") i++;
        }
        start = i + 1;
        if (item !== undefined) yield item;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Stops the body when the consumer leaves early (break, return, an error of its own).
    await reader.cancel().catch(() => undefined);
    try {
      reader.releaseLock();
    } catch {
      /* already released */
    }
  }
}
