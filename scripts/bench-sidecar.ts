/**
 * @module bench-sidecar
 * Benchmarks the Kubernetes sidecar's data path (`npm run bench:sidecar`, as root: it makes network
 * namespaces). One run measures three paths to the same application (nginx `return 200` with a 1 KiB
 * body, one worker), with keep-alive on every hop:
 *
 * - direct: the load generator in one namespace, the app in another, across MeshLab's bridge;
 * - sidecars: MeshLab's two pods (capture rules from weft-iptables, `weft sidecar` as uid 1337, the real
 *   control plane): the generator in pod A calls pod B's IP with the service's Host header, A's sidecar
 *   carries it over mesh mutual TLS to B's sidecar, which calls the app on loopback;
 * - nginx: the same shape with two nginx reverse proxies (one worker each): the generator's connection
 *   is REDIRECTed to nginx A in its namespace (one iptables rule), A proxies over mutual TLS
 *   (`proxy_ssl_certificate`, `proxy_ssl_verify on`, upstream keep-alive) to nginx B
 *   (`ssl_verify_client on`), which calls the app on loopback.
 *
 * For each path: a warm-up, then requests per second at saturation (wrk: --connections, --seconds, one
 * thread) with each proxy's CPU time (utime+stime from /proc) per request served, then latency at a
 * fixed --rate (open-loop.mjs: scheduled sends, latency from the scheduled time) and the CPU per request
 * at that rate. Added latency is the proxied path's percentile minus the direct path's. Progress lines
 * go to stdout as it goes; the last line is
 *   bench:sidecar rps_direct=N rps_sidecars=N rps_nginx=N p50_added_ms=X p99_added_ms=X cpu_ms_per_req=X rps_ratio_vs_nginx=X
 * (cpu_ms_per_req: the busier of the two sidecars, at saturation).
 *
 * Flags: --seconds N (10, per phase) --connections N (32, wrk's) --warmup N (3 s) --rate N (1000)
 *        --threads N (1, wrk's) --cases direct,sidecars,nginx
 *        --cpu-prof DIR (V8's CPU profiler in both sidecars during their saturation phase, through a
 *          preloaded module and SIGUSR2, as Node 20 refuses --cpu-prof in NODE_OPTIONS; the profiles
 *          are written to DIR and summarised; the profiler's cost lowers the sidecars' numbers)
 *        --perf DIR (`perf record -g` of both sidecars during their saturation phase, Node started with
 *          --perf-basic-prof; a summary by shared object and symbol is printed)
 *        --sidecar-node-options "..." (extra NODE_OPTIONS for the sidecars, for experiments)
 *        --sidecar-v8-flags "..." (V8 flags set in the sidecars at startup, e.g. --trace-deopt)
 *        --sidecar-from bundle|sources (bundle, the default: what the image runs, dist/sidecar/weft.mjs
 *          built by build-sidecar.mjs first, with the image's NODE_OPTIONS from deploy/sidecar/Containerfile;
 *          sources: bin/weft.mjs through tsx, as the e2e tests run it)
 *        --sidecar-logs FILE (the sidecars' output, their last 2000 lines each, written at the end)
 *
 * Everything made (namespaces, processes, the control plane, temporary files) is removed at the end,
 * on failure and on SIGINT/SIGTERM too; should the process be killed before (tsx SIGKILLs a child that
 * is slow to exit after Ctrl-C), a detached watchdog (bench-sidecar/watchdog.mjs) does it from a manifest
 * this process keeps. Not part of `npm test`.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { MeshLab, type Pod } from "../test/e2e/support/mesh-lab.js";
import { summarizeCpuProfile } from "./bench-sidecar/cpu-profile.js";
import { runOpenLoop, runWrk, type OpenLoopResult, type Target, type WrkResult } from "./bench-sidecar/load.js";
import { addNamespace, namespaces, removeAll as removeNamespaces } from "./bench-sidecar/network.js";
import { appConfig, BODY, inboundProxyConfig, makeCertificates, outboundProxyConfig, startNginx } from "./bench-sidecar/nginx.js";
import { childrenOf, commOf, cpuMsOf, cpuSplitMsOf, rssMiB, findProcess, mainThreadCpuMs, runChild, runSync, sleep, startChild, stopAllChildren, stopChild, stopTransientChildren, type Child } from "./bench-sidecar/processes.js";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
    warmup: { type: "string", default: "3" },
    rate: { type: "string", default: "1000" },
    threads: { type: "string", default: "1" },
    cases: { type: "string", default: "direct,sidecars,nginx" },
    "cpu-prof": { type: "string" },
    perf: { type: "string" },
    "sidecar-node-options": { type: "string" },
    "sidecar-logs": { type: "string" },
    "sidecar-v8-flags": { type: "string" },
    "sidecar-from": { type: "string", default: "bundle" },
  },
});
const SECONDS = Number(flags.seconds);
const CONNECTIONS = Number(flags.connections);
const WARMUP = Number(flags.warmup);
const RATE = Number(flags.rate);
const THREADS = Number(flags.threads);
for (const [name, value] of Object.entries({ seconds: SECONDS, connections: CONNECTIONS, rate: RATE, threads: THREADS })) {
  if (!(value > 0)) throw new TypeError(`--${name} must be a positive number`);
}
if (!(WARMUP >= 0)) throw new TypeError("--warmup must be a number of seconds");
const CASES = new Set(flags.cases.split(",").map((c) => c.trim()));
for (const c of CASES) if (!["direct", "sidecars", "nginx"].includes(c)) throw new TypeError(`--cases: unknown case "${c}"`);
if (flags["sidecar-from"] !== "bundle" && flags["sidecar-from"] !== "sources") throw new TypeError(`--sidecar-from must be "bundle" or "sources"`);
const SIDECAR_FROM = flags["sidecar-from"];
const CPU_PROF_DIR = flags["cpu-prof"] !== undefined ? resolve(flags["cpu-prof"]) : undefined;
const PERF_DIR = flags.perf !== undefined ? resolve(flags.perf) : undefined;

/** The mesh namespace, the service and the app's port (8080 is MeshLab's echo app in each pod). */
const NS = "bench";
const APP_PORT = 8081;
const SERVICE_HOST = `b.${NS}.svc.cluster.local`;
const HOST_HEADER = `${SERVICE_HOST}:${APP_PORT}`;
const NGINX_OUT_PORT = 15001;
const NGINX_IN_PORT = 8443;
/** Connections of the open-loop generator: at 1000 rps and ~1 ms answers, a handful are busy at once. */
const OPEN_LOOP_CONNECTIONS = 32;
/** How long the proxies' CPU is watched without traffic after each path's load. */
const IDLE_SECONDS = 3;

