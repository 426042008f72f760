/**
 * @module hosts/node/serve-http
 * Turns node:http's IncomingMessage into a web Request and writes a web Response back, streaming both
 * bodies; a client that goes away aborts the request's signal (the core's DC flag). Used by the sidecar
 * host and by loopback test servers.
 */
import type http from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

/** The web Request for `incoming`, its URL built from the Host header; `signal` fires when the client goes away. */
export function toWebRequest(incoming: http.IncomingMessage, scheme: "http" | "https" = "http"): { request: Request; signal: AbortSignal } {
  const controller = new AbortController();
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i] as string, incoming.rawHeaders[i + 1] as string);
  const host = headers.get("host") ?? "localhost";
  const method = incoming.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal: controller.signal };
  if (hasBody) {
    init.body = Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  incoming.once("close", () => {
    if (!incoming.complete || !incoming.socket?.writable) controller.abort(new Error("downstream disconnected"));
  });
  let url: URL;
  try {
    url = new URL(incoming.url ?? "/", `${scheme}://${host}`);
  } catch {
    // A Host the URL parser refuses (e.g. `name-shadow` forms it does not take): keep it in the header only.
    url = new URL(incoming.url ?? "/", `${scheme}://localhost`);
  }
  return { request: new Request(url, init), signal: controller.signal };
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
  if (response.body === null) {
    outgoing.end();
    return;
  }
  const body = Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) body.destroy();
  });
  await new Promise<void>((resolve) => {
    body.once("error", () => {
      outgoing.destroy();
      resolve();
    });
    body.pipe(outgoing).once("finish", resolve).once("close", resolve);
  });
}
