/**
 * @module proxy/hash-input
 * The request facts a consistent-hash load balancer may read (header, cookie, query parameter, source
 * IP), each parsed only when asked for.
 */
import { cookiePairs } from "../http/cookie-header.js";
import type { HeaderMap } from "../http/header-list.js";
import type { HashInput } from "../upstream/types.js";

export class RequestHashInput implements HashInput {
  private cookies: Map<string, string> | undefined;
  private query: URLSearchParams | undefined;

  constructor(
    private readonly headers: HeaderMap,
    private readonly search: string,
    readonly sourceIp: string | undefined,
  ) {}

  header(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }

  cookie(name: string): string | undefined {
    if (this.cookies === undefined) {
      this.cookies = new Map();
      for (const [name, value] of cookiePairs(this.headers.get("cookie") ?? "")) if (!this.cookies.has(name)) this.cookies.set(name, value);
    }
    return this.cookies.get(name);
  }

  queryParam(name: string): string | undefined {
    this.query ??= new URLSearchParams(this.search);
    return this.query.get(name) ?? undefined;
  }
}
