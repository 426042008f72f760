/**
 * @module test/e2e/support/container
 * What the image tests run containers with: buildah and podman as root on the vfs storage driver (no
 * Docker engine, no registry, no overlay needed), the sidecar image's name and layout, network
 * namespaces the test creates itself, and `runSidecarContainer` — the one place the end-to-end request
 * test starts the proxy in a Pod's network namespace.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";

/** Every buildah/podman call uses the same storage, so images built by buildah are seen by podman. */
export const STORAGE = ["--storage-driver", "vfs"] as const;

/**
 * podman's run options that work on this machine kind (cgroups v1, root, no systemd): cgroupfs,
 * explicit ulimits (podman's default would copy the host's, which may exceed what the runtime can set).
 */
export const PODMAN_RUN_DEFAULTS = ["--cgroups=enabled", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"] as const;

/** The image the tests build from deploy/sidecar/Containerfile. */
export const SIDECAR_IMAGE = "localhost/weft-test/proxy:e2e";

/** Where the image keeps the bundle, the addon and the `weft` / `weft-iptables` executables. */
export const IMAGE_LAYOUT = {
  home: "/opt/weft",
  addon: "/opt/weft/original_dst.node",
  weft: "/opt/weft/bin/weft",
  weftIptables: "/opt/weft/bin/weft-iptables",
  /** The proxy's writable places; the root filesystem is read-only. */
  writable: ["/var/lib/istio/data", "/etc/istio/proxy", "/tmp"],
} as const;

/** The proxy's uid and gid (what weft-iptables' `-u 1337` exempts from capture). */
export const PROXY_UID = 1337;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text for stdin (closed otherwise). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kills the command (SIGKILL) after this many ms; the result then has code null. */
  timeoutMs?: number;
  /** Also echo the output as it comes (long builds), prefixed. */
  echo?: string;
}

/** Runs a command to completion, collecting its output; never throws for a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const collect = (stream: Readable, into: (s: string) => void) =>
      stream.setEncoding("utf8").on("data", (chunk: string) => {
        into(chunk);
        if (options.echo !== undefined) process.stderr.write(chunk.replace(/^(?=.)/gm, `${options.echo} `));
      });
    collect(child.stdout!, (s) => (stdout += s));
    collect(child.stderr!, (s) => (stderr += s));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on("error", () => undefined); // the command may exit without reading it all
      child.stdin.end(options.input);
    }
  });
}

/** Runs a command and returns its stdout; throws with the command line and its output if it fails. */
export async function mustRun(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const tail = (s: string) => s.trim().split("\n").slice(-40).join("\n");
    throw new Error(
      `${[command, ...args].join(" ")} exited with ${result.code ?? "a timeout"}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`,
    );
  }
  return result.stdout;
}

/**
 * podman's OCI runtime: runc. Debian's default, crun 1.8, refuses hybrid cgroup hierarchies ("cgroups
 * in hybrid mode not supported"), which is what this machine kind has.
 */
export const PODMAN_RUNTIME = "runc";

export const buildah = (args: readonly string[], options?: RunOptions) => mustRun("buildah", [...STORAGE, ...args], options);
export const podman = (args: readonly string[], options?: RunOptions) => mustRun("podman", [...STORAGE, "--runtime", PODMAN_RUNTIME, ...args], options);
export const tryPodman = (args: readonly string[], options?: RunOptions) => run("podman", [...STORAGE, "--runtime", PODMAN_RUNTIME, ...args], options);

/** Whether an image exists in local storage. */
export async function imageExists(image: string): Promise<boolean> {
  return (await run("buildah", [...STORAGE, "inspect", "--type", "image", "--format", "{{.FromImageID}}", image])).code === 0;
}

/** A local image's ID. */
export async function imageId(image: string): Promise<string> {
  return (await buildah(["inspect", "--type", "image", "--format", "{{.FromImageID}}", image])).trim();
}

/** One label of a local image ("" when absent). */
export async function imageLabel(image: string, label: string): Promise<string> {
  const result = await run("buildah", [...STORAGE, "inspect", "--type", "image", "--format", `{{index .OCIv1.Config.Labels "${label}"}}`, image]);
  return result.code === 0 ? result.stdout.trim().replace(/^<no value>$/, "") : "";
}

