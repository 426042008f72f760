/**
 * @module conformance/upstream-app
 * The upstream service behind every conformance test, in web-standard APIs so the same code answers on a
 * loopback Node HTTP server and inside a second Worker in workerd. It echoes what it received (endpoint,
 * method, path, Host, headers, body) as JSON, and misbehaves on request:
 * - `x-test-status: N` answers N;
 * - `x-test-delay: MS` waits before answering;
 * - `x-test-fail-first: N` (with `x-test-key`) answers `x-test-fail-status` (503) to the first N requests of
 *   that key on this endpoint, then echoes;
 * - `x-test-slow-first: N` (with `x-test-key`, `x-test-delay`) delays only the first N requests of the key;
 * - `x-test-fail-on: <endpoint>` answers 500 when this endpoint is the one named.
 */

export interface Echo {
  endpoint: string;
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
  body: string;
}

export type UpstreamApp = (request: Request, endpoint: string) => Promise<Response>;

export function createUpstreamApp(): UpstreamApp {
  const counts = new Map<string, number>();
  const next = (endpoint: string, key: string) => {
    const id = `${endpoint}\u0000${key}`;
    const n = (counts.get(id) ?? 0) + 1;
    counts.set(id, n);
    return n;
  };
  return async (request, endpoint) => {
    const headers = request.headers;
    const key = headers.get("x-test-key") ?? "";
    const delay = Number(headers.get("x-test-delay") ?? 0);
    const slowFirst = headers.get("x-test-slow-first");
    const failFirst = headers.get("x-test-fail-first");
    const n = slowFirst !== null || failFirst !== null ? next(endpoint, key) : 0;
    if (delay > 0 && (slowFirst === null || n <= Number(slowFirst))) await new Promise((resolve) => setTimeout(resolve, delay));
    if (failFirst !== null && n <= Number(failFirst)) return new Response(`failing ${n}`, { status: Number(headers.get("x-test-fail-status") ?? 503) });
    if (headers.get("x-test-fail-on") === endpoint) return new Response("bad endpoint", { status: 500 });
    const status = Number(headers.get("x-test-status") ?? 200);
    const url = new URL(request.url);
    const echo: Echo = {
      endpoint,
      method: request.method,
      path: url.pathname + url.search,
      host: headers.get("host") ?? url.host,
      headers: Object.fromEntries(headers),
      body: request.body === null ? "" : await request.text(),
    };
    return new Response(status === 204 || status === 304 ? null : JSON.stringify(echo), {
      status,
      headers: { "content-type": "application/json", "x-upstream": endpoint },
    });
  };
}
