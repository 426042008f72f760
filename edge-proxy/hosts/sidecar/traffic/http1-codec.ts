/**
 * @module hosts/sidecar/traffic/http1-codec
 * The pure HTTP/1.1 codec of the sidecar's fast data path on raw sockets: it parses request and response
 * heads out of socket bytes, follows chunked bodies passing through unchanged, and writes heads back out.
 * No I/O, no node:http.
 *
 * Requests are parsed for the common case only. Anything unusual (another HTTP version, a target not in
 * origin-form, transfer-encoding, expect, upgrade, obs-fold, a bare CR or LF, a doubtful content-length or
 * host) answers `fallback`: the caller then hands the connection to node:http, whose own rules decide,
 * so this parser never has to be right about the rare cases, only never wrong about the common one.
 * Responses come from upstreams and have no fallback: a head this parser does not accept is `invalid`.
 *
 * Hot-path notes: the head's end is found with `buffer.indexOf`, the head is decoded once as a latin1
 * string, its bytes are checked in a loop over the buffer, and each field costs two slices of that string
 * and two pushes into a `HeaderList`: no per-field objects, no regexes.
 */
import { HeaderList, type HeaderMap } from "../../../core/http/header-list.js";

/** How a message's body is delimited. */
export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

export interface RequestHead {
  /** As sent, e.g. "GET". */
  method: string;
  /** Origin-form request-target, e.g. "/a/b?x=1". */
  target: string;
  /** Names lower-case, values with surrounding SP/HTAB trimmed. */
  headers: HeaderList;
  /** Offset just past the blank line ending the head (where the body starts). */
  end: number;
  /** "none" or "length" only (others are fallback). */
  framing: BodyFraming;
  /** false when the request says `Connection: close` (the connection closes after the response). */
  keepAlive: boolean;
}

export type RequestParse = { kind: "head"; head: RequestHead } | { kind: "incomplete" } | { kind: "fallback"; reason: string };

export interface ResponseHead {
  status: number;
  reason: string;
  /**
   * Names lower-case, values trimmed. When transfer-encoding is present its content-length fields are
   * removed (RFC 9112 §6.3: a proxy must not forward both).
   */
  headers: HeaderList;
  /** Offset just past the blank line ending the head (where the body starts). */
  end: number;
  framing: BodyFraming;
  /** Whether the connection may carry another request after this response's body. */
  keepAlive: boolean;
}

export type ResponseParse = { kind: "head"; head: ResponseHead } | { kind: "incomplete" } | { kind: "invalid"; reason: string };

const CRLF_CRLF = Buffer.from("\r\n\r\n", "latin1");
const MAX_CONTENT_LENGTH = 2 ** 53;
const MAX_CHUNK_SIZE_DIGITS = 16;

const INCOMPLETE = Object.freeze({ kind: "incomplete" as const });
const NO_BODY = Object.freeze({ kind: "none" as const });
const CHUNKED = Object.freeze({ kind: "chunked" as const });
const UNTIL_CLOSE = Object.freeze({ kind: "close" as const });

/** `findHeadEnd` answers for a head with no blank line yet, or one longer than allowed. */
const HEAD_INCOMPLETE = -1;
const HEAD_TOO_LARGE = -2;

/** Tokens of a Connection header, as bit flags. */
const CONNECTION_CLOSE = 1;
const CONNECTION_UPGRADE = 2;
const CONNECTION_KEEP_ALIVE = 4;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

// ChunkedScanner states.
const CHUNK_SIZE_START = 0;
const CHUNK_SIZE = 1;
const CHUNK_EXTENSION = 2;
const CHUNK_SIZE_LF = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_CR = 5;
const CHUNK_DATA_LF = 6;
const CHUNK_TRAILER_START = 7;
const CHUNK_TRAILER_NAME = 8;
const CHUNK_TRAILER_VALUE = 9;
const CHUNK_TRAILER_LF = 10;
const CHUNK_FINAL_LF = 11;
const CHUNK_DONE = 12;
const CHUNK_INVALID = 13;

/** RFC 9110 tchar, by byte: 0 for bytes a token may not hold, else TCHAR_OTHER or TCHAR_UPPER. */
const TCHAR_OTHER = 1;
const TCHAR_UPPER = 2;
const TCHAR = tcharTable();