/** An image's OCI config (User, Entrypoint, Cmd, Env, ExposedPorts, Volumes, Labels…). */
export async function imageConfig(image: string): Promise<{
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
}> {
  const inspected = JSON.parse(await buildah(["inspect", "--type", "image", image])) as { OCIv1?: { config?: object } };
  if (!inspected.OCIv1?.config) throw new Error(`buildah inspect ${image}: no OCIv1.config`);
  return inspected.OCIv1.config;
}

/** Size of a local image in bytes, as podman reports it. */
export async function imageSize(image: string): Promise<number> {
  return Number((await podman(["image", "inspect", "--format", "{{.Size}}", image])).trim());
}

// ---------------------------------------------------------------------------------------------------
// Network namespaces: created with `ip netns add` (so /run/netns/<name> exists for podman's
// `--network ns:`), always deleted by the caller's afterAll. Addresses live only inside them.

/** A Pod-like network namespace: loopback up and, when `address` is given, one veth to a peer ns. */
export interface TestNetns {
  name: string;
  path: string;
  /** The peer namespace at the other end of the veth, when one was made. */
  peer?: string;
}

/**
 * Creates `name` (loopback up). With `link`, also creates `<link.peer>` and a veth pair between them:
 * `name` gets link.podAddress, the peer link.peerAddress (both CIDR notation, e.g. 10.214.0.2/24).
 */
export async function createNetns(name: string, link?: { peer: string; podAddress: string; peerAddress: string }): Promise<TestNetns> {
  await deleteNetns(name);
  await mustRun("ip", ["netns", "add", name]);
  await mustRun("ip", ["-n", name, "link", "set", "lo", "up"]);
  if (!link) return { name, path: `/run/netns/${name}` };
  await deleteNetns(link.peer);
  await mustRun("ip", ["netns", "add", link.peer]);
  await mustRun("ip", ["-n", link.peer, "link", "set", "lo", "up"]);
  const hostSide = `wv${process.pid % 100000}`;
  await mustRun("ip", ["link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", name]);
  await mustRun("ip", ["link", "set", hostSide, "netns", link.peer, "name", "eth0"]);
  await mustRun("ip", ["-n", name, "addr", "add", link.podAddress, "dev", "eth0"]);
  await mustRun("ip", ["-n", link.peer, "addr", "add", link.peerAddress, "dev", "eth0"]);
  await mustRun("ip", ["-n", name, "link", "set", "eth0", "up"]);
  await mustRun("ip", ["-n", link.peer, "link", "set", "eth0", "up"]);
  return { name, path: `/run/netns/${name}`, peer: link.peer };
}

/** Deletes a namespace if it exists (never throws: for afterAll). */
export async function deleteNetns(name: string | undefined): Promise<void> {
  if (!name) return;
  await run("ip", ["netns", "del", name]).catch(() => undefined);
}

/** Removes containers by name (never throws: for afterAll). */
export function removeContainersSync(names: readonly string[]): void {
  for (const name of names) spawnSync("podman", [...STORAGE, "--runtime", PODMAN_RUNTIME, "rm", "--force", "--time", "0", name], { stdio: "ignore" });
}

// ---------------------------------------------------------------------------------------------------
// Running the image.

export interface ContainerRunOptions {
  /** `--network ns:<path>`: the namespace's path (/run/netns/NAME). */
  netns?: string;
  /** uid:gid, default the proxy's 1337:1337. */
  user?: string;
  env?: Record<string, string>;
  /** host directory → container path (read-write bind mounts). */
  volumes?: Record<string, string>;
  /**
   * Give each writable directory that `volumes` does not cover a fresh empty host directory (mode 1777,
   * like a Kubernetes emptyDir), removed after the run (default). false: leave them to the image's
   * VOLUMEs (podman then makes anonymous volumes from the image's directories, removed by --rm).
   * (Not tmpfs: podman 4.3 with runc drops tmpfs mode= options here, leaving root-owned 0755 mounts.)
   */
  emptyDirs?: boolean;
  /** Extra podman options (e.g. --cap-add). */
  extra?: readonly string[];
  /** Replace the image's entrypoint (a path inside the image, or a name on its PATH). */
  entrypoint?: string;
  name?: string;
  timeoutMs?: number;
}

/** podman run arguments, and what to delete once the container is gone. */
export interface ContainerInvocation {
  args: string[];
  cleanup(): void;
}

/**
 * podman run arguments for the proxy image as Kubernetes runs it: a read-only root filesystem (no
 * tmpfs added by podman), emptyDir-like directories for the writable places no volume covers, no
 * capabilities (but those `extra` adds), no privilege escalation, the given user.
 */
