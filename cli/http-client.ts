/**
 * @module cli/http-client
 * Talks to the control plane's HTTP API with the global `fetch`: adds the bearer token, turns every
 * error answer into a `ServerError` carrying the server's `Status`, and a failed connection into
 * `ControlPlaneUnreachable`.
 */
import type { Connection } from "./connection.js";
import { ControlPlaneUnreachable, ServerError, type Status } from "./errors.js";

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  503: "ServiceUnavailable",
};

export class ControlPlaneClient {
  readonly url: string;
  readonly #token: string;

  constructor(connection: Connection) {
    this.url = connection.url;
    this.#token = connection.token;
  }

  /** Sends one request; resolves with the parsed JSON body of a 2xx answer. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const text = await this.#send(method, path, options, "application/json");
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  }

  /** Sends one request for a text answer (a PEM bundle, a CRL); resolves with the body of a 2xx answer. */
  async requestText(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    return this.#send(method, path, options, "application/x-pem-file, text/plain, application/json");
  }

  async #send(method: string, path: string, options: RequestOptions, accept: string): Promise<string> {
    const target = new URL(this.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, value);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept };
    if (options.contentType !== undefined) headers["content-type"] = options.contentType;
    let response: Response;
    try {
      response = await fetch(target, { method, headers, body: options.body });
    } catch (err) {
      if (err instanceof TypeError) throw new ControlPlaneUnreachable(this.url);
      throw err;
    }
    const text = await response.text();
    if (!response.ok) throw new ServerError(toStatus(response.status, text));
    return text;
  }
}

/** The server's `Status`, or one made from the HTTP code when the body is not a Status. */
function toStatus(code: number, body: string): Status {
  try {
    const parsed = JSON.parse(body) as Partial<Status> | null;
    if (parsed && parsed.kind === "Status" && typeof parsed.message === "string") {
      return { ...parsed, kind: "Status", code: parsed.code ?? code, reason: parsed.reason || REASONS[code] || "Unknown", message: parsed.message };
    }
  } catch {
    // not JSON: fall through to a Status made from the code and the text
  }
  const message = body.trim() || `the server answered with HTTP status ${code}`;
  return { kind: "Status", code, reason: REASONS[code] ?? "Unknown", message };
}
