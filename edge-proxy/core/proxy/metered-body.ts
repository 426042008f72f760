/**
 * @module proxy/metered-body
 * Counts the bytes of a body as they pass through and reports once, when the body ends, breaks or is
 * cancelled by the reader (the downstream went away): what the access log's bytes_sent/bytes_received and
 * the duration until the last byte need. Works on any web ReadableStream (Node and workerd).
 */

export type BodyEnd = "complete" | "cancelled" | "failed";

/** A stream that yields `body`'s chunks and calls `done` exactly once with the byte count and how it ended. */
export function meterBody(body: ReadableStream<Uint8Array> | null, done: (bytes: number, end: BodyEnd) => void): ReadableStream<Uint8Array> | null {
  if (body === null) {
    done(0, "complete");
    return null;
  }
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  const finish = (end: BodyEnd) => {
    if (finished) return;
    finished = true;
    done(bytes, end);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: ended, value } = await reader.read();
          if (ended) {
            controller.close();
            finish("complete");
            return;
          }
          bytes += value.byteLength;
          controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          finish("failed");
        }
      },
      cancel(reason) {
        finish("cancelled");
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
