// The fast path's HTTP/1.1 codec: request heads parsed or handed to node:http (fallback), response heads
// with their RFC 9112 framing, chunked bodies followed across every split, and heads written back out.
import { describe, expect, it } from "vitest";
import { HeaderList } from "../../../../edge-proxy/core/http/header-list.js";
import {
  ChunkedScanner,
  parseRequestHead,
  parseResponseHead,
  serializeHead,
  type RequestHead,
  type ResponseHead,
} from "../../../../edge-proxy/hosts/sidecar/traffic/http1-codec.js";

const MAX = 16 * 1024;

function bytes(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

function requestHead(text: string, start = 0): RequestHead {
  const parsed = parseRequestHead(bytes(text), start, MAX);
  if (parsed.kind !== "head") throw new Error(`expected a head, got ${JSON.stringify(parsed)}`);
  return parsed.head;
}

function responseHead(text: string, method = "GET"): ResponseHead {
  const parsed = parseResponseHead(bytes(text), 0, MAX, method);
  if (parsed.kind !== "head") throw new Error(`expected a head, got ${JSON.stringify(parsed)}`);
  return parsed.head;
}

function requestFallback(text: string, max = MAX): string {
  const parsed = parseRequestHead(bytes(text), 0, max);
  if (parsed.kind !== "fallback") throw new Error(`expected fallback, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

function responseInvalid(text: string, method = "GET", max = MAX): string {
  const parsed = parseResponseHead(bytes(text), 0, max, method);
  if (parsed.kind !== "invalid") throw new Error(`expected invalid, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

describe("parseRequestHead", () => {
  it("parses a GET without a body", () => {
    const text = "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    const head = requestHead(text);
    expect(head.method).toBe("GET");
    expect(head.target).toBe("/a/b?x=1&y=%20");
    expect(head.headers.entries()).toEqual(["host", "example.com", "accept", "*/*"]);
    expect(head.end).toBe(text.length);
    expect(head.framing).toEqual({ kind: "none" });
    expect(head.keepAlive).toBe(true);
  });

  it("parses a POST with content-length, leaving the body after `end`", () => {
    const text = "POST /submit HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\nhello";
    const head = requestHead(text);
    expect(head.method).toBe("POST");
    expect(head.framing).toEqual({ kind: "length", length: 5 });
    expect(text.slice(head.end)).toBe("hello");
  });

  it("takes content-length 0 and repeated equal content-lengths", () => {
    expect(requestHead("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").framing).toEqual({ kind: "none" });
    const head = requestHead("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\ncontent-length: 007\r\n\r\n");
    expect(head.framing).toEqual({ kind: "length", length: 7 });
    expect(requestHead(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${2 ** 53}\r\n\r\n`).framing).toEqual({
      kind: "length",
      length: 2 ** 53,
    });
  });

  it("is not keep-alive when a connection header says close, in any case or list position", () => {
    expect(requestHead("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive).toBe(false);
    expect(requestHead("GET / HTTP/1.1\r\nHost: h\r\nConnection: x-a , CLOSE\r\n\r\n").keepAlive).toBe(false);
    expect(requestHead("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: Close\r\n\r\n").keepAlive).toBe(false);
    expect(requestHead("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, closed\r\n\r\n").keepAlive).toBe(true);
  });

  it("keeps repeated fields in order, lower-cases names and trims values", () => {
    const head = requestHead(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Multi: one\r\nAccept:text/html\r\nx-multi: \t two \t\r\nX-Empty:\r\nX-Blank:   \r\nX-Inner: a  b\r\nX-Latin: caf\xe9\r\n\r\n",
    );
    expect(head.headers.entries()).toEqual([
      "host", "h", "x-multi", "one", "accept", "text/html", "x-multi", "two",
      "x-empty", "", "x-blank", "", "x-inner", "a  b", "x-latin", "caf\xe9",
    ]);
    expect(head.headers.get("x-multi")).toBe("one, two");
    expect(head.headers.getAll("x-multi")).toEqual(["one", "two"]);
  });

  it("parses at an offset and a pipelined request after the first", () => {
    const first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    const second = "DELETE /two?q HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab";
    const buffer = bytes("junk" + first + second);
    const one = parseRequestHead(buffer, 4, MAX);
    expect(one.kind).toBe("head");
    if (one.kind !== "head") return;
    expect(one.head.target).toBe("/one");
    expect(one.head.end).toBe(4 + first.length);
    const two = parseRequestHead(buffer, one.head.end, MAX);
    expect(two.kind).toBe("head");
    if (two.kind !== "head") return;
    expect(two.head.method).toBe("DELETE");
    expect(two.head.target).toBe("/two?q");
    expect(buffer.toString("latin1", two.head.end)).toBe("ab");
  });

  it("is incomplete at every split of a valid head", () => {
    const text = "PUT /x?y=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nX-A: b\r\n\r\n";
    const whole = bytes("pre" + text);
    for (let cut = 3; cut < whole.length; cut++) {
      expect(parseRequestHead(whole.subarray(0, cut), 3, MAX), `cut ${cut}`).toEqual({ kind: "incomplete" });
    }
    expect(parseRequestHead(whole, 3, MAX).kind).toBe("head");
  });

  it("falls back when the head exceeds maxHeadBytes", () => {
    const text = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    expect(parseRequestHead(bytes(text), 0, text.length).kind).toBe("head");
    requestFallback(text, text.length - 1);
    // No blank line yet but already maxHeadBytes long: it cannot fit any more.
    const partial = "GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaa";
    expect(parseRequestHead(bytes(partial), 0, partial.length + 1)).toEqual({ kind: "incomplete" });
    requestFallback(partial, partial.length);
  });

  describe("falls back", () => {
    const host = "Host: h\r\n";
    const cases: [string, string, string][] = [
      ["HTTP/1.0", `GET / HTTP/1.0\r\n${host}\r\n`, "not HTTP/1.1"],
      ["HTTP/2.0", `GET / HTTP/2.0\r\n${host}\r\n`, "not HTTP/1.1"],
      ["lower-case version", `GET / http/1.1\r\n${host}\r\n`, "not HTTP/1.1"],
      ["a lower-case method", `get / HTTP/1.1\r\n${host}\r\n`, "method not a token of A-Z followed by SP"],
      ["a method with a non-letter", `M-SEARCH / HTTP/1.1\r\n${host}\r\n`, "method not a token of A-Z followed by SP"],
      ["an empty method", ` / HTTP/1.1\r\n${host}\r\n`, "method not a token of A-Z followed by SP"],
      ["two spaces after the method", `GET  / HTTP/1.1\r\n${host}\r\n`, "request-target not in origin-form"],
      ["asterisk-form", `OPTIONS * HTTP/1.1\r\n${host}\r\n`, "request-target not in origin-form"],
      ["absolute-form", `GET http://h/ HTTP/1.1\r\n${host}\r\n`, "request-target not in origin-form"],
      ["authority-form", `CONNECT h:443 HTTP/1.1\r\n${host}\r\n`, "request-target not in origin-form"],
      ["a space inside the target", `GET /a b HTTP/1.1\r\n${host}\r\n`, "not HTTP/1.1"],
      ["a CTL inside the target", `GET /a\x01b HTTP/1.1\r\n${host}\r\n`, "request-target with SP or CTL"],
      ["DEL inside the target", `GET /a\x7fb HTTP/1.1\r\n${host}\r\n`, "request-target with SP or CTL"],
      ["a non-ASCII byte inside the target", `GET /caf\xe9 HTTP/1.1\r\n${host}\r\n`, "request-target with SP or CTL"],
      ["trailing space after the version", `GET / HTTP/1.1 \r\n${host}\r\n`, "not HTTP/1.1"],
      ["a leading empty line", `\r\nGET / HTTP/1.1\r\n${host}\r\n`, "method not a token of A-Z followed by SP"],
      ["a bare LF ending the request line", `GET / HTTP/1.1\n${host}\r\n`, "not HTTP/1.1"],
      ["a bare LF ending a field line", `GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n`, "bare LF"],
      ["a bare LF in a value", `GET / HTTP/1.1\r\n${host}X-A: a\nb\r\n\r\n`, "bare LF"],
      ["a bare CR in a value", `GET / HTTP/1.1\r\n${host}X-A: a\rb\r\n\r\n`, "bare CR"],
      ["a NUL in a value", `GET / HTTP/1.1\r\n${host}X-A: a\x00b\r\n\r\n`, "CTL in field value"],
      ["DEL in a value", `GET / HTTP/1.1\r\n${host}X-A: a\x7fb\r\n\r\n`, "CTL in field value"],
      ["obs-fold", `GET / HTTP/1.1\r\n${host}X-A: a\r\n b\r\n\r\n`, "obs-fold line"],
      ["obs-fold with HTAB", `GET / HTTP/1.1\r\n${host}X-A: a\r\n\tb\r\n\r\n`, "obs-fold line"],
      ["whitespace before the colon", `GET / HTTP/1.1\r\nHost : h\r\n\r\n`, "invalid field name"],
      ["an empty field name", `GET / HTTP/1.1\r\n${host}: x\r\n\r\n`, "invalid field name"],
      ["a non-token field name", `GET / HTTP/1.1\r\n${host}X(A): x\r\n\r\n`, "invalid field name"],
      ["a line without a colon", `GET / HTTP/1.1\r\n${host}X-A\r\n\r\n`, "invalid field name"],
      ["transfer-encoding", `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`, "transfer-encoding"],
      ["an empty transfer-encoding", `POST / HTTP/1.1\r\n${host}Transfer-Encoding:\r\n\r\n`, "transfer-encoding"],
      ["expect", `POST / HTTP/1.1\r\n${host}Expect: 100-continue\r\nContent-Length: 1\r\n\r\n`, "expect"],
      ["upgrade", `GET / HTTP/1.1\r\n${host}Upgrade: websocket\r\n\r\n`, "upgrade"],
      ["connection: upgrade", `GET / HTTP/1.1\r\n${host}Connection: keep-alive, Upgrade\r\n\r\n`, "upgrade"],
      ["a content-length with a sign", `POST / HTTP/1.1\r\n${host}Content-Length: +5\r\n\r\n`, "invalid content-length"],
      ["a content-length with a letter", `POST / HTTP/1.1\r\n${host}Content-Length: 5a\r\n\r\n`, "invalid content-length"],
      ["an empty content-length", `POST / HTTP/1.1\r\n${host}Content-Length: \r\n\r\n`, "invalid content-length"],
      ["a content-length list", `POST / HTTP/1.1\r\n${host}Content-Length: 5, 5\r\n\r\n`, "invalid content-length"],
      ["differing content-lengths", `POST / HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, "differing content-length fields"],
      ["a content-length past 2^53", `POST / HTTP/1.1\r\n${host}Content-Length: ${2 ** 53 + 2}\r\n\r\n`, "invalid content-length"],
      ["a huge content-length", `POST / HTTP/1.1\r\n${host}Content-Length: ${"9".repeat(40)}\r\n\r\n`, "invalid content-length"],
      ["no host", `GET / HTTP/1.1\r\nAccept: */*\r\n\r\n`, "no host field"],
      ["two host fields", `GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n`, "several host fields"],
    ];
    for (const [name, text, reason] of cases) {
      it(`on ${name}`, () => {
        expect(requestFallback(text)).toBe(reason);
      });
    }
  });
});

describe("parseResponseHead", () => {
  it("frames by content-length and keeps HTTP/1.1 alive", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    const head = responseHead(text);
    expect(head.status).toBe(200);
    expect(head.reason).toBe("OK");
    expect(head.framing).toEqual({ kind: "length", length: 5 });
    expect(head.keepAlive).toBe(true);
    expect(head.headers.entries()).toEqual(["content-length", "5", "content-type", "text/plain"]);
    expect(text.slice(head.end)).toBe("hello");
  });

  it("has no body for HEAD, 1xx, 204, 304 and content-length 0", () => {
    expect(responseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD").framing).toEqual({ kind: "none" });
    expect(responseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD").framing).toEqual({ kind: "none" });
    expect(responseHead("HTTP/1.1 100 Continue\r\n\r\n").framing).toEqual({ kind: "none" });
    expect(responseHead("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n").framing).toEqual({ kind: "none" });
    expect(responseHead("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").framing).toEqual({ kind: "none" });
    const notModified = responseHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    expect(notModified.framing).toEqual({ kind: "none" });
    expect(notModified.keepAlive).toBe(true);
    expect(responseHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").framing).toEqual({ kind: "none" });
  });

  it("is chunked when the last transfer coding is chunked, ignoring and removing content-length", () => {
    expect(responseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing).toEqual({ kind: "chunked" });
    expect(responseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n").framing).toEqual({ kind: "chunked" });
    expect(responseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n").framing).toEqual({
      kind: "chunked",
    });
    const both = responseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n");
    expect(both.framing).toEqual({ kind: "chunked" });
    expect(both.keepAlive).toBe(true);
    expect(both.headers.entries()).toEqual(["transfer-encoding", "chunked", "x-a", "b"]);
  });

  it("reads until close when transfer-encoding does not end in chunked, or nothing delimits the body", () => {
    const gzip = responseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    expect(gzip.framing).toEqual({ kind: "close" });
    expect(gzip.keepAlive).toBe(false);
    const bare = responseHead("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    expect(bare.framing).toEqual({ kind: "close" });
    expect(bare.keepAlive).toBe(false);
  });

  it("decides keep-alive from the version and connection tokens", () => {
    expect(responseHead("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n").keepAlive).toBe(false);
    expect(responseHead("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").keepAlive).toBe(false);
    const kept = responseHead("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n");
    expect(kept.keepAlive).toBe(true);
    expect(kept.framing).toEqual({ kind: "length", length: 1 });
    expect(responseHead("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\n").keepAlive).toBe(false);
    expect(responseHead("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keepAlive).toBe(false);
    expect(responseHead("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n").keepAlive).toBe(false);
  });

  it("parses at an offset, leaving the rest of the buffer", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A:  b \r\n\r\nok";
    const parsed = parseResponseHead(bytes("previous" + text), 8, MAX, "GET");
    expect(parsed.kind).toBe("head");
    if (parsed.kind !== "head") return;
    expect(parsed.head.headers.entries()).toEqual(["content-length", "2", "x-a", "b"]);
    expect(parsed.head.end).toBe(8 + text.length - 2);
  });

  it("reads empty and spaced reason phrases", () => {
    expect(responseHead("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").reason).toBe("");
    expect(responseHead("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason).toBe("");
    expect(responseHead("HTTP/1.1 404 Not  Found\there\r\nContent-Length: 0\r\n\r\n").reason).toBe("Not  Found\there");
    expect(responseHead("HTTP/1.1 599 x\r\nContent-Length: 0\r\n\r\n").status).toBe(599);
  });

  it("is incomplete at every split and invalid past maxHeadBytes", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const whole = bytes(text);
    const headLength = text.length - 2;
    for (let cut = 0; cut < headLength; cut++) {
      expect(parseResponseHead(whole.subarray(0, cut), 0, MAX, "GET"), `cut ${cut}`).toEqual({ kind: "incomplete" });
    }
    expect(parseResponseHead(whole, 0, headLength, "GET").kind).toBe("head");
    responseInvalid(text, "GET", headLength - 1);
  });

  describe("is invalid", () => {
    const cases: [string, string, string][] = [
      ["HTTP/2", "HTTP/2 200 OK\r\n\r\n", "status line not HTTP/1.0 or HTTP/1.1"],
      ["HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", "status line not HTTP/1.0 or HTTP/1.1"],
      ["another protocol", "ICY 200 OK\r\n\r\n", "status line not HTTP/1.0 or HTTP/1.1"],
      ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "status code not three digits"],
      ["a four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "invalid reason phrase"],
      ["a status under 100", "HTTP/1.1 099 OK\r\n\r\n", "status code not three digits"],
      ["a CTL in the reason", "HTTP/1.1 200 O\x00K\r\n\r\n", "invalid reason phrase"],
      ["a bare LF ending the status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "invalid reason phrase"],
      ["differing content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "differing content-length fields"],
      ["an invalid content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid content-length"],
      ["obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", "obs-fold line"],
      ["a bare LF", "HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n", "bare LF"],
      ["whitespace before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "invalid field name"],
    ];
    for (const [name, text, reason] of cases) {
      it(`on ${name}`, () => {
        expect(responseInvalid(text)).toBe(reason);
      });
    }
  });
});

describe("ChunkedScanner", () => {
  const body =
    "4;name=value\r\nWiki\r\n" +
    "1A\r\n0\r\n\r\n0\r\n\r\n0123456789abcdef\r\n" + // data that looks like framing is skipped
    "a;x;y=\"q\"\r\n\r\n\r\nabcdef\r\n" +
    "0;last=1\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Trailer:\tv\r\n\r\n";
  const next = "HTTP/1.1 200 OK\r\n\r\n";
  const stream = bytes(body + next);

  it("finds the end of the body when fed in one piece", () => {
    const scanner = new ChunkedScanner();
    expect(scanner.push(stream)).toBe(body.length);
    expect(scanner.done).toBe(true);
    expect(scanner.push(bytes(next))).toBe(0);
  });

  it("counts the payload bytes without the framing", () => {
    const scanner = new ChunkedScanner();
    for (const byte of stream.subarray(0, body.length)) scanner.push(Buffer.from([byte]));
    expect(scanner.dataBytes).toBe(0x4 + 0x1a + 0xa);
  });

  it("finds the end at every split point", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const scanner = new ChunkedScanner();
      const first = scanner.push(stream.subarray(0, cut));
      if (cut <= body.length) {
        expect(first, `cut ${cut}`).toBe(cut);
        expect(scanner.done, `cut ${cut}`).toBe(cut === body.length);
        if (cut < body.length) expect(scanner.push(stream.subarray(cut)), `cut ${cut}`).toBe(body.length - cut);
      } else {
        expect(first, `cut ${cut}`).toBe(body.length);
      }
      expect(scanner.done, `cut ${cut}`).toBe(true);
    }
  });

  it("finds the end fed a byte at a time", () => {
    const scanner = new ChunkedScanner();
    let consumed = 0;
    for (let i = 0; i < stream.length; i++) {
      const taken = scanner.push(stream.subarray(i, i + 1));
      expect(taken, `byte ${i}`).toBe(i < body.length ? 1 : 0);
      consumed += taken;
      expect(scanner.done, `byte ${i}`).toBe(i >= body.length - 1);
    }
    expect(consumed).toBe(body.length);
  });

  it("follows a body split into three pieces at every pair of points", () => {
    const small = bytes("3\r\nabc\r\n0\r\n\r\nNEXT");
    const end = small.length - 4;
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b++) {
        const scanner = new ChunkedScanner();
        let total = 0;
        for (const piece of [small.subarray(0, a), small.subarray(a, b), small.subarray(b)]) total += scanner.push(piece);
        expect(total, `${a}/${b}`).toBe(end);
        expect(scanner.done).toBe(true);
      }
    }
  });

  it("accepts 16 hex digits and an empty body", () => {
    expect(new ChunkedScanner().push(bytes("0000000000000003\r\nabc\r\n0\r\n\r\n"))).toBe(28);
    expect(new ChunkedScanner().push(bytes("0\r\n\r\n"))).toBe(5);
  });

  const invalid: [string, string][] = [
    ["an empty chunk size", "\r\nabc\r\n0\r\n\r\n"],
    ["a non-hex chunk size", "g\r\n"],
    ["a sign before the size", "+3\r\nabc\r\n0\r\n\r\n"],
    ["whitespace after the size", "3 \r\nabc\r\n0\r\n\r\n"],
    ["17 hex digits", "00000000000000003\r\nabc\r\n0\r\n\r\n"],
    ["a size past 2^53", "fffffffffffffff\r\n"],
    ["a bare LF after the size", "3\nabc\r\n0\r\n\r\n"],
    ["a LF inside an extension", "3;a\nb\r\nabc\r\n0\r\n\r\n"],
    ["no CRLF after the data", "3\r\nabcd\r\n0\r\n\r\n"],
    ["a bare LF after the data", "3\r\nabc\n0\r\n\r\n"],
    ["a trailer line without a colon", "0\r\nExpires\r\n\r\n"],
    ["a trailer name with a space", "0\r\nX A: b\r\n\r\n"],
    ["a folded trailer line", "0\r\nX-A: b\r\n c\r\n\r\n"],
    ["a bare LF ending the trailers", "0\r\n\n"],
    ["a bare CR ending the trailers", "0\r\n\rX"],
  ];
  for (const [name, text] of invalid) {
    it(`answers -1 on ${name}, whole and a byte at a time`, () => {
      expect(new ChunkedScanner().push(bytes(text))).toBe(-1);
      const scanner = new ChunkedScanner();
      let result = 0;
      for (let i = 0; i < text.length && result !== -1; i++) result = scanner.push(bytes(text[i]!));
      expect(result).toBe(-1);
      expect(scanner.push(bytes("0\r\n\r\n"))).toBe(-1);
      expect(scanner.done).toBe(false);
    });
  }
});

describe("serializeHead", () => {
  it("round-trips a request through parseRequestHead", () => {
    const headers = new HeaderList(["host", "svc.local", "x-multi", "a", "x-multi", "b", "content-length", "3"]);
    const buffer = serializeHead("POST /p?q=1 HTTP/1.1", headers);
    expect(buffer.toString("latin1")).toBe(
      "POST /p?q=1 HTTP/1.1\r\nhost: svc.local\r\nx-multi: a\r\nx-multi: b\r\ncontent-length: 3\r\n\r\n",
    );
    const head = requestHead(buffer.toString("latin1"));
    expect(head.method).toBe("POST");
    expect(head.target).toBe("/p?q=1");
    expect(head.headers.entries()).toEqual(headers.entries());
    expect(head.framing).toEqual({ kind: "length", length: 3 });
    expect(head.end).toBe(buffer.length);
  });

  it("round-trips a response through parseResponseHead, latin1 bytes included", () => {
    const headers = new HeaderList(["transfer-encoding", "chunked", "x-name", "caf\xe9"]);
    const buffer = serializeHead("HTTP/1.1 201 Created", headers);
    expect(buffer.includes(0xe9)).toBe(true);
    const parsed = parseResponseHead(buffer, 0, MAX, "POST");
    expect(parsed.kind).toBe("head");
    if (parsed.kind !== "head") return;
    expect(parsed.head.status).toBe(201);
    expect(parsed.head.reason).toBe("Created");
    expect(parsed.head.headers.entries()).toEqual(headers.entries());
    expect(parsed.head.framing).toEqual({ kind: "chunked" });
  });

  it("writes a head without fields", () => {
    expect(serializeHead("HTTP/1.1 204 No Content", new HeaderList()).toString("latin1")).toBe("HTTP/1.1 204 No Content\r\n\r\n");
  });

  it("refuses a CR or LF that would split the head", () => {
    expect(() => serializeHead("HTTP/1.1 200 OK", new HeaderList(["x-a", "b\r\nx-evil: 1"]))).toThrow(TypeError);
    expect(() => serializeHead("HTTP/1.1 200 OK", new HeaderList(["x-a\n", "b"]))).toThrow(TypeError);
    expect(() => serializeHead("HTTP/1.1 200 OK\r", new HeaderList())).toThrow(TypeError);
  });
});