/** Parses one request head at `buffer[start..]`. */
export function parseRequestHead(buffer: Buffer, start: number, maxHeadBytes: number): RequestParse {
  const headEnd = findHeadEnd(buffer, start, maxHeadBytes);
  if (headEnd === HEAD_INCOMPLETE) return INCOMPLETE;
  if (headEnd === HEAD_TOO_LARGE) return fallback("head larger than maxHeadBytes");
  const text = latin1(buffer, start, headEnd + 2);

  // Bytes are checked in the buffer at absolute offsets (`at`); the text offset of `at` is `at - start`.
  let at = start;
  let code = buffer[at]!;
  while (code >= 65 && code <= 90) code = buffer[++at]!;
  if (at === start || code !== SP) return fallback("method not a token of A-Z followed by SP");
  const method = text.slice(0, at - start);

  const targetStart = ++at;
  if (buffer[at] !== 47) return fallback("request-target not in origin-form");
  do code = buffer[++at]!;
  while (code > SP && code < 127);
  if (code !== SP) return fallback("request-target with SP or CTL");
  const target = text.slice(targetStart - start, at - start);
  const pos = at - start;
  if (!text.startsWith("HTTP/1.1\r\n", pos + 1)) return fallback("not HTTP/1.1");

  const fields = parseFieldLines(buffer, start, text, pos + 11);
  if (typeof fields === "string") return fallback(fields);
  const refusal = requestRefusal(fields);
  if (refusal !== undefined) return fallback(refusal);

  const length = fields.contentLength;
  return {
    kind: "head",
    head: {
      method,
      target,
      headers: new HeaderList(fields.entries),
      end: headEnd + 4,
      framing: length > 0 ? { kind: "length", length } : NO_BODY,
      keepAlive: (fields.connection & CONNECTION_CLOSE) === 0,
    },
  };
}

/** `requestMethod` decides HEAD responses' framing. */
export function parseResponseHead(buffer: Buffer, start: number, maxHeadBytes: number, requestMethod: string): ResponseParse {
  const headEnd = findHeadEnd(buffer, start, maxHeadBytes);
  if (headEnd === HEAD_INCOMPLETE) return INCOMPLETE;
  if (headEnd === HEAD_TOO_LARGE) return invalid("head larger than maxHeadBytes");
  const text = latin1(buffer, start, headEnd + 2);

  const minor = text.charCodeAt(7);
  if (!text.startsWith("HTTP/1.", 0) || (minor !== 48 && minor !== 49) || text.charCodeAt(8) !== SP) {
    return invalid("status line not HTTP/1.0 or HTTP/1.1");
  }
  const status = statusCode(text);
  if (status === -1) return invalid("status code not three digits");
  const reasonEnd = reasonPhraseEnd(text);
  if (reasonEnd === -1) return invalid("invalid reason phrase");
  const reason = reasonEnd > 13 ? text.slice(13, reasonEnd) : "";

  const fields = parseFieldLines(buffer, start, text, reasonEnd + 2);
  if (typeof fields === "string") return invalid(fields);
  const headers = new HeaderList(fields.entries);
  if (fields.transferEncoding !== null && fields.contentLength !== -1) headers.delete("content-length");

  const framing = responseFraming(status, requestMethod, fields);
  const http10 = minor === 48;
  const connection = fields.connection;
  const keepAlive =
    (connection & CONNECTION_CLOSE) === 0 &&
    framing !== UNTIL_CLOSE &&
    (http10 ? (connection & CONNECTION_KEEP_ALIVE) !== 0 && fields.transferEncoding === null : true);
  return { kind: "head", head: { status, reason, headers, end: headEnd + 4, framing, keepAlive } };
}

/**
 * Follows a chunked body passing through unchanged: push() each piece as it arrives; it returns how many
 * bytes of the piece belong to the message (the whole piece, unless the message ends inside it: then the
 * offset just past its end, the rest being the next message's), or -1 when the framing is invalid.
 * `done` is true once the last chunk and trailer section have been seen. After that push() answers 0;
 * after -1 it answers -1 again.
 *
 * Strict on purpose (a lenient reading here is a smuggling risk): no whitespace after the chunk size, at
 * most 16 hex digits and no size past 2^53 - 1, no CTL but HTAB in extensions and trailer values, trailer
 * names are tokens, every line ends in CRLF.
 */
export class ChunkedScanner {
  #state = CHUNK_SIZE_START;
  /** The chunk size being read, then the data bytes of the chunk still to come. */
  #size = 0;
  #digits = 0;
  #dataBytes = 0;