/** The ServiceEntry (as the e2e test's) of the app in pod `name`, on APP_PORT. */
const serviceEntry = (name: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${NS} }
spec:
  hosts: [${name}.${NS}.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{ number: ${APP_PORT}, name: http, protocol: HTTP }]
  resolution: STATIC
  workloadSelector: { labels: { app: ${name} } }
`;
const started = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const round = (value: number, digits: number) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : Number.NaN);

interface Proxies {
  /** Name → pids whose CPU time counts for that proxy. */
  [name: string]: number[];
}

interface CaseResult {
  wrk: WrkResult;
  cpuMsPerRequest: Record<string, number>;
  rate: OpenLoopResult;
  cpuMsPerRequestAtRate: Record<string, number>;
}

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const lab = new MeshLab();
const work = mkdtempSync(join(tmpdir(), "weft-bench-sidecar-"));
chmodSync(work, 0o755);
const nginxes: { child: Child; pids: number[] }[] = [];

// What the watchdog (a detached process) removes if this process dies before its own cleanup is done.
const manifestFile = join(tmpdir(), `weft-bench-sidecar-${process.pid}.json`);
function saveManifest(): void {
  const controlPlaneDir = lab.controlPlane !== undefined ? dirname(lab.controlPlane.envFile) : undefined;
  const dirs = [lab.dir, work, ...(controlPlaneDir !== undefined ? [controlPlaneDir] : [])];
  const manifest = { namespaces: [lab.nodeNetns, ...[...lab.pods.values()].map((p) => p.netns), ...namespaces()], markers: dirs, dirs };
  writeFileSync(manifestFile, JSON.stringify(manifest));
}
saveManifest();
spawn(process.execPath, [join(import.meta.dirname, "bench-sidecar", "watchdog.mjs"), String(process.pid), manifestFile], { detached: true, stdio: "ignore" }).unref();

let cleaning: Promise<void> | undefined;
const cleanup = (): Promise<void> =>
  (cleaning ??= (async () => {
    // Load generators first (they run inside the namespaces), then nginx masters gracefully (a SIGKILLed
    // master leaves its workers running).
    stopTransientChildren();
    for (const n of nginxes) await stopChild(n.child, "SIGTERM", 3000).catch(() => undefined);
    for (const n of nginxes) for (const pid of n.pids) if (commOf(pid) === "nginx") killQuietly(pid);
    await stopAllChildren();
    removeNamespaces();
    await lab.close().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
    rmSync(work, { recursive: true, force: true });
    rmSync(manifestFile, { force: true });
  })());

function killQuietly(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone */
  }
}

// Kept for the whole run: a second signal (a launcher such as tsx relays the one the terminal sent to the
// whole process group) must not kill the process half way through its cleanup.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`bench:sidecar: ${signal}, ${cleaning === undefined ? "cleaning up" : "still cleaning up"}`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Starts nginx and waits for its worker; returns the pids whose CPU counts (master and worker). */
async function nginx(netns: string, name: string, text: string): Promise<number[]> {
  const child = startNginx(netns, work, name, text);
  const entry = { child, pids: [] as number[] };
  nginxes.push(entry);
  const pid = child.process.pid!;
  for (let i = 0; i < 100; i++) {
    const workers = childrenOf(pid).filter((p) => commOf(p) === "nginx");
    if (workers.length > 0) {
      entry.pids = [pid, ...workers];
      return entry.pids;
    }
    if (child.process.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`nginx ${name} did not start:\n${child.log.join("\n")}`);
}

/** One GET through `target` from its namespace (as root: captured in a pod); checks the 1 KiB answer. */
async function check(name: string, target: Target): Promise<void> {
  const answer = await lab.fetchFrom(target.netns, `http://${target.address}:${target.port}/`, { host: target.hostHeader });
  if (answer.status !== 200 || answer.body !== BODY) throw new Error(`${name}: expected 200 with the 1 KiB body, got ${JSON.stringify(answer).slice(0, 400)}`);
}

