// The end-to-end tests' cluster on one machine: a "node" network namespace with a bridge, two "pods"
// (network namespaces on the bridge, each with an echo app on :8080, weft-iptables' capture rules and a
// `weft sidecar` running as uid 1337), and the real control plane (`npm start`'s wrangler dev) on the
// host's loopback, which pods reach at 10.<n>.0.1:8787 through two Unix-socket relays (a Unix socket is
// reachable from every namespace; the host gets no new address). Everything it makes it removes in
// `close()`, and names carry the process id so a leftover from a killed run never collides.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlPlane, type RunningControlPlane } from "../../node/support/control-plane.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const SUPPORT = import.meta.dirname;
export const APP_PORT = 8080;
export const CONTROL_PLANE_PORT = 8787;

export interface PodSpec {
  name: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

export interface Pod extends PodSpec {
  netns: string;
  ip: string;
  /** The node's end of the pod's veth pair (on the bridge): what crosses it is what the pod sends and receives. */
  nodeInterface: string;
  /** The sidecar's state directory (its last-known-good config), owned by uid 1337. */
  dataDir: string;
  sidecar?: ChildProcess;
  sidecarLog: string[];
}

export interface FetchResult {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string;
  error?: string;
  code?: string | null;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (synchronously: short setup commands only). */
export function run(command: string, args: readonly string[], options: { input?: string; allowFailure?: boolean } = {}): RunResult {
  const result = spawnSync(command, args, { encoding: "utf8", input: options.input, timeout: 60_000 });
  const out = { code: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
  if (out.code !== 0 && options.allowFailure !== true) throw new Error(`${command} ${args.join(" ")} exited ${out.code}: ${out.stderr || out.stdout}`);
  return out;
}

/** Runs a command asynchronously and collects its output; `onChild` sees the process (to track it). */
export function runAsync(command: string, args: readonly string[], timeoutMs = 30_000, onChild?: (child: ChildProcess) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    onChild?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Starts a long-running process and resolves once it prints `ready` (a line containing it). */
function startProcess(command: string, args: readonly string[], ready: RegExp, log: string[], env?: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let seen = false;
    const onData = (d: Buffer) => {
      const text = d.toString();
      log.push(...text.split("\n").filter((l) => l !== ""));
      if (log.length > 2000) log.splice(0, log.length - 2000);
      if (!seen && ready.test(text)) {
        seen = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not print ${ready} in ${timeoutMs} ms:\n${log.slice(-40).join("\n")}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      if (!seen) {
        clearTimeout(timer);
        reject(new Error(`${command} ${args.join(" ")} exited ${code} before ready:\n${log.slice(-40).join("\n")}`));
      }
    });
  });
}

/** Stops a child process (`signal`, then SIGKILL after `graceMs`) and resolves with its exit code. */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<number | null> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export class MeshLab {
  readonly id = `${process.pid % 10000}`;
  readonly subnet = `10.${100 + (process.pid % 100)}`;
  readonly nodeNetns = `weft-e2e-node-${this.id}`;
  readonly gateway = `${this.subnet}.0.1`;
  readonly controlPlaneUrl = `http://${this.subnet}.0.1:${CONTROL_PLANE_PORT}`;
  readonly dir = mkdtempSync(join(tmpdir(), "weft-e2e-"));
  readonly pods = new Map<string, Pod>();
  controlPlane!: RunningControlPlane;
  private readonly processes: ChildProcess[] = [];
  private readonly namespaces: string[] = [];
  private readonly logs: string[] = [];
  private hostRelay: ChildProcess | undefined;

  /** The node namespace with its bridge, the relays, and the control plane. */
  async start(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("the end-to-end tests make network namespaces and iptables rules: run them as root");
    chmodSync(this.dir, 0o755);
    this.addNetns(this.nodeNetns);
    this.inNode("ip", "link", "add", "br0", "type", "bridge");
    this.inNode("ip", "addr", "add", `${this.gateway}/24`, "dev", "br0");
    this.inNode("ip", "link", "set", "br0", "up");
    this.controlPlane = await startControlPlane();
    const socket = join(this.dir, "control-plane.sock");
    this.hostRelay = await startProcess(process.execPath, [join(SUPPORT, "unix-relay.mjs"), "unix-to-tcp", socket, "127.0.0.1", new URL(this.controlPlane.url).port], /listening/, this.logs);
    chmodSync(socket, 0o777);
    this.processes.push(
      await startProcess("ip", ["netns", "exec", this.nodeNetns, process.execPath, join(SUPPORT, "unix-relay.mjs"), "tcp-to-unix", this.gateway, String(CONTROL_PLANE_PORT), socket], /listening/, this.logs),
    );
  }

  private addNetns(name: string): void {
    run("ip", ["netns", "del", name], { allowFailure: true });
    run("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    run("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  }

  inNode(...args: string[]): RunResult {
    return run("ip", ["netns", "exec", this.nodeNetns, ...args]);
  }

  /** A pod: its namespace on the bridge at `<subnet>.0.<index+10>`, its echo app, and its capture rules. */
  async addPod(spec: PodSpec): Promise<Pod> {
    const index = this.pods.size;
    const netns = `weft-e2e-${spec.name}-${this.id}`;
    const ip = `${this.subnet}.0.${index + 10}`;
    this.addNetns(netns);
    const hostSide = `we${this.id}p${index}`;
    this.inNode("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", netns);
    this.inNode("ip", "link", "set", hostSide, "master", "br0");
    this.inNode("ip", "link", "set", hostSide, "up");
    run("ip", ["netns", "exec", netns, "ip", "addr", "add", `${ip}/24`, "dev", "eth0"]);
    run("ip", ["netns", "exec", netns, "ip", "link", "set", "eth0", "up"]);
    run("ip", ["netns", "exec", netns, "ip", "route", "add", "default", "via", this.gateway]);
    const dataDir = join(this.dir, spec.name, "data");
    mkdirSync(dataDir, { recursive: true });
    run("chown", ["-R", "1337:1337", join(this.dir, spec.name)]);
    const pod: Pod = { ...spec, netns, ip, nodeInterface: hostSide, dataDir, sidecarLog: [] };
    this.pods.set(spec.name, pod);
    this.processes.push(await startProcess("ip", ["netns", "exec", netns, process.execPath, join(SUPPORT, "echo-app.mjs"), String(APP_PORT), spec.name], /listening/, this.logs));
    // The init container's step: Istio's default capture arguments, as the injector passes them.
    run("ip", ["netns", "exec", netns, process.execPath, join(ROOT, "bin", "weft-iptables.mjs"), "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]);
    return pod;
  }

  /** A join token for the pod's identity (the sidecar's credential here; in Kubernetes, the projected token). */
  async joinToken(pod: PodSpec): Promise<string> {
    const response = await fetch(`${this.controlPlane.url}/v1/join-tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.controlPlane.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ namespace: pod.namespace, serviceAccount: pod.serviceAccount, ttl: "2h" }),
    });
    if (response.status !== 201) throw new Error(`join token: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  }

  /** The environment the injector would give the pod's sidecar (docs/injection.md), with a join token as its credential. */
  async sidecarEnv(pod: Pod, dataDir = pod.dataDir): Promise<Record<string, string>> {
    return {
      WEFT_CONTROL_PLANE_URL: this.controlPlaneUrl,
      WEFT_JOIN_TOKEN: await this.joinToken(pod),
      POD_NAME: pod.name,
      POD_NAMESPACE: pod.namespace,
      SERVICE_ACCOUNT: pod.serviceAccount,
      INSTANCE_IP: pod.ip,
      WEFT_LABELS: JSON.stringify(pod.labels),
      ISTIO_META_POD_PORTS: JSON.stringify([{ containerPort: APP_PORT, name: "http", protocol: "TCP" }]),
      ISTIO_META_WORKLOAD_NAME: pod.name,
      WEFT_DATA_DIR: dataDir,
      TERMINATION_DRAIN_DURATION_SECONDS: "1",
    };
  }

  /**
   * The `weft` CLI the pods' sidecars run: this checkout's sources through tsx (bin/weft.mjs), or the
   * bundle the image ships (`npm run build:sidecar`'s dist/sidecar/weft.mjs), as bench:sidecar runs it.
   */
  sidecarEntry = join(ROOT, "bin", "weft.mjs");

  /** Starts `weft sidecar` from this checkout in the pod as uid 1337 and waits until /healthz/ready answers 200. */
  async startSidecar(pod: Pod, extraEnv: Record<string, string> = {}): Promise<void> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(this.dir, pod.name), ...(await this.sidecarEnv(pod)), ...extraEnv };
    const args = ["netns", "exec", pod.netns, "setpriv", "--reuid", "1337", "--regid", "1337", "--clear-groups", process.execPath, this.sidecarEntry, "sidecar"];
    pod.sidecar = await startProcess("ip", args, /"event":"listening"/, pod.sidecarLog, { ...process.env, ...env }, 60_000);
    this.processes.push(pod.sidecar);
    await this.waitReady(pod);
  }

  /**
   * Starts the pod's sidecar some other way (the image, under podman) with the same environment; its
   * config cache is the pod's data directory mounted at `containerDataDir`. Waits until it is ready.
   */
  async startSidecarWith(
    pod: Pod,
    launch: (netns: string, env: Record<string, string>, volumes: Record<string, string>) => Promise<{ logs(): Promise<string> }>,
    containerDataDir = "/var/lib/istio/data",
  ): Promise<{ logs(): Promise<string> }> {
    const started = await launch(pod.netns, await this.sidecarEnv(pod, containerDataDir), { [pod.dataDir]: containerDataDir });
    try {
      await this.waitReady(pod);
    } catch (error) {
      throw new Error(`${String(error)}\n${await started.logs()}`);
    }
    return started;
  }

  async waitReady(pod: Pod, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: FetchResult | undefined;
    while (Date.now() < deadline) {
      last = await this.fetchFrom(pod.netns, "http://127.0.0.1:15021/healthz/ready");
      if (last.status === 200) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`sidecar of ${pod.name} not ready: ${JSON.stringify(last)}\n${pod.sidecarLog.slice(-30).join("\n")}`);
  }

  async stopSidecar(pod: Pod, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const code = await stopProcess(pod.sidecar, signal);
    pod.sidecar = undefined;
    return code;
  }

  /** An HTTP request made from inside `netns` by a process that is not the proxy (so it is captured). */
  async fetchFrom(netns: string, url: string, headers: Record<string, string> = {}, method = "GET"): Promise<FetchResult> {
    const args = ["netns", "exec", netns, process.execPath, join(SUPPORT, "netns-fetch.mjs"), url, "-X", method];
    for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
    const result = await runAsync("ip", args);
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    try {
      return JSON.parse(line) as FetchResult;
    } catch {
      return { error: `no answer: ${result.stderr || result.stdout}`, code: null };
    }
  }

  /**
   * tcpdump on the node's end of `pod`'s veth; `stop()` returns the capture file. No capture filter:
   * in this sandbox's kernel a BPF filter on a bridge port drops every packet ("received by filter",
   * none captured), so the caller filters the segments it reads.
   */
  async capture(pod: Pod): Promise<{ stop(): Promise<string> }> {
    const file = join(this.dir, `capture-${Date.now()}.pcap`);
    const log: string[] = [];
    const child = await startProcess("ip", ["netns", "exec", this.nodeNetns, "tcpdump", "-Z", "root", "--immediate-mode", "-i", pod.nodeInterface, "-U", "-n", "-s", "0", "-w", file], /listening on/, log);
    return {
      async stop() {
        await new Promise((r) => setTimeout(r, 300));
        await stopProcess(child, "SIGINT");
        return file;
      },
    };
  }

  /** An admin call to the control plane (from the host). */
  async api(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Response> {
    return fetch(`${this.controlPlane.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.controlPlane.adminToken}`, ...(body !== undefined ? { "content-type": contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
  }

  /** Applies Istio YAML through the bulk apply endpoint. */
  async apply(yaml: string): Promise<void> {
    const response = await this.api("POST", "/v1/apply", yaml, "application/yaml");
    if (!response.ok) throw new Error(`apply: ${response.status} ${await response.text()}`);
  }

  sidecarLogs(): string {
    return [...this.pods.values()].map((p) => `--- ${p.name}\n${p.sidecarLog.slice(-60).join("\n")}`).join("\n");
  }

  async close(): Promise<void> {
    for (const pod of this.pods.values()) await stopProcess(pod.sidecar, "SIGKILL", 2000);
    for (const child of this.processes) await stopProcess(child, "SIGKILL", 2000);
    await stopProcess(this.hostRelay, "SIGKILL", 2000);
    for (const name of this.namespaces.reverse()) run("ip", ["netns", "del", name], { allowFailure: true });
    await this.controlPlane?.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
