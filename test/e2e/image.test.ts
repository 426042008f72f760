// The sidecar image, built and run for real: assembles local base images from this host's own node and
// toolchain (no registry: test/e2e/support/host-base-image.ts), builds deploy/sidecar/Containerfile with
// buildah (vfs storage, chroot isolation), checks its config, and runs it with podman the way Kubernetes
// runs the injected containers — as 1337:1337 on a read-only root filesystem with no capabilities, in a
// Pod network namespace this test creates (and always deletes) — and the init container as root with
// NET_ADMIN/NET_RAW programming that namespace's capture.
//
// Needs root, buildah, podman and runc (podman's runtime here: crun cannot run on this kernel's hybrid
// cgroups). Without them the tests FAIL with a message saying so; they are never skipped.
// Timings and sizes are printed at the end and written to .test-results/e2e-image.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildah,
  createNetns,
  deleteNetns,
  IMAGE_LAYOUT,
  imageConfig,
  imageExists,
  imageId,
  imageSize,
  mustRun,
  PODMAN_RUNTIME,
  removeStartedContainers,
  runInImage,
  SIDECAR_IMAGE,
  type TestNetns,
} from "./support/container.js";
import { BUILDER_BASE, BUILDER_NODEDIR, ensureBaseImages, NETFILTER_BASE, RUNTIME_BASE } from "./support/host-base-image.js";
import { runSidecarContainer } from "./support/container.js";
import { APP_PORT, MeshLab, type Pod } from "./support/mesh-lab.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONTAINERFILE = "deploy/sidecar/Containerfile";
const HOST_ADDON = `${ROOT}edge-proxy/hosts/sidecar/native/build/Release/original_dst.node`;
const SUFFIX = `${process.pid % 100000}`;
const POD_NS = `weft-e2e-pod-${SUFFIX}`;
const PEER_NS = `weft-e2e-peer-${SUFFIX}`;
/** Exactly what the injector gives the init container (control/injection/init-container.ts). */
const INJECTOR_ARGS = ["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"];

const report: { step: string; seconds: number; note?: string }[] = [];
const sizes: Record<string, number> = {};
let pod: TestNetns | undefined;

async function timed<T>(step: string, work: () => Promise<T>, note?: (result: T) => string): Promise<T> {
  const started = performance.now();
  const result = await work();
  report.push({ step, seconds: Math.round((performance.now() - started) / 100) / 10, note: note?.(result) });
  return result;
}

function requireRootAndTools(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "test/e2e/image.test.ts must run as root: it builds images with buildah/podman (vfs storage) and creates network namespaces. " +
        "Run `npm run test:e2e` as root, as CI does.",
    );
  }
  const missing = ["buildah", "podman", PODMAN_RUNTIME, "ip", "tar", "ldd", "dpkg", "gcc", "iptables-save"].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length > 0) {
    throw new Error(`test/e2e/image.test.ts needs ${missing.join(", ")}: apt-get install buildah podman runc iptables iproute2 (see deploy/sidecar/README.md)`);
  }
}

const npm = (script: string) => mustRun("npm", ["run", "--silent", script], { cwd: ROOT, timeoutMs: 10 * 60_000 });

/**
 * What went wrong before any test could run (not root, a missing tool, a failed build). Kept rather than
 * thrown from beforeAll, so that every test FAILS with it (vitest reports tests under a failed beforeAll
 * as skipped).
 */
let setupError: unknown;
function setupDone(): void {
  if (setupError !== undefined) throw setupError;
}

beforeAll(async () => {
  try {
    await setup();
  } catch (error) {
    setupError = error;
  }
});

