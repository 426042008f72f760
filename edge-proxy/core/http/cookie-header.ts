/**
 * @module http/cookie-header
 * The `name=value` pairs of a Cookie header, in order, names and values trimmed; parts without `=` are
 * skipped. Read by consistent hashing (cookie keys) and RequestAuthentication (`fromCookies`).
 */
export function cookiePairs(header: string): [string, string][] {
  return header.split(";").flatMap((part) => {
    const eq = part.indexOf("=");
    if (eq === -1) return [];
    return [[part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as [string, string]];
  });
}
