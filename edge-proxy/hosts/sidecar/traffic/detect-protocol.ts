/**
 * @module hosts/sidecar/traffic/detect-protocol
 * The classifiers the capture listeners sniff with (see sniff), as Envoy's http_inspector and
 * tls_inspector decide:
 *
 * - `detectHttp`: an HTTP/1.0 or 1.1 request line (`METHOD SP target SP HTTP/1.x`). CONNECT and the
 *   HTTP/2 preface (`PRI * HTTP/2.0`) are not HTTP/1 requests the proxy routes: they pass as TCP,
 *   so an application's tunnel through its own forward proxy keeps working.
 * - `detectInbound`: a TLS ClientHello (read whole, for its ALPN and SNI) or plain text, which is then
 *   HTTP or TCP as above.
 */
import { type ClientHello, firstRecordLength, looksLikeTls, MAX_RECORD_BYTES, parseClientHello } from "./client-hello.js";

export type PlainProtocol = "http" | "tcp";
export type InboundProtocol = { kind: "tls"; hello: ClientHello | undefined } | { kind: PlainProtocol };

/** Request lines longer than this are taken as HTTP once the method is a known one. */
const LONG_LINE = 16 * 1024;
const MAX_METHOD = 24;
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "PURGE"]);
const SPACE = 0x20;
const LF = 0x0a;

const PLAIN_VERDICTS: Record<PlainProtocol, InboundProtocol> = { http: Object.freeze({ kind: "http" }), tcp: Object.freeze({ kind: "tcp" }) };

const isMethodByte = (b: number) => (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x5f;

/** HTTP/1.x or TCP; undefined while the request line is incomplete and more may come. */
export function detectHttp(head: Buffer, final: boolean): PlainProtocol | undefined {
  let i = 0;
  while (i < head.length && i <= MAX_METHOD && isMethodByte(head[i]!)) i++;
  if (i === head.length) return final || i > MAX_METHOD ? "tcp" : undefined;
  if (i === 0 || head[i] !== SPACE) return "tcp";
  const method = head.toString("latin1", 0, i);
  if (method === "CONNECT" || method === "PRI") return "tcp";
  const eol = head.indexOf(LF, i);
  if (eol < 0) {
    if (head.length > LONG_LINE) return KNOWN_METHODS.has(method) ? "http" : "tcp";
    return final ? "tcp" : undefined;
  }
  const end = eol > 0 && head[eol - 1] === 0x0d ? eol - 1 : eol;
  const version = head.toString("latin1", Math.max(i, end - 9), end);
  return version === " HTTP/1.1" || version === " HTTP/1.0" ? "http" : "tcp";
}

/** TLS (once the whole first record is in), else plain HTTP or TCP. */
export function detectInbound(head: Buffer, final: boolean): InboundProtocol | undefined {
  if (looksLikeTls(head)) {
    const length = firstRecordLength(head);
    if (length !== undefined && head.length >= length) return { kind: "tls", hello: parseClientHello(head) };
    return final || head.length >= MAX_RECORD_BYTES ? { kind: "tls", hello: undefined } : undefined;
  }
  const plain = detectHttp(head, final);
  return plain === undefined ? undefined : PLAIN_VERDICTS[plain];
}
