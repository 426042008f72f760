// `weft-iptables` against REAL iptables, inside network namespaces this test creates and always deletes:
// a "pod" namespace (10.213.0.2) joined by a veth pair to a "peer" namespace (10.213.0.1). Installs the
// rules with the applier (through `ip netns exec`), checks iptables-save holds them once, runs again
// (still once), proves capture with real TCP connections (inbound to 15006 except excluded ports,
// outbound to 15001 except uid/gid 1337, the proxy's loopback re-redirect), then checks the CLI's
// --dry-run changes nothing and --cleanup removes everything. Needs root and iptables: without them the
// tests FAIL (CI runs as root and .ci/run installs iptables); they are never skipped.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyCapture } from "../../../edge-proxy/hosts/sidecar/iptables/apply-capture.js";
import { parseCaptureFlags } from "../../../edge-proxy/hosts/sidecar/iptables/capture-options.js";
import { planCapture, ISTIO_CHAINS } from "../../../edge-proxy/hosts/sidecar/iptables/capture-plan.js";
import { cleanupCapture } from "../../../edge-proxy/hosts/sidecar/iptables/cleanup-capture.js";
import { spawnCommand } from "../../../edge-proxy/hosts/sidecar/iptables/run-command.js";

const BIN = fileURLToPath(new URL("../../../bin/weft-iptables.mjs", import.meta.url));
const SUFFIX = `${process.pid % 100000}`;
const POD = `weft-pod-${SUFFIX}`;
const PEER = `weft-peer-${SUFFIX}`;
const LEGACY = `weft-legacy-${SUFFIX}`;
const POD_IP = "10.213.0.2";
const PEER_IP = "10.213.0.1";
/** The default sidecar's options; 15020 is one of the excluded inbound ports. */
const OPTIONS = parseCaptureFlags({}, false);
const inPod = spawnCommand(["ip", "netns", "exec", POD]);

const LISTENER = `
const net = require("node:net");
const ports = process.argv.slice(1).map(Number);
let listening = 0;
for (const port of ports) {
  net.createServer((s) => s.end("port:" + port + "\\n")).listen(port, "0.0.0.0", () => {
    if (++listening === ports.length) console.log("ready");
  });
}`;

