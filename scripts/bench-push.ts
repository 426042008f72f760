/**
 * @module bench-push
 * Benchmarks config delivery end to end (`npm run bench:push -- --proxies N`): starts the control plane
 * locally (`npm start`'s script: wrangler dev in workerd, local D1, a temporary state directory),
 * registers N proxies spread over a few namespaces (few distinct scopes, as replicas of a workload
 * share one), connects N push streams (SSE) with each proxy's own join token, waits until every one
 * holds its first config, applies one VirtualService change every proxy can see, and records per proxy
 * the time from the apply's response until that proxy received a new version. Then it measures
 * `If-None-Match` polls answered 304 per second for a few seconds. The last line is
 * `bench:push proxies=N updated=U p50_ms=A p99_ms=B max_ms=C polls_304_per_s=D`.
 *
 * Flags: --proxies N (100) --namespaces K (10) --poll-seconds S (3) --poll-concurrency C (32)
 *        --timeout-seconds T (30: how long to wait for connections and for the update)
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { parseArgs } from "node:util";
import { startControlPlane, type RunningControlPlane } from "../test/node/support/control-plane.js";
import { measure } from "./bench-support.js";

const { values: flags } = parseArgs({
  options: {
    proxies: { type: "string", default: "100" },
    namespaces: { type: "string", default: "10" },
    "poll-seconds": { type: "string", default: "3" },
    "poll-concurrency": { type: "string", default: "32" },
    "timeout-seconds": { type: "string", default: "30" },
  },
});
const PROXIES = Number(flags.proxies);
const NAMESPACES = Math.min(Number(flags.namespaces), PROXIES);
const POLL_SECONDS = Number(flags["poll-seconds"]);
const POLL_CONCURRENCY = Number(flags["poll-concurrency"]);
const TIMEOUT_MS = Number(flags["timeout-seconds"]) * 1000;
for (const [name, value] of Object.entries({ proxies: PROXIES, namespaces: NAMESPACES, "poll-seconds": POLL_SECONDS, "poll-concurrency": POLL_CONCURRENCY, "timeout-seconds": TIMEOUT_MS })) {
  if (!(value > 0) || !Number.isFinite(value)) throw new TypeError(`--${name} must be a positive number`);
}

/** Registrations and joins run this many at a time. */
const SETUP_CONCURRENCY = 16;
const SERVICE_ACCOUNT = "bench-app";

interface Proxy {
  id: string;
  namespace: string;
  token: string;
  /** Versions received on the stream, with the time each arrived. */
  versions: { version: string; at: number }[];
  stream?: ClientRequest;
  /** Times the stream ended and was reopened. */
  reconnects: number;
}

function log(line: string): void {
  process.stderr.write(`bench:push: ${line}\n`);
}

async function api(cp: RunningControlPlane, method: string, path: string, body?: unknown, token = cp.adminToken): Promise<any> {
  const res = await fetch(cp.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": typeof body === "string" ? "application/yaml" : "application/json" } : {}) },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

/** A VirtualService every proxy imports (no Sidecar, exported everywhere); `prefix` is what the change changes. */
function virtualService(prefix: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: checkout, namespace: bench-0}
spec:
  hosts: [checkout.bench-0.svc.cluster.local]
  http:
  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: checkout.bench-0.svc.cluster.local, port: {number: 8080}}}]
