/**
 * @module hosts/sidecar/traffic/client-hello
 * Reads a TLS ClientHello from the first bytes of a connection without terminating anything, as
 * Envoy's tls_inspector does: whether the bytes are a TLS handshake at all, how long the first record
 * is, and the ALPN protocols and server name the client offers (the inbound listener tells a mesh
 * peer, which offers `istio*` ALPN, from an application's own TLS by them).
 */

/** First byte of a TLS record carrying a handshake. */
export const TLS_HANDSHAKE = 0x16;
/** The largest TLS record payload (2^14) plus its 5-byte header and the allowed expansion. */
export const MAX_RECORD_BYTES = 5 + 16384 + 2048;

export interface ClientHello {
  /** ALPN protocols offered, in the client's order; empty when none. */
  alpn: string[];
  /** The SNI host name, when sent. */
  serverName?: string;
}

/** Whether `head` starts like a TLS handshake record (type 22, version 3.x). */
export function looksLikeTls(head: Uint8Array): boolean {
  return head.length > 0 && head[0] === TLS_HANDSHAKE && (head.length < 2 || head[1] === 3);
}

/** The byte length of the first TLS record, once its 5-byte header is there. */
export function firstRecordLength(head: Uint8Array): number | undefined {
  if (head.length < 5) return undefined;
  return 5 + ((head[3]! << 8) | head[4]!);
}

/**
 * The ClientHello in the first record of `head`; undefined when it is not one or is cut short (a
 * ClientHello spread over several records is read as far as the first one goes).
 */
export function parseClientHello(head: Uint8Array): ClientHello | undefined {
  const recordEnd = firstRecordLength(head);
  if (recordEnd === undefined || head[0] !== TLS_HANDSHAKE || head.length < recordEnd) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, recordEnd);
  let at = 5;
  const need = (n: number) => at + n <= recordEnd;
  if (!need(4) || view.getUint8(at) !== 1) return undefined; // handshake type client_hello
  at += 4; // type + 24-bit length
  if (!need(2 + 32 + 1)) return undefined;
  at += 2 + 32; // legacy_version, random
  at += 1 + view.getUint8(at); // legacy_session_id
  if (!need(2)) return undefined;
  at += 2 + view.getUint16(at); // cipher_suites
  if (!need(1)) return undefined;
  at += 1 + view.getUint8(at); // legacy_compression_methods
  const hello: ClientHello = { alpn: [] };
  if (!need(2)) return at <= recordEnd ? hello : undefined; // no extensions
  const extensionsEnd = at + 2 + view.getUint16(at);
  at += 2;
  if (extensionsEnd > recordEnd) return undefined;
  while (at + 4 <= extensionsEnd) {
    const type = view.getUint16(at);
    const length = view.getUint16(at + 2);
    const start = at + 4;
    const end = start + length;
    if (end > extensionsEnd) return undefined;
    if (type === 0x10 && length >= 2) hello.alpn = readAlpn(head, start + 2, Math.min(end, start + 2 + view.getUint16(start)));
    else if (type === 0x00 && length >= 5) {
      const name = readServerName(head, view, start + 2, end);
      if (name !== undefined) hello.serverName = name;
    }
    at = end;
  }
  return hello;
}

function readAlpn(head: Uint8Array, from: number, to: number): string[] {
  const protocols: string[] = [];
  let at = from;
  while (at < to) {
    const length = head[at]!;
    if (at + 1 + length > to) break;
    protocols.push(Buffer.from(head.buffer, head.byteOffset + at + 1, length).toString("latin1"));
    at += 1 + length;
  }
  return protocols;
}

function readServerName(head: Uint8Array, view: DataView, from: number, to: number): string | undefined {
  let at = from;
  while (at + 3 <= to) {
    const type = view.getUint8(at);
    const length = view.getUint16(at + 1);
    if (at + 3 + length > to) return undefined;
    if (type === 0) return Buffer.from(head.buffer, head.byteOffset + at + 3, length).toString("latin1");
    at += 3 + length;
  }
  return undefined;
}