const CLIENT = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
let data = "";
const s = net.connect({ host, port: Number(port) });
s.setTimeout(3000, () => { console.log("error:TIMEOUT"); process.exit(0); });
s.on("data", (c) => (data += c));
s.on("end", () => { console.log(data.trim()); process.exit(0); });
s.on("error", (e) => { console.log("error:" + e.code); process.exit(0); });`;

const listeners: ChildProcess[] = [];

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function deleteNamespaces(): void {
  for (const ns of [POD, PEER, LEGACY]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}

/** Starts a TCP listener answering `port:N` on each port inside `ns`; resolves once all listen. */
function listen(ns: string, ports: number[]): Promise<void> {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", LISTENER, ...ports.map(String)], { stdio: ["ignore", "pipe", "inherit"] });
  listeners.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => chunk.includes("ready") && resolve());
    child.on("exit", (code) => reject(new Error(`listener in ${ns} on ${ports.join(",")} exited with ${code}`)));
  });
}

/**
 * Connects from `ns` to host:port (as uid/gid when given, via setpriv) and answers what came back:
 * `port:N` names the listener that accepted, `error:ECONNREFUSED` means nothing listened.
 */
async function connect(ns: string, host: string, port: number, as?: { uid: number; gid: number }): Promise<string> {
  const identity = as ? ["setpriv", `--reuid=${as.uid}`, `--regid=${as.gid}`, "--clear-groups"] : [];
  const child = spawn("ip", ["netns", "exec", ns, ...identity, process.execPath, "-e", CLIENT, host, String(port)], { cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`client in ${ns} failed (${code}): ${err}`);
  return out.trim();
}

/** `iptables-save -t nat` in the pod, without comments and counters (so two snapshots compare). */
function natTable(ns = POD, save = "iptables-save"): string {
  return sh("ip", "netns", "exec", ns, save, "-t", "nat")
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ""))
    .join("\n");
}

const countLines = (table: string, line: string): number => table.split("\n").filter((l) => l === line).length;
const chainRuleCount = (table: string, chain: string): number => table.split("\n").filter((l) => l.startsWith(`-A ${chain} `)).length;

function weftIptables(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync("ip", ["netns", "exec", POD, process.execPath, BIN, ...args], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Asserts the plan's rules are in `table` exactly once: one of each jump, the planned count per chain. */
function expectInstalledOnce(table: string, options = OPTIONS, family: "v4" | "v6" = "v4"): void {
  const plan = planCapture(options, family);
  for (const chain of ISTIO_CHAINS) {
    expect(countLines(table, `:${chain} -`), chain).toBe(1);
    expect(chainRuleCount(table, chain), chain).toBe(plan.rules.filter((r) => r.chain === chain).length);
  }
  expect(countLines(table, "-A PREROUTING -p tcp -j ISTIO_INBOUND")).toBe(1);
  expect(countLines(table, "-A OUTPUT -j ISTIO_OUTPUT")).toBe(1);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error("iptables-netns tests need root (network namespaces and iptables); run them as root, as CI does");
  }
  for (const tool of ["ip", "iptables-save", "iptables-restore", "ip6tables-restore", "iptables-legacy-restore", "setpriv"]) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
    if (!found) throw new Error(`${tool} is not installed: apt-get install -y iptables iproute2 util-linux (.ci/run does this)`);
  }
  deleteNamespaces(); // leftovers of a killed run with the same pid
  sh("ip", "netns", "add", POD);
  sh("ip", "netns", "add", PEER);
  sh("ip", "netns", "add", LEGACY);
  sh("ip", "-n", POD, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", PEER);
  sh("ip", "-n", POD, "addr", "add", `${POD_IP}/24`, "dev", "eth0");
  sh("ip", "-n", PEER, "addr", "add", `${PEER_IP}/24`, "dev", "eth0");
  for (const ns of [POD, PEER, LEGACY]) sh("ip", "-n", ns, "link", "set", "lo", "up");
  sh("ip", "-n", POD, "link", "set", "eth0", "up");
  sh("ip", "-n", PEER, "link", "set", "eth0", "up");
  // The pod's "proxy" listeners, plus 15020 (an excluded inbound port); the peer's service on 9000.
  await Promise.all([listen(POD, [15006, 15001, 15020]), listen(PEER, [9000])]);
});

afterAll(() => {
  for (const child of listeners) child.kill();
  deleteNamespaces();
});

describe("weft-iptables in a real network namespace", () => {
  it("before capture, connections reach their real destinations", async () => {
    expect(await connect(PEER, POD_IP, 8080)).toBe("error:ECONNREFUSED");
    expect(await connect(POD, PEER_IP, 9000)).toBe("port:9000");
  });

  it("installs the rules once; a second run still leaves one copy of each", async () => {
    const first = await applyCapture(OPTIONS, { run: inPod });
    expect(first).toEqual([{ family: "v4", chainRules: 16, jumpsAdded: 2, jumpsKept: 0, jumpsDeleted: 0 }]);
    const installed = natTable();
    expectInstalledOnce(installed);

    const second = await applyCapture(OPTIONS, { run: inPod });
    expect(second).toEqual([{ family: "v4", chainRules: 16, jumpsAdded: 0, jumpsKept: 2, jumpsDeleted: 0 }]);
    expect(natTable()).toBe(installed);
  });

  it("repairs a duplicated jump back to one copy", async () => {
    const installed = natTable();
    sh("ip", "netns", "exec", POD, "iptables", "-t", "nat", "-A", "OUTPUT", "-j", "ISTIO_OUTPUT");
    expect(countLines(natTable(), "-A OUTPUT -j ISTIO_OUTPUT")).toBe(2);
    const report = await applyCapture(OPTIONS, { run: inPod });
    expect(report[0]).toMatchObject({ jumpsKept: 2, jumpsDeleted: 1 });
    expect(natTable()).toBe(installed);
  });

  it("drops the PREROUTING jump when re-run with -b \"\", and brings it back with -b *", async () => {
    const installed = natTable();
    const noInbound = { ...OPTIONS, inboundPortsInclude: [] };
    expect((await applyCapture(noInbound, { run: inPod }))[0]).toMatchObject({ jumpsKept: 1, jumpsDeleted: 1, jumpsAdded: 0 });
    expect(natTable()).not.toContain("-A PREROUTING");
    expect(chainRuleCount(natTable(), "ISTIO_INBOUND")).toBe(1);
    expect((await applyCapture(OPTIONS, { run: inPod }))[0]).toMatchObject({ jumpsKept: 1, jumpsAdded: 1 });
    expect(natTable()).toBe(installed);
  });

  it("captures inbound TCP to 15006, except the excluded ports", async () => {
    expect(await connect(PEER, POD_IP, 8080)).toBe("port:15006");
    expect(await connect(PEER, POD_IP, 443)).toBe("port:15006");
    expect(await connect(PEER, POD_IP, 15020)).toBe("port:15020");
  });

  it("captures the pod's outbound TCP to 15001, but not traffic of uid 1337 or gid 1337", async () => {
    expect(await connect(POD, PEER_IP, 9000)).toBe("port:15001");
    expect(await connect(POD, PEER_IP, 9000, { uid: 1337, gid: 1337 })).toBe("port:9000");
    expect(await connect(POD, PEER_IP, 9000, { uid: 1000, gid: 1337 })).toBe("port:9000");
  });

  it("sends the proxy's connection to its own pod IP to the inbound listener; leaves the app's alone", async () => {
    expect(await connect(POD, POD_IP, 8080, { uid: 1337, gid: 1337 })).toBe("port:15006");
    expect(await connect(POD, POD_IP, 8080)).toBe("error:ECONNREFUSED");
    expect(await connect(POD, "127.0.0.1", 8080)).toBe("error:ECONNREFUSED");
  });

  it("installs the IPv6 rules with ip6tables and adds ::6 to lo", async () => {
    const options = { ...OPTIONS, ipv6: true };
    await applyCapture(options, { run: inPod });
    const v6 = natTable(POD, "ip6tables-save");
    expectInstalledOnce(v6, options, "v6");
    expect(v6).toContain("-A ISTIO_OUTPUT -s ::6/128 -o lo -j RETURN");
    expect(sh("ip", "-n", POD, "-6", "addr", "show", "dev", "lo")).toContain("inet6 ::6/128");
    await applyCapture(options, { run: inPod });
    expect(natTable(POD, "ip6tables-save")).toBe(v6);
  });

  it("--dry-run prints the rules and changes nothing", () => {
    const before = [natTable(), natTable(POD, "ip6tables-save")];
    const run = weftIptables("--dry-run", "--ipv6", "-b", "80", "-i", "10.0.0.0/8");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("-A ISTIO_INBOUND -p tcp --dport 80 -j ISTIO_IN_REDIRECT");
    expect([natTable(), natTable(POD, "ip6tables-save")]).toEqual(before);
  });

  it("--cleanup removes every jump and chain, IPv4 and IPv6; capture stops; a second cleanup is fine", async () => {
    const run = weftIptables("--cleanup");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("IPv4: removed 2 jump(s) and chain(s) ISTIO_INBOUND, ISTIO_REDIRECT, ISTIO_IN_REDIRECT, ISTIO_OUTPUT");
    expect(natTable()).not.toContain("ISTIO");
    expect(natTable(POD, "ip6tables-save")).not.toContain("ISTIO");
    expect(await connect(PEER, POD_IP, 8080)).toBe("error:ECONNREFUSED");
    expect(await connect(POD, PEER_IP, 9000)).toBe("port:9000");

    const again = weftIptables("--cleanup");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("IPv4: no capture rules to remove");
  });

  it("the weft-iptables executable installs with the injector's arguments, idempotently", async () => {
    const args = ["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020", "--no-ipv6"];
    const first = weftIptables(...args);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("IPv4: installed 16 rules");
    expect(weftIptables(...args).stdout).toContain("jumps added 0, already present 2, removed 0");
    expectInstalledOnce(natTable());
    expect(await connect(PEER, POD_IP, 8080)).toBe("port:15006");
    await cleanupCapture({ run: inPod, ipv6: false });
    expect(natTable()).not.toContain("ISTIO");
  });

  it("reports a failing iptables with the command and its message", async () => {
    const legacyRun = spawnCommand(["ip", "netns", "exec", LEGACY]);
    // Options that bypassed flag parsing: iptables itself refuses the port, and the transaction changes nothing.
    const bad = { ...OPTIONS, outboundPort: 70000 };
    const failure = applyCapture(bad, { run: legacyRun, backend: "legacy" });
    await expect(failure).rejects.toMatchObject({ code: "ERR_IPTABLES_FAILED" });
    await expect(failure).rejects.toThrow(/iptables-legacy-restore --noflush failed with exit code \d+: .*70000/s);
    expect(natTable(LEGACY, "iptables-legacy-save")).not.toContain("ISTIO");
  });

  it("works with the iptables-legacy backend too", async () => {
    const legacyRun = spawnCommand(["ip", "netns", "exec", LEGACY]);
    await applyCapture(OPTIONS, { run: legacyRun, backend: "legacy" });
    await applyCapture(OPTIONS, { run: legacyRun, backend: "legacy" });
    expectInstalledOnce(natTable(LEGACY, "iptables-legacy-save"));
    await cleanupCapture({ run: legacyRun, backend: "legacy", ipv6: false });
    expect(natTable(LEGACY, "iptables-legacy-save")).not.toContain("ISTIO");
  });
});