/** Istio's destination-side request count of B's sidecar over mutual TLS (its /stats/prometheus). */
async function meshRequests(b: Pod): Promise<number> {
  const answer = await lab.fetchFrom(b.netns, "http://127.0.0.1:15090/stats/prometheus");
  let total = 0;
  for (const line of (answer.body ?? "").split("\n")) {
    if (!line.startsWith("istio_requests_total{")) continue;
    if (!line.includes('reporter="destination"') || !line.includes('connection_security_policy="mutual_tls"')) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

const cpuPerRequest = (proxies: Proxies, before: number[], after: number[], requests: number): Record<string, number> =>
  Object.fromEntries(Object.keys(proxies).map((name, i) => [name, (after[i]! - before[i]!) / Math.max(1, requests)]));

const cpuText = (cpu: Record<string, number>) => Object.entries(cpu).map(([n, v]) => `${n}=${v.toFixed(3)}`).join(" ");

/** Something run alongside a saturation phase: started before it, and its returned function called after it. */
type SideJob = (seconds: number) => Promise<() => Promise<void>>;

async function measure(name: string, target: Target, proxies: Proxies, during: SideJob[] = []): Promise<CaseResult> {
  const cpuNow = () => Object.values(proxies).map((pids) => cpuMsOf(pids));
  if (WARMUP > 0) {
    progress(`${name}: warm-up ${WARMUP} s`);
    await runWrk(target, WARMUP, CONNECTIONS, THREADS);
  }
  progress(`${name}: saturation, wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s`);
  const stopSideJobs = await Promise.all(during.map((job) => job(SECONDS)));
  const mainThreads = name === "sidecars" ? Object.values(proxies).map((pids) => pids[0]!) : [];
  const mainBefore = mainThreads.map((pid) => mainThreadCpuMs(pid));
  const splitBefore = Object.values(proxies).map((pids) => cpuSplitMsOf(pids));
  const before = cpuNow();
  const wrk = await runWrk(target, SECONDS, CONNECTIONS, THREADS);
  const after = cpuNow();
  const splitAfter = Object.values(proxies).map((pids) => cpuSplitMsOf(pids));
  const rss = Object.entries(proxies).map(([proxy, pids]) => `${proxy}=${pids.reduce((sum, pid) => sum + rssMiB(pid), 0).toFixed(0)}`);
  const mainAfter = mainThreads.map((pid) => mainThreadCpuMs(pid));
  for (const stop of stopSideJobs) await stop();
  if (wrk.non2xx > 0 || wrk.socketErrors > 0) progress(`${name}: WARNING wrk saw ${wrk.non2xx} non-2xx answers and ${wrk.socketErrors} socket errors`);
  const cpu = cpuPerRequest(proxies, before, after, wrk.requests);
  progress(`${name}: rps=${wrk.rps.toFixed(0)} requests=${wrk.requests} wrk_p50_ms=${round(wrk.p50Ms, 3)} wrk_p99_ms=${round(wrk.p99Ms, 3)}${Object.keys(cpu).length > 0 ? ` cpu_ms_per_req ${cpuText(cpu)}` : ""}`);

  if (splitBefore.length > 0) {
    const perRequest = (ms: number) => (ms / Math.max(1, wrk.requests)).toFixed(3);
    const kinds = Object.keys(proxies).map((proxy, i) => `${proxy} user ${perRequest(splitAfter[i]!.user - splitBefore[i]!.user)} + kernel ${perRequest(splitAfter[i]!.kernel - splitBefore[i]!.kernel)}`);
    progress(`${name}: cpu_ms_per_req in user code and in the kernel: ${kinds.join("; ")}`);
    progress(`${name}: resident memory after the saturation phase, MiB: ${rss.join(" ")}`);
  }
  if (mainThreads.length > 0) {
    const split = Object.keys(proxies).map((proxy, i) => {
      const main = (mainAfter[i]! - mainBefore[i]!) / Math.max(1, wrk.requests);
      return `${proxy} ${main.toFixed(3)} on the JS thread + ${(cpu[proxy]! - main).toFixed(3)} on other threads (V8 compiler, GC helpers)`;
    });
    progress(`${name}: cpu_ms_per_req split: ${split.join("; ")}`);
  }
  progress(`${name}: open loop at ${RATE} rps for ${SECONDS} s (+1 s warm-up)`);
  const splitBefore2 = Object.values(proxies).map((pids) => cpuSplitMsOf(pids));
  const before2 = cpuNow();
  const rate = await runOpenLoop(target, RATE, SECONDS, 1, OPEN_LOOP_CONNECTIONS);
  const after2 = cpuNow();
  const splitAfter2 = Object.values(proxies).map((pids) => cpuSplitMsOf(pids));
  const cpu2 = cpuPerRequest(proxies, before2, after2, rate.completed);
  if (rate.errors > 0 || rate.non2xx > 0) progress(`${name}: WARNING the open-loop run saw ${rate.errors} errors and ${rate.non2xx} non-2xx answers`);
  if (rate.completed < rate.scheduled * 0.99 || rate.achieved_rps < RATE * 0.95) {
    progress(`${name}: WARNING overloaded: ${rate.completed} of ${rate.scheduled} requests answered, at ${rate.achieved_rps} rps: the path does not sustain ${RATE} rps here, its latency is mostly queueing`);
  }
  progress(
    `${name}: at ${RATE} rps p50_ms=${rate.p50_ms} p90_ms=${rate.p90_ms} p99_ms=${rate.p99_ms} p999_ms=${rate.p999_ms} max_ms=${rate.max_ms} (from send: p50 ${rate.service_p50_ms} p99 ${rate.service_p99_ms})` +
      (Object.keys(cpu2).length > 0 ? ` cpu_ms_per_req ${cpuText(cpu2)}` : ""),
  );
  if (splitBefore2.length > 0) {
    const perRequest = (ms: number) => (ms / Math.max(1, rate.completed)).toFixed(3);
    const kinds = Object.keys(proxies).map((proxy, i) => `${proxy} user ${perRequest(splitAfter2[i]!.user - splitBefore2[i]!.user)} + kernel ${perRequest(splitAfter2[i]!.kernel - splitBefore2[i]!.kernel)}`);
    progress(`${name}: at ${RATE} rps, cpu_ms_per_req in user code and in the kernel: ${kinds.join("; ")}`);
  }
  if (Object.keys(proxies).length > 0) {
    // Work a proxy keeps doing without traffic (timers, the V8 compiler catching up) inflates CPU per request at low rates.
    const before3 = cpuNow();
    await sleep(IDLE_SECONDS * 1000);
    const idle = cpuNow().map((v, i) => (v - before3[i]!) / IDLE_SECONDS);
    progress(`${name}: idle right after the load: cpu_ms_per_s ${Object.keys(proxies).map((p, i) => `${p}=${idle[i]!.toFixed(1)}`).join(" ")}`);
  }
  return { wrk, cpuMsPerRequest: cpu, rate, cpuMsPerRequestAtRate: cpu2 };
}

/** V8's CPU profile of each sidecar (SIGUSR2 to profile-preload.mjs before and after); prints a summary of each. */
function cpuProfiler(pids: Record<string, number>): SideJob {
  return async () => {
    for (const pid of Object.values(pids)) process.kill(pid, "SIGUSR2");
    await sleep(100);
    return async () => {
      for (const pid of Object.values(pids)) process.kill(pid, "SIGUSR2");
      for (const [name, pid] of Object.entries(pids)) {
        let file: string | undefined;
        for (let i = 0; i < 200 && file === undefined; i++) {
          file = readdirSync(CPU_PROF_DIR!).find((f) => f.startsWith(`sidecar-${pid}-`) && f.endsWith(".cpuprofile") && existsSync(join(CPU_PROF_DIR!, `${f}.done`)) && !reported.has(f));
          if (file === undefined) await sleep(100);
        }
        if (file === undefined) {
          progress(`cpu profile of sidecar ${name} (pid ${pid}) not written in ${CPU_PROF_DIR}`);
          continue;
        }
        reported.add(file);
        progress(`cpu profile of sidecar ${name}, saturation phase (${join(CPU_PROF_DIR!, file)}):\n${summarizeCpuProfile(join(CPU_PROF_DIR!, file))}`);
      }
    };
  };
}
const reported = new Set<string>();

/** `perf record -g` of `pids` for `seconds`; the returned function waits for it and prints a summary. */
function perfRecorder(pids: () => number[]): SideJob {
  return async (seconds) => {
    mkdirSync(PERF_DIR!, { recursive: true });
    const file = join(PERF_DIR!, "sidecars.perf.data");
    const child = startChild("perf", "perf", ["record", "-F", "497", "-g", "-o", file, "-p", pids().join(","), "--", "sleep", String(seconds)]);
    await sleep(200);
    return async () => {
      await new Promise<void>((r) => (child.process.exitCode !== null ? r() : child.process.once("exit", () => r())));
      for (const sort of ["dso", "dso,sym"]) {
        const report = await runChild("perf", ["report", "-f", "-i", file, "--no-children", "--sort", sort, "--stdio", "--percent-limit", sort === "dso" ? "0.5" : "0.7", "-g", "none"], 120_000);
        progress(`perf report --sort ${sort} (both sidecars, saturation):\n${report.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#")).join("\n")}`);
      }
    };
  };
}

/** The NODE_OPTIONS the image sets (deploy/sidecar/Containerfile's ENV), so the bundle runs as it does there. */
function imageNodeOptions(): string {
  const containerfile = readFileSync(join(ROOT, "deploy", "sidecar", "Containerfile"), "utf8");
  const value = /NODE_OPTIONS="([^"]*)"/.exec(containerfile)?.[1];
  if (value === undefined) throw new Error("deploy/sidecar/Containerfile sets no NODE_OPTIONS");
  return value;
}