  get done(): boolean {
    return this.#state === CHUNK_DONE;
  }

  /** Payload bytes seen so far: the body's length without the chunk framing (what Envoy counts as body bytes). */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  push(piece: Buffer): number {
    let state = this.#state;
    if (state === CHUNK_DONE) return 0;
    if (state === CHUNK_INVALID) return -1;
    const length = piece.length;
    let i = 0;
    while (i < length) {
      if (state === CHUNK_DATA) {
        const take = Math.min(this.#size, length - i);
        this.#size -= take;
        this.#dataBytes += take;
        i += take;
        if (this.#size === 0) state = CHUNK_DATA_CR;
        continue;
      }
      state = this.#step(state, piece[i++]!);
      if (state === CHUNK_INVALID || state === CHUNK_DONE) {
        this.#state = state;
        return state === CHUNK_DONE ? i : -1;
      }
    }
    this.#state = state;
    return length;
  }

  /** The state after byte `code` outside chunk data. */
  #step(state: number, code: number): number {
    switch (state) {
      case CHUNK_SIZE_START:
        this.#size = 0;
        this.#digits = 0;
        return this.#addSizeDigit(hexValue(code));
      case CHUNK_SIZE:
        if (code === CR) return CHUNK_SIZE_LF;
        if (code === 59) return CHUNK_EXTENSION;
        return this.#addSizeDigit(hexValue(code));
      case CHUNK_EXTENSION:
        if (code === CR) return CHUNK_SIZE_LF;
        return isControl(code) ? CHUNK_INVALID : CHUNK_EXTENSION;
      case CHUNK_SIZE_LF:
        if (code !== LF) return CHUNK_INVALID;
        return this.#size === 0 ? CHUNK_TRAILER_START : CHUNK_DATA;
      case CHUNK_DATA_CR:
        return code === CR ? CHUNK_DATA_LF : CHUNK_INVALID;
      case CHUNK_DATA_LF:
        return code === LF ? CHUNK_SIZE_START : CHUNK_INVALID;
      case CHUNK_TRAILER_START:
        if (code === CR) return CHUNK_FINAL_LF;
        return isTchar(code) ? CHUNK_TRAILER_NAME : CHUNK_INVALID;
      case CHUNK_TRAILER_NAME:
        if (code === COLON) return CHUNK_TRAILER_VALUE;
        return isTchar(code) ? CHUNK_TRAILER_NAME : CHUNK_INVALID;
      case CHUNK_TRAILER_VALUE:
        if (code === CR) return CHUNK_TRAILER_LF;
        return isControl(code) ? CHUNK_INVALID : CHUNK_TRAILER_VALUE;
      case CHUNK_TRAILER_LF:
        return code === LF ? CHUNK_TRAILER_START : CHUNK_INVALID;
      case CHUNK_FINAL_LF:
        return code === LF ? CHUNK_DONE : CHUNK_INVALID;
      default:
        return CHUNK_INVALID;
    }
  }

  /** Adds a hex digit (-1: not one) to the chunk size being read. */
  #addSizeDigit(digit: number): number {
    if (digit === -1) return CHUNK_INVALID;
    this.#digits++;
    this.#size = this.#size * 16 + digit;
    if (this.#digits > MAX_CHUNK_SIZE_DIGITS || this.#size > Number.MAX_SAFE_INTEGER) return CHUNK_INVALID;
    return CHUNK_SIZE;
  }
}

/**
 * A message head (latin1): the start line, each field of `headers` in order except those named in `omit`,
 * then the `extra` fields (flat `[name, value, ...]`: framing and connection fields the caller adds), then
 * a blank line. Throws a TypeError when any line would hold a CR or LF (a field smuggled into another).
 */
export function serializeHead(startLine: string, headers: HeaderMap, omit?: ReadonlySet<string>, extra?: readonly string[]): Buffer {
  let head = startLine + "\r\n";
  let lines = 2;
  headers.forEach((value, name) => {
    if (omit !== undefined && omit.has(name)) return;
    head += name + ": " + value + "\r\n";
    lines++;
  });
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i += 2) head += extra[i]! + ": " + extra[i + 1]! + "\r\n";
    lines += extra.length / 2;
  }
  head += "\r\n";
  // Exactly the line ends written above, no more: counting is cheaper than checking every string.
  if (countOf(head, "\n") !== lines || countOf(head, "\r") !== lines) throw new TypeError("CR or LF inside an HTTP head line");
  return Buffer.from(head, "latin1");
}

