/**
 * @module hosts/sidecar/traffic/sniff
 * Reads the first bytes of a connection until a classifier can tell its protocol, then stops reading
 * and hands the bytes back, so nothing is lost: the caller either `unshift`s them into the socket before
 * giving it to node:http or node:tls (both read a socket's buffered bytes first), or writes them to the
 * upstream of a TCP pipe. The socket is left paused; the next consumer resumes it.
 *
 * The classifier sees everything read so far and answers undefined to wait for more. When the client
 * sends nothing more (the detection timeout, the byte limit, or its end of stream) it is asked once
 * with `final` set and must decide. A client that closes or fails during the sniff gives undefined.
 */
import type net from "node:net";

export interface Sniffed<T> {
  verdict: T;
  /** Every byte read from the socket so far. */
  head: Buffer;
  /** The client ended its side during the sniff: the head is all it will send. */
  ended: boolean;
}

export interface SniffOptions {
  /** How long to wait for bytes that settle the verdict. */
  timeoutMs: number;
  /** Decide once this many bytes are in. */
  maxBytes: number;
}

export type Classifier<T> = (head: Buffer, final: boolean) => T | undefined;

const EMPTY: Buffer = Buffer.alloc(0);

export function sniff<T>(socket: net.Socket, classify: Classifier<T>, options: SniffOptions): Promise<Sniffed<T> | undefined> {
  return new Promise((resolve) => {
    let head: Buffer = EMPTY;
    let settled = false;
    const finish = (result: Sniffed<T> | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      socket.pause();
      resolve(result);
    };
    const decideNow = (ended: boolean) => finish({ verdict: classify(head, true) as T, head, ended });
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const verdict = classify(head, false);
      if (verdict !== undefined) finish({ verdict, head, ended: false });
      else if (head.length >= options.maxBytes) decideNow(false);
    };
    const onEnd = () => (head.length === 0 ? finish(undefined) : decideNow(true));
    const onClose = () => finish(undefined);
    const timer = setTimeout(() => decideNow(false), options.timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onClose);
    socket.resume();
  });
}