async function setup(): Promise<void> {
  requireRootAndTools();
  for (const base of await timed("base images (assemble or reuse)", ensureBaseImages)) {
    report.push({ step: `  ${base.image}`, seconds: Math.round(base.seconds * 10) / 10, note: `${base.reused ? "reused" : "assembled"}, ${base.files} host paths` });
    sizes[base.image] = base.bytes;
  }
  if (!existsSync(HOST_ADDON)) await timed("npm run build:native (host)", () => npm("build:native"));
  await timed("npm run build:sidecar", () => npm("build:sidecar"));
  const previous = (await imageExists(SIDECAR_IMAGE)) ? await imageId(SIDECAR_IMAGE) : "";
  await timed("buildah bud deploy/sidecar/Containerfile", () =>
    buildah(
      [
        "bud",
        "--isolation",
        "chroot",
        "--pull=never",
        "--ulimit",
        "nofile=20000:20000",
        "--ulimit",
        "nproc=32768:32768",
        "--build-arg",
        `BASE=${NETFILTER_BASE}`,
        "--build-arg",
        `BUILDER=${BUILDER_BASE}`,
        "--build-arg",
        `NODEDIR=${BUILDER_NODEDIR}`,
        // The local base already has iptables and ip (CAPTURE_TOOLS=apt needs apt and a mirror).
        "--build-arg",
        "CAPTURE_TOOLS=none",
        "-f",
        CONTAINERFILE,
        "-t",
        SIDECAR_IMAGE,
        ".",
      ],
      { cwd: ROOT, timeoutMs: 15 * 60_000 },
    ),
  );
  // The last run's image is untagged now: remove it (vfs keeps every image as full copies).
  if (previous !== "" && previous !== (await imageId(SIDECAR_IMAGE))) await buildah(["rmi", previous]).catch(() => undefined);
  sizes[SIDECAR_IMAGE] = await imageSize(SIDECAR_IMAGE);
  // A Pod's network namespace: eth0 10.214.0.2/24 to a peer namespace (10.214.0.1), loopback up.
  pod = await createNetns(POD_NS, { peer: PEER_NS, podAddress: "10.214.0.2/24", peerAddress: "10.214.0.1/24" });
}

afterAll(async () => {
  removeStartedContainers();
  await deleteNetns(POD_NS);
  await deleteNetns(PEER_NS);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const lines = [
    "sidecar image e2e: timings",
    ...report.map((r) => `  ${r.step.padEnd(48)} ${r.seconds.toFixed(1).padStart(7)} s${r.note ? `  (${r.note})` : ""}`),
    "sizes",
    ...Object.entries(sizes).map(([image, bytes]) => `  ${image.padEnd(48)} ${mib(bytes).padStart(11)}`),
  ];
  console.log(lines.join("\n"));
  mkdirSync(`${ROOT}.test-results`, { recursive: true });
  writeFileSync(`${ROOT}.test-results/e2e-image.json`, `${JSON.stringify({ timings: report, sizes, base: RUNTIME_BASE }, null, 2)}\n`);
});

/** `iptables-save -t nat` of the Pod namespace, as the `-A`/`:CHAIN` lines (no counters, no comments). */
function podNat(): string[] {
  const out = spawnSync("ip", ["netns", "exec", POD_NS, "iptables-save", "-t", "nat"], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`iptables-save in ${POD_NS} failed: ${out.stderr}`);
  return out.stdout.split("\n").filter((l) => l.startsWith("-A ") || l.startsWith(":"));
}