/** What the field lines of a head say, besides the fields themselves. */
interface HeadFields {
  entries: string[];
  hostCount: number;
  /** -1 when absent. */
  contentLength: number;
  /** The transfer-encoding fields joined with ", "; null when absent. */
  transferEncoding: string | null;
  /** CONNECTION_* flags of the connection fields. */
  connection: number;
  expect: boolean;
  upgrade: boolean;
}

/** The offset of the `\r\n\r\n` ending the head at `start`, or HEAD_INCOMPLETE / HEAD_TOO_LARGE. */
function findHeadEnd(buffer: Buffer, start: number, maxHeadBytes: number): number {
  const found = buffer.indexOf(CRLF_CRLF, start);
  if (found === -1) return buffer.length - start >= maxHeadBytes ? HEAD_TOO_LARGE : HEAD_INCOMPLETE;
  return found + 4 - start > maxHeadBytes ? HEAD_TOO_LARGE : found;
}

/**
 * Reads the field lines of a head from `text[pos..]` (each line ending in CRLF, the text ending after the
 * last one's). `text` is `bytes[base..]` as latin1: bytes are checked in the buffer (indexing a Uint8Array
 * is cheaper than charCodeAt) and strings are sliced from the text. Answers the fields, or why not.
 */
function parseFieldLines(bytes: Buffer, base: number, text: string, pos: number): HeadFields | string {
  const fields: HeadFields = {
    entries: [],
    hostCount: 0,
    contentLength: -1,
    transferEncoding: null,
    connection: 0,
    expect: false,
    upgrade: false,
  };
  const end = base + text.length;
  let at = base + pos;
  while (at < end) {
    const nameStart = at;
    let kind = 0;
    let code = bytes[at]!;
    for (let tchar = TCHAR[code]!; tchar !== 0; tchar = TCHAR[code]!) {
      kind |= tchar;
      code = bytes[++at]!;
    }
    if (at === nameStart && (code === SP || code === HTAB)) return "obs-fold line";
    if (at === nameStart || code !== COLON) return "invalid field name";
    const rawName = text.slice(nameStart - base, at - base);
    const name = kind & TCHAR_UPPER ? rawName.toLowerCase() : rawName;

    code = bytes[++at]!;
    while (code === SP || code === HTAB) code = bytes[++at]!;
    const valueStart = at;
    // The text ends in CRLF, so this loop meets a CR.
    while (code !== CR) {
      if ((code < SP && code !== HTAB) || code === 127) return code === LF ? "bare LF" : "CTL in field value";
      code = bytes[++at]!;
    }
    if (bytes[at + 1] !== LF) return "bare CR";
    let valueEnd = at;
    while (valueEnd > valueStart && isSpace(bytes[valueEnd - 1]!)) valueEnd--;
    at += 2;

    const value = text.slice(valueStart - base, valueEnd - base);
    fields.entries.push(name, value);
    const problem = noteField(fields, name, value);
    if (problem !== undefined) return problem;
  }
  return fields;
}

/** Records what a field means for framing and connection handling; answers a problem, if any. */
function noteField(fields: HeadFields, name: string, value: string): string | undefined {
  switch (name.length) {
    case 4:
      if (name === "host") fields.hostCount++;
      break;
    case 6:
      if (name === "expect") fields.expect = true;
      break;
    case 7:
      if (name === "upgrade") fields.upgrade = true;
      break;
    case 10:
      if (name === "connection") fields.connection |= connectionTokens(value);
      break;
    case 14:
      if (name === "content-length") return noteContentLength(fields, value);
      break;
    case 17:
      if (name === "transfer-encoding") {
        fields.transferEncoding = fields.transferEncoding === null ? value : `${fields.transferEncoding}, ${value}`;
      }
      break;
  }
  return undefined;
}

function noteContentLength(fields: HeadFields, value: string): string | undefined {
  const length = contentLength(value);
  if (length === -1) return "invalid content-length";
  if (fields.contentLength !== -1 && fields.contentLength !== length) return "differing content-length fields";
  fields.contentLength = length;
  return undefined;
}

/** The value of a content-length field: digits only, at most 2^53; -1 otherwise. */
function contentLength(value: string): number {
  if (value.length === 0) return -1;
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    length = length * 10 + digit;
    if (length > MAX_CONTENT_LENGTH) return -1;
  }
  return length;
}