/** The environment that runs a sidecar with the bench's profiling and flags. */
function sidecarEnv(): Record<string, string> {
  const nodeOptions: string[] = [];
  if (SIDECAR_FROM === "bundle") nodeOptions.push(imageNodeOptions());
  if (flags["sidecar-node-options"] !== undefined) nodeOptions.push(flags["sidecar-node-options"]);
  if (CPU_PROF_DIR !== undefined) {
    mkdirSync(CPU_PROF_DIR, { recursive: true });
    chmodSync(CPU_PROF_DIR, 0o777);
    nodeOptions.push(`--import=${join(import.meta.dirname, "bench-sidecar", "profile-preload.mjs")}`);
  }
  if (PERF_DIR !== undefined) nodeOptions.push("--perf-basic-prof");
  if (flags["sidecar-v8-flags"] !== undefined) nodeOptions.push(`--import=${join(import.meta.dirname, "bench-sidecar", "v8-flags-preload.mjs")}`);
  const env: Record<string, string> = nodeOptions.length > 0 ? { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? "", ...nodeOptions].join(" ").trim() } : {};
  if (CPU_PROF_DIR !== undefined) env.BENCH_CPU_PROF_DIR = CPU_PROF_DIR;
  if (flags["sidecar-v8-flags"] !== undefined) env.BENCH_V8_FLAGS = flags["sidecar-v8-flags"];
  return env;
}

