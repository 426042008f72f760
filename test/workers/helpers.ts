// Shared helpers for Worker tests: authenticated calls through the Worker's own fetch handler, inside
// workerd with the real D1 binding. The default export is called directly: going through the SELF
// service binding, each call in vitest-pool-workers 0.15 gets slower than the last (4 ms at first,
// 60 ms after 400 calls, measured on /healthz), which the property tests cannot afford.
import { createExecutionContext, env } from "cloudflare:test";
import worker from "../../workers/control-plane.js";

export const ADMIN = () => env.WEFT_ADMIN_TOKEN;

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Raw text body; sent as is with `contentType`. */
  text?: string;
  contentType?: string;
}

/** Calls the Worker at `path` (admin token unless `token` is given; `null` sends none). */
export async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? ADMIN() : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.text !== undefined) {
    body = opts.text;
    headers["content-type"] = opts.contentType ?? "application/yaml";
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] = opts.contentType ?? "application/json";
  }
  const request = new Request(`http://weft.test${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, createExecutionContext());
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Applies YAML or JSON documents through the bulk path. */
export async function apply(text: string, query = ""): Promise<Response> {
  return call("POST", `/v1/apply${query}`, { text });
}

/** Reads a watch stream until `count` events arrived or the stream ended. */
export async function readEvents(res: Response, count: number): Promise<Array<{ type: string; object: any }>> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Array<{ type: string; object: any }> = [];
  let buffer = "";
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line));
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}