/** Why a request must go to node:http instead, if it must. */
function requestRefusal(fields: HeadFields): string | undefined {
  if (fields.transferEncoding !== null) return "transfer-encoding";
  if (fields.expect) return "expect";
  if (fields.upgrade || (fields.connection & CONNECTION_UPGRADE) !== 0) return "upgrade";
  if (fields.hostCount === 0) return "no host field";
  if (fields.hostCount > 1) return "several host fields";
  return undefined;
}

/** RFC 9112 §6.3, for a response whose head was read. */
function responseFraming(status: number, requestMethod: string, fields: HeadFields): BodyFraming {
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304) return NO_BODY;
  const codings = fields.transferEncoding;
  if (codings !== null) return lastCodingIsChunked(codings) ? CHUNKED : UNTIL_CLOSE;
  const length = fields.contentLength;
  if (length === -1) return UNTIL_CLOSE;
  return length === 0 ? NO_BODY : { kind: "length", length };
}

/** Whether the last coding of a transfer-encoding list is chunked. */
function lastCodingIsChunked(codings: string): boolean {
  const comma = codings.lastIndexOf(",");
  return tokenAt(codings, comma + 1, codings.length, "chunked");
}

/** The three-digit status code of a status line (100 to 999), or -1. */
function statusCode(text: string): number {
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    status = status * 10 + digit;
  }
  return status >= 100 ? status : -1;
}

/** Where the status line's CRLF starts, checking the reason phrase before it; -1 when malformed. */
function reasonPhraseEnd(text: string): number {
  let pos = 12;
  let code = text.charCodeAt(pos);
  if (code === CR) return text.charCodeAt(pos + 1) === LF ? pos : -1;
  if (code !== SP) return -1;
  code = text.charCodeAt(++pos);
  while (code !== CR) {
    if (isControl(code)) return -1;
    code = text.charCodeAt(++pos);
  }
  return text.charCodeAt(pos + 1) === LF ? pos : -1;
}

/** The CONNECTION_* flags of a Connection field value (a comma-separated list, case-insensitive). */
function connectionTokens(value: string): number {
  let flags = 0;
  let from = 0;
  while (from <= value.length) {
    let to = value.indexOf(",", from);
    if (to === -1) to = value.length;
    if (tokenAt(value, from, to, "close")) flags |= CONNECTION_CLOSE;
    else if (tokenAt(value, from, to, "upgrade")) flags |= CONNECTION_UPGRADE;
    else if (tokenAt(value, from, to, "keep-alive")) flags |= CONNECTION_KEEP_ALIVE;
    from = to + 1;
  }
  return flags;
}

/**
 * Whether `text[from..to]`, without surrounding SP/HTAB, is the lower-case token `token` in any case.
 * `| 0x20` lower-cases letters; for '-' it also lets CR through, which validated values cannot hold.
 */
function tokenAt(text: string, from: number, to: number, token: string): boolean {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  if (to - from !== token.length) return false;
  for (let i = 0; i < token.length; i++) {
    if ((text.charCodeAt(from + i) | 0x20) !== token.charCodeAt(i)) return false;
  }
  return true;
}

function isSpace(code: number): boolean {
  return code === SP || code === HTAB;
}

/** A CTL other than HTAB (NUL, CR, LF, DEL and the like), which no field value may hold. */
function isControl(code: number): boolean {
  return (code < SP && code !== HTAB) || code === 127;
}

function isTchar(code: number): boolean {
  return TCHAR[code] !== 0;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function countOf(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at !== -1; at = text.indexOf(char, at + 1)) count++;
  return count;
}

function tcharTable(): Uint8Array {
  const table = new Uint8Array(256);
  for (const char of "!#$%&'*+-.^_`|~") table[char.charCodeAt(0)] = TCHAR_OTHER;
  for (let code = 48; code <= 57; code++) table[code] = TCHAR_OTHER;
  for (let code = 65; code <= 90; code++) table[code] = TCHAR_UPPER;
  for (let code = 97; code <= 122; code++) table[code] = TCHAR_OTHER;
  return table;
}

/** `buffer[start..end]` as a latin1 string, through Buffer's undocumented but long-standing fast path. */
function latin1(buffer: Buffer, start: number, end: number): string {
  return (buffer as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}

function fallback(reason: string): RequestParse {
  return { kind: "fallback", reason };
}

function invalid(reason: string): ResponseParse {
  return { kind: "invalid", reason };
}
