/**
 * @module hosts/worker/send-fetch
 * The Worker host's `send`: one attempt to an origin endpoint through `fetch`. The URL is the endpoint's
 * address and port with the request's path; the scheme is `https:` when the port is 443 or the cluster's
 * DestinationRule asks for TLS (`SIMPLE`); the Host header stays the request's authority. Redirects are
 * passed back, not followed. A fetch that fails before a response is a `connect-failure`.
 */
import { UpstreamFailure, type UpstreamTarget } from "../../core/proxy/host.js";

/** Sends one request to an origin (the runtime's `fetch`, or a test's stand-in). */
export type OriginFetch = (request: Request) => Promise<Response>;

/** The origin URL for `request` sent to `target.endpoint`. */
export function originUrl(request: Request, target: UpstreamTarget): string {
  const url = new URL(request.url);
  const { address, port } = target.endpoint;
  const tls = port === 443 || target.cluster.policy.tls?.mode === "SIMPLE";
  const host = address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
  const defaultPort = tls ? 443 : 80;
  return `${tls ? "https" : "http"}://${host}${port === defaultPort ? "" : `:${port}`}${url.pathname}${url.search}`;
}

/** A ProxyHost `send` over `fetchOrigin` (default: the global fetch). */
export function createFetchSend(fetchOrigin: OriginFetch = (request) => fetch(request)) {
  return async (request: Request, target: UpstreamTarget): Promise<Response> => {
    const headers = new Headers(request.headers);
    headers.set("host", new URL(request.url).host);
    const outgoing = new Request(originUrl(request, target), {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal: request.signal,
    });
    try {
      return await fetchOrigin(outgoing);
    } catch (error) {
      // An abort is the engine's own (timeout, downstream gone): let it read as such.
      if (request.signal.aborted) throw error;
      throw new UpstreamFailure("connect-failure", `fetch to ${target.endpoint.address}:${target.endpoint.port} failed: ${String(error)}`, { cause: error });
    }
  };
}