interface SidecarPair {
  client: Pod;
  server: Pod;
  /** The sidecars' node processes. */
  pids: { client: number; server: number };
  /** The server's service called from the client pod. */
  target: Target;
}

/** Two pods with sidecars (the server with the bench app on APP_PORT), ready and answering through both. */
async function startPair(clientName: string, serverName: string): Promise<SidecarPair> {
  const meshed = (name: string) => ({ name, namespace: NS, serviceAccount: name, labels: { app: name, "security.istio.io/tlsMode": "istio" } });
  const client = await lab.addPod(meshed(clientName));
  const server = await lab.addPod(meshed(serverName));
  saveManifest();
  await nginx(server.netns, `app-${serverName}`, appConfig(work, `app-${serverName}`, APP_PORT));
  const env = sidecarEnv();
  if (SIDECAR_FROM === "bundle") {
    // What the image runs: the esbuild bundle (no tsx loader, no keepNames wrappers).
    runSync(process.execPath, [join(ROOT, "scripts", "build-sidecar.mjs")]);
    lab.sidecarEntry = join(ROOT, "dist", "sidecar", "weft.mjs");
  }
  // The ServiceEntry's port finds the workload's port by name: only the bench app's is named "http".
  const podPorts = JSON.stringify([{ containerPort: APP_PORT, name: "http", protocol: "TCP" }, { containerPort: 8080, name: "http-echo", protocol: "TCP" }]);
  await Promise.all([lab.startSidecar(client, env), lab.startSidecar(server, { ...env, ISTIO_META_POD_PORTS: podPorts })]);
  const sidecarPid = (pod: Pod) => {
    const pid = findProcess(pod.sidecar!.pid!, "node");
    if (pid === undefined) throw new Error(`no node process behind ${pod.name}'s sidecar (pid ${pod.sidecar!.pid})`);
    return pid;
  };
  const pids = { client: sidecarPid(client), server: sidecarPid(server) };
  progress(`sidecars of ${clientName} and ${serverName} ready (pids ${pids.client}, ${pids.server})`);
  const target: Target = { netns: client.netns, address: server.ip, port: APP_PORT, hostHeader: `${serverName}.${NS}.svc.cluster.local:${APP_PORT}` };
  // The first requests may race the config push that carries the server's endpoint: retry for a while.
  for (let attempt = 0; ; attempt++) {
    try {
      await check(`sidecars ${clientName}→${serverName}`, target);
      return { client, server, pids, target };
    } catch (error) {
      if (attempt >= 30) throw error;
      await sleep(500);
    }
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:sidecar makes network namespaces and iptables rules: run it as root");
  progress(`node ${process.version}, ${SECONDS} s per phase, wrk -c${CONNECTIONS} -t${THREADS}, ${RATE} rps open loop; starting the control plane and the node network`);
  await lab.start().finally(saveManifest);
  await lab.apply(serviceEntry("b"));
  const results: Record<string, CaseResult> = {};
  const certs = makeCertificates(join(work, "certs"), NS, "a", "b", SERVICE_HOST);

  // Direct and nginx: two namespaces of the bench's own on the same bridge.
  const client = addNamespace(lab.nodeNetns, `weft-bench-client-${lab.id}`, `${lab.subnet}.0.200`, `wb${lab.id}c`);
  const server = addNamespace(lab.nodeNetns, `weft-bench-server-${lab.id}`, `${lab.subnet}.0.201`, `wb${lab.id}s`);
  saveManifest();
  await nginx(server.name, "app-direct", appConfig(work, "app-direct", APP_PORT));
  const directTarget: Target = { netns: client.name, address: server.ip, port: APP_PORT, hostHeader: HOST_HEADER };
  await check("direct", directTarget);

  if (CASES.has("direct")) results.direct = await measure("direct", directTarget, {});

  if (CASES.has("sidecars")) {
    progress("sidecars: pods a and b, their capture rules and sidecars");
    const pair = await startPair("a", "b");
    const { pids } = pair;
    const meshBefore = await meshRequests(pair.server);
    if (meshBefore < 1) throw new Error("B's sidecar counted no request over mutual TLS: the path is not mesh mTLS");
    const sidecarProxies: Proxies = { sidecar_a: [pids.client], sidecar_b: [pids.server] };
    const sideJobs: SideJob[] = [];
    if (CPU_PROF_DIR !== undefined) sideJobs.push(cpuProfiler({ a: pids.client, b: pids.server }));
    if (PERF_DIR !== undefined) sideJobs.push(perfRecorder(() => [pids.client, pids.server]));
    const result = await measure("sidecars", pair.target, sidecarProxies, sideJobs);
    const meshAfter = await meshRequests(pair.server);
    progress(`sidecars: B's sidecar counted ${meshAfter - meshBefore} requests over mutual TLS during the runs (warm-up included)`);
    results.sidecars = result;
    if (flags["sidecar-logs"] !== undefined) writeFileSync(flags["sidecar-logs"], [pair.client, pair.server].map((p) => `=== ${p.name}\n${p.sidecarLog.join("\n")}\n`).join(""));
  }

  if (CASES.has("nginx")) {
    progress("nginx: two reverse proxies with mutual TLS between them");
    const outPids = await nginx(client.name, "proxy-out", outboundProxyConfig(work, "proxy-out", NGINX_OUT_PORT, { address: server.ip, port: NGINX_IN_PORT }, certs));
    const inPids = await nginx(server.name, "proxy-in", inboundProxyConfig(work, "proxy-in", NGINX_IN_PORT, APP_PORT, certs));
    // The generator's connections to the app are captured to nginx A, as a pod's are to its sidecar.
    runSync("ip", ["netns", "exec", client.name, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", server.ip, "--dport", String(APP_PORT), "-m", "owner", "!", "--uid-owner", "www-data", "-j", "REDIRECT", "--to-ports", String(NGINX_OUT_PORT)]);
    const target: Target = { netns: client.name, address: server.ip, port: APP_PORT, hostHeader: HOST_HEADER };
    await check("nginx", target);
    results.nginx = await measure("nginx", target, { nginx_a: outPids, nginx_b: inPids });
  }

  report(results);
}

function report(results: Record<string, CaseResult>): void {
  const { direct, sidecars, nginx: viaNginx } = results;
  const maxCpu = (r: CaseResult | undefined) => (r === undefined ? Number.NaN : Math.max(...Object.values(r.cpuMsPerRequest)));
  const cpuSidecar = maxCpu(sidecars);
  const cpuNginx = maxCpu(viaNginx);
  const p50Added = (sidecars?.rate.p50_ms ?? Number.NaN) - (direct?.rate.p50_ms ?? Number.NaN);
  const p99Added = (sidecars?.rate.p99_ms ?? Number.NaN) - (direct?.rate.p99_ms ?? Number.NaN);
  const ratio = (sidecars?.wrk.rps ?? Number.NaN) / (viaNginx?.wrk.rps ?? Number.NaN);
  if (viaNginx !== undefined && direct !== undefined) {
    progress(
      `nginx pair for comparison: p50_added_ms=${round(viaNginx.rate.p50_ms - direct.rate.p50_ms, 3)} p99_added_ms=${round(viaNginx.rate.p99_ms - direct.rate.p99_ms, 3)} cpu_ms_per_req=${round(cpuNginx, 4)} (busier nginx, saturation)`,
    );
  }
  if (sidecars !== undefined) {
    const atRate = Math.max(...Object.values(sidecars.cpuMsPerRequestAtRate));
    progress(`sidecars: cpu_ms_per_req at ${RATE} rps=${round(atRate, 4)} (busier sidecar)`);
  }
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  progress(
    `goals: p50_added_ms<1 ${verdict(p50Added < 1)}; cpu_ms_per_req<=0.2 ${verdict(cpuSidecar <= 0.2)}; rps_ratio_vs_nginx>=0.35 ${verdict(ratio >= 0.35)}`,
  );
  console.log(
    `bench:sidecar rps_direct=${round(direct?.wrk.rps ?? Number.NaN, 0)} rps_sidecars=${round(sidecars?.wrk.rps ?? Number.NaN, 0)} rps_nginx=${round(viaNginx?.wrk.rps ?? Number.NaN, 0)}` +
      ` p50_added_ms=${round(p50Added, 3)} p99_added_ms=${round(p99Added, 3)} cpu_ms_per_req=${round(cpuSidecar, 4)} rps_ratio_vs_nginx=${round(ratio, 3)}`,
  );
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(`bench:sidecar failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const logs = lab.sidecarLogs();
  if (logs.trim() !== "") console.error(logs);
  for (const n of nginxes) if (n.child.log.length > 0) console.error(`--- ${n.child.name}\n${n.child.log.slice(-20).join("\n")}`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
