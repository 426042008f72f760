// An open-loop HTTP/1.1 load generator for `npm run bench:sidecar`: requests are scheduled at a fixed
// rate whatever the answers do, over a pool of keep-alive connections (one request in flight on each),
// and each latency is measured from the request's *scheduled* time, so a slow answer that holds back
// the next sends is counted against the server (no coordinated omission). A request that finds no idle
// connection waits in a queue; its wait counts too. Node's timers have a 1 ms granularity, so each tick
// releases the requests due within the next LEAD_MS: a request released early is timed from its release
// (its real start), one released late from its scheduled time; the rate is kept either way. Raw sockets and a minimal response parser
// (Content-Length or chunked) keep the generator's own cost per request low (tens of microseconds).
// Prints one JSON line at the end:
//   {"scheduled","completed","errors","non2xx","bytes","p50_ms","p90_ms","p99_ms","p999_ms","max_ms","mean_ms",
//    "service_p50_ms","service_p99_ms","rate","achieved_rps"}
// (`service_*`: from the actual send, not the schedule; for a look at the generator's own lag).
//   node open-loop.mjs --host IP --port N [--host-header H] [--path /] --rate 1000 --seconds 10
//        [--warmup 1] [--connections 32] [--timeout-ms 5000]
import net from "node:net";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    "host-header": { type: "string" },
    path: { type: "string", default: "/" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "32" },
    "timeout-ms": { type: "string", default: "5000" },
  },
});
const HOST = flags.host;
const PORT = Number(flags.port);
const RATE = Number(flags.rate);
const SECONDS = Number(flags.seconds);
const WARMUP = Number(flags.warmup);
const CONNECTIONS = Number(flags.connections);
const TIMEOUT_MS = Number(flags["timeout-ms"]);
if (!HOST || !(PORT > 0) || !(RATE > 0) || !(SECONDS > 0) || !(WARMUP >= 0) || !(CONNECTIONS > 0)) {
  process.stderr.write("usage: open-loop.mjs --host IP --port N --rate R --seconds S [--warmup W] [--connections C] [--host-header H] [--path P]\n");
  process.exit(2);
}
const REQUEST = Buffer.from(`GET ${flags.path} HTTP/1.1\r\nHost: ${flags["host-header"] ?? `${HOST}:${PORT}`}\r\nUser-Agent: bench-open-loop\r\nAccept: */*\r\n\r\n`);
const CRLFCRLF = Buffer.from("\r\n\r\n");
/** Requests due within this many ms are released at the current tick (the timer granularity). */
const LEAD_MS = 1;

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const totalRequests = Math.round(RATE * (WARMUP + SECONDS));
const warmupRequests = Math.round(RATE * WARMUP);
const latencies = new Float64Array(totalRequests);
const service = new Float64Array(totalRequests);
let measured = 0;
let completed = 0;
let errors = 0;
let non2xx = 0;
let bytes = 0;
let scheduled = 0;
/** Scheduled times (ms) of requests waiting for a connection. */
const queue = [];
let queueHead = 0;
const idle = [];

