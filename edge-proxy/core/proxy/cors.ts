/**
 * @module proxy/cors
 * Envoy's CORS filter for an Istio `corsPolicy`: a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) from an allowed origin is answered by the proxy, 200 with the allowed
 * methods, headers, max age and credentials; a preflight from another origin is forwarded upstream
 * (`unmatchedPreflights: FORWARD`, the default) or answered 200 without CORS headers (`IGNORE`). An
 * actual request from an allowed origin gets Access-Control-Allow-Origin (and expose-headers,
 * credentials) on its response.
 */
import type { CorsPolicy, StringMatch } from "../config/proxy-config.js";

const compiled = new WeakMap<readonly StringMatch[], ((origin: string) => boolean)[]>();

function originAllowed(policy: CorsPolicy, origin: string): boolean {
  let matchers = compiled.get(policy.allowOrigins);
  if (matchers === undefined) {
    matchers = policy.allowOrigins.map((m): ((origin: string) => boolean) => {
      if ("exact" in m) return m.exact === "*" ? () => true : (o) => o === m.exact;
      if ("prefix" in m) return (o) => o.startsWith(m.prefix);
      const re = new RegExp(`^(?:${m.regex})$`);
      return (o) => re.test(o);
    });
    compiled.set(policy.allowOrigins, matchers);
  }
  return matchers.some((matches) => matches(origin));
}

export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") && request.headers.has("access-control-request-method");
}

/** The proxy's own answer to a preflight, or undefined when the preflight is to be forwarded upstream. */
export function answerPreflight(policy: CorsPolicy, request: Request): Response | undefined {
  const origin = request.headers.get("origin") as string;
  if (!originAllowed(policy, origin)) {
    return policy.unmatchedPreflights === "IGNORE" ? new Response(null, { status: 200 }) : undefined;
  }
  const headers = new Headers({ "access-control-allow-origin": origin });
  if (policy.allowMethods?.length) headers.set("access-control-allow-methods", policy.allowMethods.join(","));
  if (policy.allowHeaders?.length) headers.set("access-control-allow-headers", policy.allowHeaders.join(","));
  if (policy.maxAgeSeconds !== undefined) headers.set("access-control-max-age", String(policy.maxAgeSeconds));
  if (policy.allowCredentials) headers.set("access-control-allow-credentials", "true");
  return new Response(null, { status: 200, headers });
}

/** Adds the CORS response headers of an actual (non-preflight) request from an allowed origin. */
export function decorateCorsResponse(policy: CorsPolicy, request: Request, headers: Headers): void {
  const origin = request.headers.get("origin");
  if (origin === null || !originAllowed(policy, origin)) return;
  headers.set("access-control-allow-origin", origin);
  if (policy.exposeHeaders?.length) headers.set("access-control-expose-headers", policy.exposeHeaders.join(","));
  if (policy.allowCredentials) headers.set("access-control-allow-credentials", "true");
}