`;
}

/** Set when the benchmark is done: streams that end are then not reopened. */
let closing = false;

/**
 * Opens a proxy's push stream with node:http (one connection each, no pool limit) and records each
 * config event. A stream that ends (the hub was evicted or reloaded) is reopened with Last-Event-ID,
 * as a proxy does.
 */
function connect(cp: RunningControlPlane, proxy: Proxy): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${cp.url}/v1/proxies/${proxy.id}/config/stream`);
    const last = proxy.versions.at(-1)?.version;
    const headers = { authorization: `Bearer ${proxy.token}`, accept: "text/event-stream", ...(last ? { "last-event-id": last } : {}) };
    const reopen = () => {
      if (closing) return;
      proxy.reconnects++;
      setTimeout(() => void connect(cp, proxy).catch(() => reopen()), 100);
    };
    const req = httpRequest(url, { agent: false, headers }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream of ${proxy.id}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      resolve();
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          if (/^event: config$/m.test(block) && id) proxy.versions.push({ version: id, at: performance.now() });
        }
      });
      res.on("error", () => undefined);
      res.on("close", reopen);
    });
    req.on("error", reject);
    req.end();
    proxy.stream = req;
  });
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) {
      log(`timed out waiting for ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** 304 answers per second to `If-None-Match` polls of the current version, from `concurrency` loops. */
async function measurePolls(cp: RunningControlPlane, proxies: readonly Proxy[], seconds: number, concurrency: number): Promise<number> {
  let notModified = 0;
  const { ops, ms } = await measure(seconds, concurrency, async (i) => {
    const proxy = proxies[i % proxies.length]!;
    const held = proxy.versions.at(-1)!.version;
    const res = await fetch(`${cp.url}/v1/proxies/${proxy.id}/config`, { headers: { authorization: `Bearer ${proxy.token}`, "if-none-match": `"${held}"` } });
    await res.arrayBuffer();
    if (res.status === 304) notModified++;
  });
  if (ops > notModified) log(`${ops - notModified} polls were not answered 304`);
  return notModified / (ms / 1000);
}

async function run(cp: RunningControlPlane): Promise<string> {
  log(`control plane at ${cp.url}; registering ${PROXIES} proxies in ${NAMESPACES} namespaces`);
  await api(cp, "POST", "/v1/apply", virtualService("/v1"));
  const tokens: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    tokens.push((await api(cp, "POST", "/v1/join-tokens", { namespace: `bench-${n}`, serviceAccount: SERVICE_ACCOUNT, ttl: "2h" })).token);
  }
  const proxies: Proxy[] = Array.from({ length: PROXIES }, (_, i) => ({ id: `proxy-${i}.bench-${i % NAMESPACES}`, namespace: `bench-${i % NAMESPACES}`, token: tokens[i % NAMESPACES]!, versions: [], reconnects: 0 }));
  await eachLimited(proxies, SETUP_CONCURRENCY, async (proxy, i) => {
    await api(cp, "POST", "/v1/registry/workloads", {
      name: `proxy-${i}`,
      namespace: proxy.namespace,
      serviceAccount: SERVICE_ACCOUNT,
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      labels: { app: "bench-app", version: "v1" },
      ports: [{ port: 8080, name: "http" }],
      ttl: "1h",
    }, proxy.token);
  });

  log(`connecting ${PROXIES} push streams`);
  const connectStart = performance.now();
  await eachLimited(proxies, 64, (proxy) => connect(cp, proxy));
  if (!(await waitFor("every stream's first config", () => proxies.every((p) => p.versions.length > 0), TIMEOUT_MS))) {
    throw new Error(`${proxies.filter((p) => p.versions.length === 0).length} streams got no first config`);
  }
  log(`all ${PROXIES} streams hold their first config after ${Math.round(performance.now() - connectStart)} ms`);
  await new Promise((r) => setTimeout(r, 500)); // let the hub settle (sent-version bookkeeping)

  const first = new Map(proxies.map((p) => [p, p.versions.at(-1)!.version]));
  await api(cp, "POST", "/v1/apply", virtualService("/v2"));
  const applied = performance.now();
  const updatedAt = (p: Proxy) => p.versions.find((v) => v.version !== first.get(p))?.at;
  await waitFor("every proxy's new version", () => proxies.every((p) => updatedAt(p) !== undefined), TIMEOUT_MS);
  const latencies = proxies.map(updatedAt).filter((t): t is number => t !== undefined).map((t) => Math.max(0, t - applied)).sort((a, b) => a - b);

  log(`measuring If-None-Match polls for ${POLL_SECONDS}s at concurrency ${POLL_CONCURRENCY}`);
  const pollsPerSecond = await measurePolls(cp, proxies, POLL_SECONDS, POLL_CONCURRENCY);

  closing = true;
  for (const p of proxies) p.stream?.destroy();
  const reconnects = proxies.reduce((n, p) => n + p.reconnects, 0);
  if (reconnects > 0) log(`streams were reopened ${reconnects} times (the hub was evicted or the Worker reloaded)`);
  const round = (n: number) => (Number.isNaN(n) ? "NaN" : String(Math.round(n)));
  return `bench:push proxies=${PROXIES} updated=${latencies.length} p50_ms=${round(percentile(latencies, 50))} p99_ms=${round(percentile(latencies, 99))} max_ms=${round(latencies.at(-1) ?? NaN)} polls_304_per_s=${round(pollsPerSecond)}`;
}

const cp = await startControlPlane();
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= cp.stop());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void stop().finally(() => process.exit(130)));
}
let exitCode = 0;
try {
  const line = await run(cp);
  await stop();
  console.log(line);
} catch (err) {
  exitCode = 1;
  console.error(err);
  await stop();
}
process.exit(exitCode);
