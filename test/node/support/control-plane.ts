// Starts a real local control plane (`npm start`'s script: wrangler dev in workerd, local D1 with the
// migrations applied) on a free port with its own state directory and a random admin token. It can
// be restarted on the same port and state, as a developer restarts `npm start`.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningControlPlane {
  url: string;
  adminToken: string;
  /** The env file the control plane reads (`.dev.vars` for `npm start`). */
  envFile: string;
  /** Stops the process and deletes its state (it holds CA keys). */
  stop(): Promise<void>;
  /** Stops and starts again on the same port, state and env file. */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Use this env file (created with a random admin token if absent) instead of a temporary one. */
  envFile?: string;
}

const ROOT = join(import.meta.dirname, "..", "..", "..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function adminTokenIn(envFile: string): string {
  if (!existsSync(envFile)) {
    writeFileSync(envFile, `WEFT_ADMIN_TOKEN=weft_${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  }
  return /^WEFT_ADMIN_TOKEN=(.+)$/m.exec(readFileSync(envFile, "utf8"))![1]!;
}

/** Runs the script until /healthz answers; returns a function that stops it. */
async function launch(port: number, state: string, envFile: string): Promise<() => Promise<void>> {
  let output = "";
  const child: ChildProcess = spawn(
    process.execPath,
    // Each control plane gets its own devtools port: several run at once, and wrangler's default 9229 is shared.
    [join(ROOT, "scripts", "dev.mjs"), "--port", String(port), "--persist-to", state, "--env-file", envFile, "--inspector-port", String(await freePort())],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      /* already gone */
    }
    await exited;
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return stop;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`control plane did not become healthy on port ${port}:\n${output}`);
}

export async function startControlPlane(options: StartOptions = {}): Promise<RunningControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "weft-cp-"));
  const envFile = options.envFile ?? join(dir, "dev.vars");
  const adminToken = adminTokenIn(envFile);
  const port = await freePort();
  const state = join(dir, "state");
  let stopProcess: () => Promise<void>;
  try {
    stopProcess = await launch(port, state, envFile);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken,
    envFile,
    async stop() {
      await stopProcess();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopProcess();
      stopProcess = await launch(port, state, envFile);
    },
  };
}
