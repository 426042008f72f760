/**
 * @module bench-sidecar/processes
 * Process plumbing for `npm run bench:sidecar`: long-running children the bench starts (and alone
 * stops, by their own pid), CPU time read from /proc, and the real process behind a launcher chain
 * (`ip netns exec … setpriv … node`: each step execs the next, so the pid is normally the node itself;
 * if a launcher forked instead, the process is found among its descendants).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { runAsync, stopProcess } from "../../test/e2e/support/mesh-lab.js";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
export const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface Child {
  readonly process: ChildProcess;
  readonly name: string;
  readonly log: string[];
}

const running = new Set<Child>();

/** Starts a long-running process, keeping its last lines of output. */
export function startChild(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  const log: string[] = [];
  const onData = (d: Buffer) => {
    log.push(...d.toString().split("\n").filter((l) => l !== ""));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const entry = { process: child, name, log };
  running.add(entry);
  child.once("exit", () => running.delete(entry));
  return entry;
}

/** Stops one child (TERM, then KILL after `graceMs`). */
export function stopChild(child: Child, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<number | null> {
  return stopProcess(child.process, signal, graceMs);
}

/** Commands run to completion (load generators) still running. */
const transient = new Set<ChildProcess>();

/** Kills the commands run to completion (load generators) still running. */
export function stopTransientChildren(): void {
  for (const child of transient) child.kill("SIGKILL");
}

/** Stops every child this module started and that is still running. */
export async function stopAllChildren(): Promise<void> {
  stopTransientChildren();
  await Promise.all([...running].map((c) => stopChild(c, "SIGKILL", 2000)));
}

/** Runs a short command to completion; throws on failure unless allowed. */
export function runSync(command: string, args: readonly string[], options: { allowFailure?: boolean; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: "utf8", input: options.input, timeout: 60_000 });
  const out = { code: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
  if (out.code !== 0 && options.allowFailure !== true) throw new Error(`${command} ${args.join(" ")} exited ${out.code}: ${out.stderr || out.stdout}`);
  return out;
}

/** Runs a command asynchronously to completion and returns its output (stopped with the bench if it is still running). */
export function runChild(command: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return runAsync(command, args, timeoutMs, (child) => {
    transient.add(child);
    child.once("exit", () => transient.delete(child));
  });
}

/** The pid's command name, or undefined when it is gone. */
export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The pid's direct children. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The first process named `comm` at or below `pid` (breadth first). */
export function findProcess(pid: number, comm: string): number | undefined {
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (commOf(next) === comm) return next;
    queue.push(...childrenOf(next));
  }
  return undefined;
}

/** utime + stime of the whole process (all its threads), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name is in parentheses and may contain spaces: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** utime and stime of several processes together, in ms: time in their own code and in the kernel for them (syscalls, and the network stack work a send does on this CPU). */
export function cpuSplitMsOf(pids: readonly number[]): { user: number; kernel: number } {
  let user = 0;
  let kernel = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    user += (Number(fields[11]) * 1000) / CLOCK_TICKS;
    kernel += (Number(fields[12]) * 1000) / CLOCK_TICKS;
  }
  return { user, kernel };
}

/** Resident memory of a process, MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

/** utime + stime of the process's main thread alone (the JavaScript thread of a node process), in ms. */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU ms of several processes together. */
export function cpuMsOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += cpuMs(pid);
  return total;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