describe("the sidecar image (deploy/sidecar/Containerfile)", () => {
  it("runs `weft sidecar` as 1337:1337 by default, with the addon's path, ports and volumes in its config", async () => {
    setupDone();
    const config = await imageConfig(SIDECAR_IMAGE);
    expect(config.User).toBe("1337:1337");
    expect(config.Entrypoint).toEqual([IMAGE_LAYOUT.weft]);
    expect(config.Cmd).toEqual(["sidecar"]);
    expect(config.Env).toContain(`WEFT_NATIVE_ADDON=${IMAGE_LAYOUT.addon}`);
    expect(config.Env).toContain("NODE_OPTIONS=--max-semi-space-size=32");
    expect(config.Env?.find((e) => e.startsWith("PATH="))).toMatch(/^PATH=\/opt\/weft\/bin:/);
    expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(["15000/tcp", "15001/tcp", "15006/tcp", "15020/tcp", "15021/tcp", "15090/tcp"]);
    expect(Object.keys(config.Volumes ?? {}).sort()).toEqual([...IMAGE_LAYOUT.writable].sort());
  });

  it("`weft help` works on a read-only root as 1337 in the Pod namespace, and exit codes pass through the shim", async () => {
    setupDone();
    const help = await runInImage(["help"], { netns: pod!.path });
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage:");
    expect(help.stdout).toContain("iptables");

    const bogus = await runInImage(["no-such-command"], { netns: pod!.path });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('unknown command "no-such-command"');

    // `weft sidecar` (the image's default command) is being added to the CLI: once it is listed, its
    // help must work in the image too.
    if (/^\s+sidecar\b/m.test(help.stdout)) {
      const sidecarHelp = await runInImage(["sidecar", "--help"], { netns: pod!.path });
      expect(sidecarHelp.code, sidecarHelp.stderr).toBe(0);
      expect(sidecarHelp.stdout).toContain("sidecar");
    }
  });

  it("`weft-iptables --dry-run` (the init container's command) prints the capture rules, as does `weft iptables --dry-run`", async () => {
    setupDone();
    const standalone = await runInImage(["--dry-run", "--no-ipv6", ...INJECTOR_ARGS], { entrypoint: "weft-iptables", netns: pod!.path });
    expect(standalone.code, standalone.stderr).toBe(0);
    expect(standalone.stdout).toContain("*nat");
    expect(standalone.stdout).toContain("-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN");
    expect(standalone.stdout).toContain("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006");
    expect(standalone.stdout).toContain("COMMIT");

    const viaCli = await runInImage(["iptables", "--dry-run", "--no-ipv6", ...INJECTOR_ARGS], { netns: pod!.path });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaCli.stdout).toBe(standalone.stdout);
    expect(podNat().filter((l) => l.includes("ISTIO"))).toEqual([]);
  });

  it("loads the SO_ORIGINAL_DST addon from WEFT_NATIVE_ADDON inside the container", async () => {
    setupDone();
    const script = "const a = require(process.env.WEFT_NATIVE_ADDON); console.log(JSON.stringify({ keys: Object.keys(a), uid: process.getuid(), gid: process.getgid() }));";
    const result = await runInImage(["-e", script], { entrypoint: "node", netns: pod!.path });
    expect(result.code, result.stderr).toBe(0);
    const loaded = JSON.parse(result.stdout) as { keys: string[]; uid: number; gid: number };
    expect(loaded.keys.length).toBeGreaterThan(0);
    expect([loaded.uid, loaded.gid]).toEqual([1337, 1337]);
  });

  it("writes nothing outside its volumes: the root is read-only, /var/lib/istio/data, /etc/istio/proxy and /tmp are writable", async () => {
    setupDone();
    const script = `
      const fs = require("node:fs");
      const out = {};
      for (const dir of ${JSON.stringify([...IMAGE_LAYOUT.writable, "/", "/opt/weft", "/etc"])}) {
        try { fs.writeFileSync(dir.replace(/\\/?$/, "/probe"), "x"); out[dir] = "ok"; } catch (e) { out[dir] = e.code; }
      }
      console.log(JSON.stringify(out));`;
    const result = await runInImage(["-e", script], { entrypoint: "node", netns: pod!.path });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ "/var/lib/istio/data": "ok", "/etc/istio/proxy": "ok", "/tmp": "ok", "/": "EROFS", "/opt/weft": "EROFS", "/etc": "EROFS" });

    // Without emptyDirs, the image's own VOLUMEs (anonymous volumes, as Docker/podman make them) are
    // writable by 1337 too: the directories are 1337's in the image.
    const owners = await runInImage(["-e", `console.log(${JSON.stringify(IMAGE_LAYOUT.writable)}.map((d) => require("node:fs").statSync(d).uid).join(","))`], {
      entrypoint: "node",
      netns: pod!.path,
      emptyDirs: false,
    });
    expect(owners.code, owners.stderr).toBe(0);
    expect(owners.stdout.trim()).toBe("1337,1337,0");
  });

  it("the init container (root, NET_ADMIN + NET_RAW only) programs and removes the Pod namespace's capture", async () => {
    setupDone();
    const asInit = { entrypoint: "weft-iptables", netns: pod!.path, user: "0:0", extra: ["--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW"] };
    const dryRun = await runInImage(["--dry-run", ...INJECTOR_ARGS], asInit);
    expect(dryRun.code, dryRun.stderr).toBe(0);

    const apply = await runInImage(INJECTOR_ARGS, asInit);
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    // iptables-save prints what was restored with implied matches spelled out (`-m tcp`) and options
    // reordered; compare each chain's rule count, and a few rules in saved form.
    const rules = podNat();
    const perChain = (lines: string[]) => {
      const counts: Record<string, number> = {};
      for (const line of lines.filter((l) => l.startsWith("-A "))) counts[line.split(" ")[1]!] = (counts[line.split(" ")[1]!] ?? 0) + 1;
      return counts;
    };
    const expected = perChain(dryRun.stdout.split("\n"));
    expect(Object.values(expected).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    expect(perChain(rules)).toEqual({ ...expected, PREROUTING: 1, OUTPUT: 1 });
    expect(rules).toContain("-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN");
    expect(rules).toContain("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006");
    expect(rules).toContain("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001");

    // Running again (a restarted init container) leaves one copy of each rule.
    expect((await runInImage(INJECTOR_ARGS, asInit)).code).toBe(0);
    expect(podNat()).toEqual(rules);

    const cleanup = await runInImage(["--cleanup"], asInit);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(podNat().filter((l) => l.includes("ISTIO"))).toEqual([]);
  });
});

