/**
 * @module authority
 * Host names as the router compares them: the host of an `:authority`/`Host` value (port dropped, lower
 * case, no trailing dot), the same form for configured domains, and the short names a sidecar's DNS search
 * path (`<ns>.svc.<cluster domain>`, `svc.<cluster domain>`, `<cluster domain>`) would complete.
 */

const OPEN_BRACKET = 0x5b; // "["
const DOT = 0x2e;

/**
 * The authority without its port, as written: `shop.example.com:80` → `shop.example.com`, `[::1]:8080` →
 * `[::1]`. An unbracketed value with several colons (a bare IPv6 address) is kept whole.
 */
export function authorityWithoutPort(authority: string): string {
  if (authority.charCodeAt(0) === OPEN_BRACKET) {
    const end = authority.indexOf("]");
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.indexOf(":");
  return colon !== -1 && authority.indexOf(":", colon + 1) === -1 ? authority.slice(0, colon) : authority;
}

/**
 * The host of an authority: `Reviews.Default:9080` → `reviews.default`, `api.example.com.` →
 * `api.example.com`, `[::1]:8080` → `[::1]`. An unbracketed value with several colons (a bare IPv6
 * address) is kept whole.
 */
export function hostOfAuthority(authority: string): string {
  let host = authorityWithoutPort(authority);
  if (host.charCodeAt(host.length - 1) === DOT) host = host.slice(0, -1);
  return host.toLowerCase();
}

/**
 * The fully qualified service name a short name stands for, or undefined when `host` is not a short name:
 * `reviews` → `reviews.<namespace>.svc.<clusterDomain>`, `reviews.other` → `reviews.other.svc.<clusterDomain>`,
 * `reviews.other.svc` → `reviews.other.svc.<clusterDomain>`.
 */
export function expandShortName(host: string, namespace: string, clusterDomain: string): string | undefined {
  if (host.length === 0 || host.charCodeAt(0) === OPEN_BRACKET) return undefined;
  const first = host.indexOf(".");
  if (first === -1) return `${host}.${namespace}.svc.${clusterDomain}`;
  const second = host.indexOf(".", first + 1);
  if (second === -1) return `${host}.svc.${clusterDomain}`;
  if (host.indexOf(".", second + 1) === -1 && host.endsWith(".svc")) return `${host}.${clusterDomain}`;
  return undefined;
}

/**
 * The short names that stand for a fully qualified service name, the inverse of {@link expandShortName}:
 * `reviews.default.svc.cluster.local` seen from namespace `default` → `reviews.default.svc`,
 * `reviews.default`, `reviews`. Names of any other shape have none.
 */
export function shortNamesOf(fqdn: string, namespace: string, clusterDomain: string): string[] {
  const tail = `.svc.${clusterDomain}`;
  if (!fqdn.endsWith(tail)) return [];
  const nameAndNamespace = fqdn.slice(0, -tail.length);
  const dot = nameAndNamespace.indexOf(".");
  if (dot <= 0 || dot === nameAndNamespace.length - 1 || nameAndNamespace.indexOf(".", dot + 1) !== -1) return [];
  const names = [`${nameAndNamespace}.svc`, nameAndNamespace];
  if (nameAndNamespace.slice(dot + 1) === namespace) names.push(nameAndNamespace.slice(0, dot));
  return names;
}
