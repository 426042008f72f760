// Starts a real local control plane (`npm start`'s script: wrangler dev in workerd, local D1 with the
// migrations applied) on a free port with its own state directory and a random admin token.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningControlPlane {
  url: string;
  adminToken: string;
  stop(): Promise<void>;
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

export async function startControlPlane(): Promise<RunningControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "weft-cp-"));
  const adminToken = "weft_" + randomBytes(24).toString("base64url");
  const envFile = join(dir, "dev.vars");
  writeFileSync(envFile, `WEFT_ADMIN_TOKEN=${adminToken}\n`, { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, "scripts", "dev.mjs"), "--port", String(port), "--persist-to", join(dir, "state"), "--env-file", envFile],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        /* already gone */
      }
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return { url, adminToken, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`control plane did not become healthy on ${url}:\n${output}`);
}
