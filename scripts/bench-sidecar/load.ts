/**
 * @module bench-sidecar/load
 * The two load generators of `npm run bench:sidecar`, run inside a network namespace as an unprivileged
 * user (uid 65534: not the proxy's 1337, so a pod's capture rules take its connections):
 *
 * - `wrk` (closed loop, fixed connections and duration) for requests per second at saturation;
 * - open-loop.mjs (fixed arrival rate, latency from the scheduled time) for latency at a given rate.
 */
import { join } from "node:path";
import { runChild } from "./processes.js";

const LOAD_UID = "65534";
const OPEN_LOOP = join(import.meta.dirname, "open-loop.mjs");

export interface Target {
  netns: string;
  address: string;
  port: number;
  hostHeader: string;
}

const asLoadUser = (netns: string, command: string, ...args: string[]) => ["netns", "exec", netns, "setpriv", "--reuid", LOAD_UID, "--regid", LOAD_UID, "--clear-groups", command, ...args];

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  non2xx: number;
  socketErrors: number;
  p50Ms: number;
  p99Ms: number;
  raw: string;
}

const toMs = (value: string, unit: string) => Number(value) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 1);

export async function runWrk(target: Target, seconds: number, connections: number, threads: number): Promise<WrkResult> {
  const args = asLoadUser(target.netns, "wrk", "-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--latency", "--timeout", "5s", "-H", `Host: ${target.hostHeader}`, `http://${target.address}:${target.port}/`);
  const out = await runChild("ip", args, (seconds + 30) * 1000);
  const text = out.stdout;
  const total = /(\d+) requests in ([\d.]+)(\w+)/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (out.code !== 0 || total === null || rps === null) throw new Error(`wrk failed (exit ${out.code}): ${out.stderr}\n${text}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const latency = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(text);
    return m === null ? Number.NaN : toMs(m[1]!, m[2]!);
  };
  return {
    requests: Number(total[1]),
    seconds: toMs(total[2]!, total[3]!) / 1000,
    rps: Number(rps[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((sum, v) => sum + Number(v), 0),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    raw: text,
  };
}

export interface OpenLoopResult {
  scheduled: number;
  completed: number;
  measured: number;
  errors: number;
  non2xx: number;
  bytes: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
  service_p50_ms: number;
  service_p99_ms: number;
  rate: number;
  achieved_rps: number;
}

export async function runOpenLoop(target: Target, rate: number, seconds: number, warmupSeconds: number, connections: number): Promise<OpenLoopResult> {
  const args = asLoadUser(
    target.netns,
    process.execPath,
    OPEN_LOOP,
    "--host", target.address,
    "--port", String(target.port),
    "--host-header", target.hostHeader,
    "--rate", String(rate),
    "--seconds", String(seconds),
    "--warmup", String(warmupSeconds),
    "--connections", String(connections),
  );
  const out = await runChild("ip", args, (seconds + warmupSeconds + 30) * 1000);
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as OpenLoopResult;
  } catch {
    throw new Error(`open-loop generator failed (exit ${out.code}): ${out.stderr}\n${out.stdout}`);
  }
}
