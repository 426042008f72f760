/**
 * @module hosts/sidecar/traffic/own-destination
 * Loop guards: whether an address is this Pod's own (loopback, unspecified, the Pod IP) and whether a
 * destination is one of the sidecar's own listener ports there. A captured connection or an upstream
 * attempt aimed at the sidecar itself would come straight back through the capture listeners, so both
 * the listeners and the sender refuse it.
 */

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as plain IPv4; anything else unchanged. */
export function unmapIpv4(address: string): string {
  return address.length > 7 && address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0, ::) or the Pod's IP. */
export function isLocalAddress(address: string, podIp?: string): boolean {
  const plain = unmapIpv4(address);
  if (plain.startsWith("127.") || plain === "::1" || plain === "0.0.0.0" || plain === "::" || plain === "localhost") return true;
  return podIp !== undefined && podIp !== "" && unmapIpv4(podIp) === plain;
}

/** Whether `address:port` is one of the sidecar's own ports on a local address. */
export function isOwnDestination(address: string, port: number, ownPorts: ReadonlySet<number>, podIp?: string): boolean {
  return ownPorts.has(port) && isLocalAddress(address, podIp);
}
