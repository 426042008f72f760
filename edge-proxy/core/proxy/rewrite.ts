/**
 * @module proxy/rewrite
 * Istio's HTTPRewrite and HTTPRedirect applied to a request URL. A `uri` rewrite replaces the prefix a
 * prefix match matched, otherwise the whole path; `uriRegexRewrite` replaces every match of its RE2
 * pattern in the path (`\1` substitutions); `authority` replaces the Host. The query is kept. A redirect
 * builds the Location from the request with the uri, authority, scheme and port it names.
 */
import type { RouteAction, RouteMatch } from "../config/proxy-config.js";

type Redirect = Extract<RouteAction, { kind: "redirect" }>;
type Rewrite = NonNullable<Extract<RouteAction, { kind: "route" }>["rewrite"]>;

const regexes = new WeakMap<object, { re: RegExp; replacement: string }>();

function splitTarget(pathAndQuery: string): [string, string] {
  const q = pathAndQuery.indexOf("?");
  return q === -1 ? [pathAndQuery, ""] : [pathAndQuery.slice(0, q), pathAndQuery.slice(q)];
}

/** The rewritten path and query. `match` is the RouteMatch that selected the route (undefined for a route without matches). */
export function rewritePath(rewrite: Rewrite, pathAndQuery: string, match: RouteMatch | undefined): string {
  let [path, query] = splitTarget(pathAndQuery);
  if (rewrite.uriRegex !== undefined) {
    let compiled = regexes.get(rewrite.uriRegex);
    if (compiled === undefined) {
      compiled = { re: new RegExp(rewrite.uriRegex.match, "g"), replacement: rewrite.uriRegex.rewrite.replace(/\$/g, "$$$$").replace(/\\(\d)/g, "$$$1") };
      regexes.set(rewrite.uriRegex, compiled);
    }
    path = path.replace(compiled.re, compiled.replacement);
  } else if (rewrite.uri !== undefined) {
    const uri = match?.uri;
    if (uri !== undefined && "prefix" in uri) {
      const matched = match?.ignoreUriCase ? path.slice(0, uri.prefix.length) : uri.prefix;
      path = rewrite.uri + path.slice(matched.length);
      if (path === "") path = "/";
    } else path = rewrite.uri;
  }
  return path + query;
}

/** The Location of a redirect for a request to `url` (scheme, host and port as received). */
export function redirectLocation(redirect: Redirect, url: URL, requestPort: number): string {
  const scheme = redirect.scheme ?? url.protocol.slice(0, -1);
  const host = redirect.authority ?? url.hostname;
  let port: string;
  if (redirect.port !== undefined) port = String(redirect.port);
  else if (redirect.derivePort === "FROM_REQUEST_PORT") port = String(requestPort);
  else if (redirect.derivePort === "FROM_PROTOCOL_DEFAULT" || redirect.scheme !== undefined || redirect.authority !== undefined) port = "";
  else port = url.port;
  if ((scheme === "http" && port === "80") || (scheme === "https" && port === "443")) port = "";
  let pathAndQuery = url.pathname + url.search;
  if (redirect.uri !== undefined) {
    const [newPath, newQuery] = splitTarget(redirect.uri);
    pathAndQuery = newPath + (newQuery !== "" ? newQuery : url.search);
  }
  return `${scheme}://${host}${port === "" ? "" : `:${port}`}${pathAndQuery}`;
}