export function containerArgs(image: string, command: readonly string[], options: ContainerRunOptions = {}): ContainerInvocation {
  const args = ["run", "--rm", ...PODMAN_RUN_DEFAULTS, "--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
  args.push("--user", options.user ?? `${PROXY_UID}:${PROXY_UID}`);
  const created: string[] = [];
  const volumes = { ...options.volumes };
  const mounted = new Set(Object.values(volumes));
  if (options.emptyDirs !== false) {
    for (const dir of IMAGE_LAYOUT.writable) {
      if (mounted.has(dir)) continue;
      const host = mkdtempSync(join(tmpdir(), "weft-e2e-emptydir-"));
      chmodSync(host, 0o1777);
      created.push(host);
      volumes[host] = dir;
    }
  }
  for (const [host, inside] of Object.entries(volumes)) args.push("--volume", `${host}:${inside}:rw`);
  for (const [key, value] of Object.entries(options.env ?? {})) args.push("--env", `${key}=${value}`);
  args.push("--network", options.netns ? `ns:${options.netns}` : "none");
  if (options.name) args.push("--name", options.name);
  if (options.entrypoint !== undefined) args.push("--entrypoint", options.entrypoint);
  args.push(...(options.extra ?? []), image, ...command);
  return { args, cleanup: () => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })) };
}

/** Every container this process started by name, for removeStartedContainers (afterAll). */
const started = new Set<string>();
let runs = 0;

/** Removes every container runInImage / runSidecarContainer started that may still exist (never throws). */
export function removeStartedContainers(): void {
  removeContainersSync([...started]);
  started.clear();
}

/** Runs the image once to completion (`podman run --rm`), returning its exit code and output. */
export async function runInImage(command: readonly string[], options: ContainerRunOptions & { image?: string } = {}): Promise<RunResult> {
  // Named, so that afterAll can remove it if the run is cut short (a timeout kills only the client).
  const name = options.name ?? `weft-e2e-run-${process.pid}-${++runs}`;
  started.add(name);
  const { args, cleanup } = containerArgs(options.image ?? SIDECAR_IMAGE, command, { ...options, name });
  try {
    return await tryPodman(args, { timeoutMs: options.timeoutMs ?? 120_000 });
  } finally {
    cleanup();
  }
}

/** A detached sidecar container; `stop()` removes it (idempotent, for afterAll). */
export interface SidecarContainer {
  name: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * ─── THE PLACE FOR THE END-TO-END REQUEST TEST ───────────────────────────────────────────────────────
 * Starts the proxy image's default command (`weft sidecar`) detached, the way the injector's
 * `weft-proxy` container runs: uid/gid 1337, read-only root, no capabilities, in the Pod's network
 * namespace `netns` (a name from createNetns or a /run/netns path), with `env` (e.g.
 * WEFT_CONTROL_PLANE_URL, POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT) and `volumes` (host
 * dir → container path; the writable dirs not given here get an empty host dir, removed by stop()). Capture is set up beforehand by
 * running `weft-iptables` in the same namespace (as root with NET_ADMIN/NET_RAW: see image.test.ts).
 * The request test (added once the sidecar host lands) waits for 15021 /healthz/ready inside the
 * namespace, then sends a request through the capture and checks it arrives.
 */
export async function runSidecarContainer(
  netns: string,
  env: Record<string, string> = {},
  volumes: Record<string, string> = {},
  options: { image?: string; args?: readonly string[]; name?: string } = {},
): Promise<SidecarContainer> {
  const name = options.name ?? `weft-sidecar-${process.pid}-${Date.now() % 100000}`;
  const path = netns.startsWith("/") ? netns : `/run/netns/${netns}`;
  started.add(name);
  const { args, cleanup } = containerArgs(options.image ?? SIDECAR_IMAGE, options.args ?? [], { netns: path, env, volumes, name });
  args[args.indexOf("--rm")] = "--detach";
  try {
    await podman(args);
  } catch (error) {
    cleanup();
    throw error;
  }
  return {
    name,
    logs: async () => {
      const result = await tryPodman(["logs", name]);
      return `${result.stdout}${result.stderr}`;
    },
    stop: async () => {
      await tryPodman(["rm", "--force", "--volumes", "--time", "2", name]);
      cleanup();
    },
  };
}
