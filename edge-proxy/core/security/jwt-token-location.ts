/**
 * @module security/jwt-token-location
 * Where RequestAuthentication looks for a JWT and how a verified one is taken off the request: a header
 * (with an optional value prefix such as `Bearer `, compared case-insensitively), a query parameter or
 * a cookie. A rule naming none uses Envoy's defaults: `Authorization: Bearer <token>`, then the
 * `access_token` query parameter.
 */
import type { JwtRule } from "../config/proxy-config.js";
import { cookiePairs } from "../http/cookie-header.js";

export type TokenLocation =
  | { readonly kind: "header"; readonly name: string; readonly prefix: string }
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

const DEFAULT_LOCATIONS: readonly TokenLocation[] = [
  { kind: "header", name: "authorization", prefix: "Bearer " },
  { kind: "param", name: "access_token" },
];

/** A rule's token locations, in the order they are tried: headers, then params, then cookies. */
export function locationsOf(rule: JwtRule): readonly TokenLocation[] {
  const out: TokenLocation[] = [
    ...(rule.fromHeaders ?? []).map((h): TokenLocation => ({ kind: "header", name: h.name.toLowerCase(), prefix: h.prefix ?? "" })),
    ...(rule.fromParams ?? []).map((name): TokenLocation => ({ kind: "param", name })),
    ...(rule.fromCookies ?? []).map((name): TokenLocation => ({ kind: "cookie", name })),
  ];
  return out.length > 0 ? out : DEFAULT_LOCATIONS;
}

/** Identifies equal locations across rules. */
export function locationKey(location: TokenLocation): string {
  return location.kind === "header" ? `header:${location.name}:${location.prefix.toLowerCase()}` : `${location.kind}:${location.name}`;
}

function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** The raw query's `name=value` pairs (without the `?`). */
function queryPairs(search: string): { raw: string; name: string; value: string }[] {
  return search
    .slice(1)
    .split("&")
    .filter((raw) => raw !== "")
    .map((raw) => {
      const eq = raw.indexOf("=");
      const name = decodeQueryComponent(eq === -1 ? raw : raw.slice(0, eq));
      return { raw, name, value: eq === -1 ? "" : decodeQueryComponent(raw.slice(eq + 1)) };
    });
}

/** Reads the token at `location`, or undefined when there is none there. */
export function tokenAt(request: Request, url: () => URL, location: TokenLocation): string | undefined {
  switch (location.kind) {
    case "header": {
      const value = request.headers.get(location.name);
      if (value === null) return undefined;
      if (location.prefix !== "" && value.slice(0, location.prefix.length).toLowerCase() !== location.prefix.toLowerCase()) return undefined;
      const token = value.slice(location.prefix.length).trim();
      return token === "" ? undefined : token;
    }
    case "param": {
      const u = url();
      if (u.search === "") return undefined;
      const found = queryPairs(u.search).find((p) => p.name === location.name);
      return found && found.value !== "" ? found.value : undefined;
    }
    case "cookie": {
      const header = request.headers.get("cookie");
      if (header === null) return undefined;
      const found = cookiePairs(header).find(([name]) => name === location.name);
      return found && found[1] !== "" ? found[1] : undefined;
    }
  }
}

/**
 * Takes the token off: removes the header, the query parameter (other parameters keep their exact
 * encoding) or the cookie. Returns the new URL when it changed; `headers` is edited in place.
 */
export function removeToken(headers: Headers, url: URL, location: TokenLocation): URL | undefined {
  switch (location.kind) {
    case "header":
      headers.delete(location.name);
      return undefined;
    case "param": {
      const kept = queryPairs(url.search).filter((p) => p.name !== location.name).map((p) => p.raw);
      const next = new URL(url.href);
      next.search = kept.length > 0 ? `?${kept.join("&")}` : "";
      return next;
    }
    case "cookie": {
      const header = headers.get("cookie");
      if (header === null) return undefined;
      const kept = cookiePairs(header).filter(([name]) => name !== location.name);
      if (kept.length > 0) headers.set("cookie", kept.map(([n, v]) => `${n}=${v}`).join("; "));
      else headers.delete("cookie");
      return undefined;
    }
  }
}