class Connection {
  constructor() {
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    this.due = 0;
    this.sentAt = 0;
    this.index = -1;
    this.busy = false;
    this.open();
  }
  open() {
    this.buffer = Buffer.alloc(0);
    const socket = net.connect({ host: HOST, port: PORT, noDelay: true });
    this.socket = socket;
    socket.on("connect", () => {
      if (!this.busy) release(this);
      else socket.write(REQUEST);
    });
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.socket !== socket) return;
      if (this.busy) this.fail();
      const at = idle.indexOf(this);
      if (at >= 0) idle.splice(at, 1);
      if (!finished) setTimeout(() => this.open(), 10);
    });
  }
  send(due, index) {
    this.busy = true;
    this.due = due;
    this.index = index;
    this.sentAt = nowMs();
    this.buffer = Buffer.alloc(0);
    if (this.socket.connecting) return;
    this.socket.write(REQUEST);
  }
  fail() {
    errors++;
    this.busy = false;
    done();
  }
  onData(chunk) {
    if (!this.busy) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(CRLFCRLF);
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString("latin1");
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const bodyStart = end + 4;
    let complete = false;
    const closeAfter = /\r\nconnection:\s*close/.test(lower);
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (lengthMatch !== null) {
      const length = Number(lengthMatch[1]);
      if (this.buffer.length - bodyStart >= length) {
        complete = true;
        bytes += length;
      }
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      let at = bodyStart;
      let body = 0;
      for (;;) {
        const lineEnd = this.buffer.indexOf("\r\n", at);
        if (lineEnd < 0) break;
        const size = parseInt(this.buffer.subarray(at, lineEnd).toString("latin1"), 16);
        if (size === 0) {
          complete = this.buffer.length >= lineEnd + 4; // no trailers: "0\r\n\r\n"
          break;
        }
        if (this.buffer.length < lineEnd + 2 + size + 2) break;
        body += size;
        at = lineEnd + 2 + size + 2;
      }
      if (complete) bytes += body;
    } else {
      complete = true; // no body (204, 304): the head is the answer
    }
    if (!complete) return;
    const t = nowMs();
    if (status < 200 || status > 299) non2xx++;
    if (this.index >= warmupRequests) {
      latencies[measured] = t - this.due;
      service[measured] = t - this.sentAt;
      measured++;
    }
    completed++;
    lastDone = t;
    this.busy = false;
    this.buffer = Buffer.alloc(0);
    if (closeAfter) {
      this.socket.destroy();
      return;
    }
    release(this);
  }
}

/** A connection is free: give it the oldest waiting request, else keep it idle. */
function release(connection) {
  if (queueHead < queue.length) {
    const [due, index] = queue[queueHead++];
    if (queueHead > 4096) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    connection.send(due, index);
  } else idle.push(connection);
  done();
}

let finished = false;
let start = 0;
let lastDone = 0;
function tick() {
  const now = nowMs();
  while (scheduled < totalRequests) {
    const due = start + (scheduled * 1000) / RATE;
    if (due > now + LEAD_MS) break;
    const from = Math.min(due, now);
    const connection = idle.pop();
    if (connection !== undefined) connection.send(from, scheduled);
    else queue.push([from, scheduled]);
    scheduled++;
  }
  if (scheduled < totalRequests) {
    const next = start + (scheduled * 1000) / RATE - LEAD_MS;
    setTimeout(tick, Math.max(0, Math.floor(next - nowMs())));
  } else {
    deadline = setTimeout(report, TIMEOUT_MS);
  }
}

let deadline;
function done() {
  if (!finished && scheduled >= totalRequests && completed + errors >= totalRequests) report();
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report() {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  const lat = latencies.subarray(0, measured).sort();
  const svc = service.subarray(0, measured).sort();
  let sum = 0;
  for (const v of lat) sum += v;
  const round = (v) => Math.round(v * 1000) / 1000;
  const result = {
    scheduled,
    completed,
    measured,
    errors: errors + (totalRequests - completed - errors),
    non2xx,
    bytes,
    p50_ms: round(percentile(lat, 50)),
    p90_ms: round(percentile(lat, 90)),
    p99_ms: round(percentile(lat, 99)),
    p999_ms: round(percentile(lat, 99.9)),
    max_ms: round(lat[lat.length - 1] ?? NaN),
    mean_ms: round(sum / Math.max(1, lat.length)),
    service_p50_ms: round(percentile(svc, 50)),
    service_p99_ms: round(percentile(svc, 99)),
    rate: RATE,
    // Answers per second over the whole run: below the rate when the server fell behind the schedule.
    achieved_rps: Math.round((completed * 1000) / Math.max(1, lastDone - start)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const c of pool) c.socket.destroy();
  process.exit(0);
}

const pool = Array.from({ length: CONNECTIONS }, () => new Connection());
// Let the connections come up before the clock starts.
setTimeout(() => {
  start = nowMs();
  tick();
}, 200);
