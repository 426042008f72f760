/**
 * @module edge-proxy/hosts/sidecar/iptables/run-command
 * How the applier runs iptables: a `RunCommand` function, passed in so tests (or a caller that must
 * enter a network namespace first, e.g. `ip netns exec POD`) choose how. `spawnCommand` is the Node one.
 */
import { spawn } from "node:child_process";
import { CaptureError } from "./capture-error.js";

export interface CommandResult {
  /** Exit code; -1 when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args...`, writing `input` (if any) to its stdin; rejects only when it cannot start. */
export type RunCommand = (command: string, args: readonly string[], input?: string) => Promise<CommandResult>;

/**
 * Runs commands as child processes via node:child_process, each prefixed by `prefix` (e.g.
 * `["ip", "netns", "exec", "pod"]` to run inside a network namespace). A command that is not installed
 * rejects with `ERR_IPTABLES_MISSING`.
 */
export function spawnCommand(prefix: readonly string[] = []): RunCommand {
  return (command, args, input) =>
    new Promise((resolve, reject) => {
      const [file, ...rest] = [...prefix, command, ...args] as [string, ...string[]];
      const child = spawn(file, rest, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") {
          reject(new CaptureError("ERR_IPTABLES_MISSING", `${file} is not installed (not found on PATH); install iptables (Debian: apt-get install iptables)`));
        } else {
          reject(err);
        }
      });
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
      // A child that exits before reading its stdin must not crash us with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(input ?? "");
    });
}
