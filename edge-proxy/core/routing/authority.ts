/**
 * @module authority
 * Host names as the router compares them: the host of an `:authority`/`Host` value (port dropped, lower
 * case, no trailing dot), the same form for configured domains, and the short names a sidecar's DNS search
 * path (`<ns>.svc.<cluster domain>`, `svc.<cluster domain>`, `<cluster domain>`) would complete.
 */

const OPEN_BRACKET = 0x5b; // "["
const DOT = 0x2e;

/**
 * The host of an authority: `Reviews.Default:9080` → `reviews.default`, `api.example.com.` →
 * `api.example.com`, `[::1]:8080` → `[::1]`. An unbracketed value with several colons (a bare IPv6
 * address) is kept whole.
 */
export function hostOfAuthority(authority: string): string {
  let host = authority;
  if (host.charCodeAt(0) === OPEN_BRACKET) {
    const end = host.indexOf("]");
    if (end !== -1) host = host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon !== -1 && host.indexOf(":", colon + 1) === -1) host = host.slice(0, colon);
  }
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
