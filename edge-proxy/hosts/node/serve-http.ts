/**
 * @module hosts/node/serve-http
 * Turns node:http's IncomingMessage into a web Request and writes a web Response back, streaming both
 * bodies; a client that goes away aborts the returned signal (the core's DC flag). Used by the sidecar
 * host and by loopback test servers.
 *
 * Cost matters here (every proxied request passes twice): the Request is built once from the raw
 * header pairs and a URL string, and the response body is written with a reader loop rather than a
 * Node stream adapter. With `requestSignal: false` the Request itself carries no signal — undici's
 * signal following is the most expensive part of building a Request — and only the returned `signal`
 * reports the client going away (the sidecar passes it to the core as the context's signal).
 */
import type http from "node:http";
import { Readable } from "node:stream";

export interface WebRequestOptions {
  /** Give the Request the returned signal too (default true). */
  requestSignal?: boolean;
}

/** The web Request for `incoming`, its URL built from the Host header; `signal` fires when the client goes away. */
export function toWebRequest(incoming: http.IncomingMessage, scheme: "http" | "https" = "http", options: WebRequestOptions = {}): { request: Request; signal: AbortSignal } {
  const controller = new AbortController();
  const raw = incoming.rawHeaders;
  const headers: [string, string][] = new Array(raw.length >> 1);
  let host: string | undefined;
  let framed = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headers[i >> 1] = [name, value];
    if (host === undefined && name.length === 4 && name.toLowerCase() === "host") host = value;
    else if (!framed && (name.length === 14 || name.length === 17)) {
      const lower = name.toLowerCase();
      framed = (lower === "content-length" && value !== "0") || lower === "transfer-encoding";
    }
  }
  const method = incoming.method ?? "GET";
  // HTTP/1.1 (RFC 9112 §6.3): a request without Content-Length or Transfer-Encoding has no body.
  const hasBody = framed && method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (options.requestSignal !== false) init.signal = controller.signal;
  if (hasBody) {
    init.body = Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  incoming.once("close", () => {
    if (!incoming.complete || !incoming.socket?.writable) controller.abort(new Error("downstream disconnected"));
  });
  const target = incoming.url ?? "/";
  let request: Request;
  try {
    request = new Request(target.startsWith("/") ? `${scheme}://${host ?? "localhost"}${target}` : new URL(target, `${scheme}://${host ?? "localhost"}`), init);
  } catch {
    // A Host the URL parser refuses (e.g. `name-shadow` forms it does not take): keep it in the header only.
    request = new Request(new URL(target, `${scheme}://localhost`), init);
  }
  return { request, signal: controller.signal };
}

/** Writes `response` to `outgoing`, streaming its body; cancels the body when the client goes away. */
export async function writeWebResponse(response: Response, outgoing: http.ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  outgoing.writeHead(response.status, response.statusText || undefined, headers);
  const body = response.body;
  if (body === null) {
    outgoing.end();
    return;
  }
  const reader = body.getReader();
  let gone = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    if (outgoing.writableFinished) return;
    gone = true;
    reader.cancel().catch(() => {});
    wake?.();
  };
  const onDrain = () => wake?.();
  outgoing.once("close", onClose);
  outgoing.on("drain", onDrain);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!outgoing.write(value) && !gone) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (!gone) outgoing.end();
  } catch {
    // The body failed mid-way (an upstream reset): the client must not mistake it for a complete one.
    outgoing.destroy();
  } finally {
    outgoing.off("close", onClose);
    outgoing.off("drain", onDrain);
    reader.releaseLock();
  }
}