describe("the image as a Pod's sidecar", () => {
  // Pod "img" runs its sidecar from the image under podman (uid 1337, read-only root, no capabilities),
  // pod "src" runs it from this checkout; the same basic request goes both ways, mTLS between them.
  const lab = new MeshLab();
  let img: Pod;
  let src: Pod;
  let container: { logs(): Promise<string>; stop(): Promise<void> } | undefined;
  const host = (pod: Pod) => `${pod.name}.e2e.svc.cluster.local`;

  beforeAll(async () => {
    setupDone();
    await lab.start();
    await lab.apply(
      ["img", "src"]
        .map(
          (name) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: e2e }
spec: { hosts: [${name}.e2e.svc.cluster.local], location: MESH_INTERNAL, ports: [{ number: ${APP_PORT}, name: http, protocol: HTTP }], resolution: STATIC, workloadSelector: { labels: { app: ${name} } } }
`,
        )
        .join("---\n"),
    );
    img = await lab.addPod({ name: "img", namespace: "e2e", serviceAccount: "img", labels: { app: "img", "security.istio.io/tlsMode": "istio" } });
    src = await lab.addPod({ name: "src", namespace: "e2e", serviceAccount: "src", labels: { app: "src", "security.istio.io/tlsMode": "istio" } });
    await lab.startSidecar(src);
    await lab.startSidecarWith(img, async (netns, env, volumes) => (container = await runSidecarContainer(netns, env, volumes)));
  }, 300_000);
  afterAll(async () => {
    await container?.stop();
    await lab.close();
  }, 60_000);

  it("passes the basic request in and out of the containerised sidecar", async () => {
    const toImage = await lab.fetchFrom(src.netns, `http://${img.ip}:${APP_PORT}/in`, { host: `${host(img)}:${APP_PORT}` });
    expect(toImage.status, `${JSON.stringify(toImage)}\n${await container?.logs()}`).toBe(200);
    const seenIn = JSON.parse(toImage.body ?? "{}") as { app: string; headers: Record<string, string> };
    expect(seenIn.app).toBe("img");
    expect(seenIn.headers["x-forwarded-client-cert"]).toContain("URI=spiffe://cluster.local/ns/e2e/sa/src");

    const fromImage = await lab.fetchFrom(img.netns, `http://${src.ip}:${APP_PORT}/out`, { host: `${host(src)}:${APP_PORT}` });
    expect(fromImage.status, `${JSON.stringify(fromImage)}\n${await container?.logs()}`).toBe(200);
    const seenOut = JSON.parse(fromImage.body ?? "{}") as { app: string; headers: Record<string, string> };
    expect(seenOut.app).toBe("src");
    expect(seenOut.headers["x-forwarded-client-cert"]).toContain("URI=spiffe://cluster.local/ns/e2e/sa/img");
    // The containerised sidecar's own ports answer inside the Pod namespace.
    const metrics = await lab.fetchFrom(img.netns, "http://127.0.0.1:15090/stats/prometheus");
    expect(metrics.body).toContain("istio_requests_total{");
  });
});
