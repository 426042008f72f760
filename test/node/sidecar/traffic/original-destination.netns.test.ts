// The SO_ORIGINAL_DST addon against the REAL kernel, in a network namespace this test creates and always
// deletes: 10.214.0.2 and fd00:214::2 are assigned to the namespace's loopback, nat OUTPUT rules REDIRECT
// connections for port 8080/8081 of those addresses to local listeners, and a probe process running
// inside the namespace (the TypeScript loader, the built addon) reports what originalDestination says
// for each accepted socket. Then the capture listeners themselves run there as the proxy's uid 1337
// (support/capture-probe) behind a REDIRECT of other uids' traffic, as weft-iptables sets it up: TCP
// and HTTP reach their real destinations through them, and a connection aimed at the listener's own
// port is refused. Needs root, iproute2, iptables/ip6tables, setpriv and the built addon
// (`npm run build:native`): without them the tests FAIL, they are never skipped.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const PROBE = fileURLToPath(new URL("./support/original-destination-probe.ts", import.meta.url));
const CAPTURE_PROBE = fileURLToPath(new URL("./support/capture-probe.ts", import.meta.url));
const ADDON = fileURLToPath(new URL("../../../../edge-proxy/hosts/sidecar/native/build/Release/original_dst.node", import.meta.url));
const NS = `weft-odst-${process.pid % 100000}`;
const V4 = "10.214.0.2";
const V6 = "fd00:214::2";

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
const inNs = (...args: string[]) => sh("ip", "netns", "exec", NS, ...args);

interface Probe {
  listeners: { port: number; host: string }[];
  connections: { name: string; host: string; port: number }[];
}

/** Runs the probe inside the namespace; resolves with its per-connection report. */
async function probe(input: Probe): Promise<Record<string, { via?: string; originalDestination?: unknown; error?: string }>> {
  const child = spawn("ip", ["netns", "exec", NS, process.execPath, "--import", "tsx", PROBE, JSON.stringify(input)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`probe failed (${code}): ${out}${err}`);
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, { via?: string; originalDestination?: unknown }>;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("the original-destination netns test needs root (network namespaces and iptables)");
  if (!existsSync(ADDON)) throw new Error(`${ADDON} is missing: run \`npm run build:native\` first`);
  for (const tool of ["ip", "iptables", "ip6tables", "setpriv"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y iptables iproute2)`);
  }
  spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" }); // a killed run's leftover with the same pid
  sh("ip", "netns", "add", NS);
  sh("ip", "-n", NS, "link", "set", "lo", "up");
  sh("ip", "-n", NS, "addr", "add", `${V4}/32`, "dev", "lo");
  sh("ip", "-n", NS, "-6", "addr", "add", `${V6}/128`, "dev", "lo", "nodad");
  // 8080 → the IPv4 listener (15001); 8081 → the dual-stack one (15002), which sees IPv4-mapped sockets.
  inNs("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", `${V4}/32`, "--dport", "8080", "-j", "REDIRECT", "--to-ports", "15001");
  inNs("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", `${V4}/32`, "--dport", "8081", "-j", "REDIRECT", "--to-ports", "15002");
  inNs("ip6tables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", `${V6}/128`, "--dport", "8080", "-j", "REDIRECT", "--to-ports", "15002");
});

const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill();
  spawnSync("ip", ["netns", "del", NS], { stdio: "ignore" });
});

/** Runs `script` with node inside the namespace (as root, so its connections are captured); resolves with its stdout. */
async function inNamespace(script: string, ...args: string[]): Promise<string> {
  const child = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", script, ...args], { cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`client failed (${code}): ${err}`);
  return out.trim();
}

const TCP_CLIENT = `
const net = require("node:net");
const [host, port, data] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), allowHalfOpen: true }, () => s.end(data));
let got = "";
s.setTimeout(5000, () => { console.log("error:TIMEOUT"); process.exit(0); });
s.on("data", (c) => (got += c));
s.on("close", () => { console.log(got === "" ? "closed:empty" : got); process.exit(0); });
s.on("error", (e) => { console.log("error:" + e.code); process.exit(0); });`;

const HTTP_CLIENT = `
const http = require("node:http");
const [host, port, path] = process.argv.slice(1);
http.get({ host, port: Number(port), path, agent: false }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => { console.log(r.statusCode + " " + b + (r.headers["x-envoy-upstream-service-time"] !== undefined ? " (via proxy)" : "")); process.exit(0); }); })
  .on("error", (e) => { console.log("error:" + e.code); process.exit(0); });`;

describe("originalDestination in a real network namespace", () => {
  it("returns the address a REDIRECTed connection was sent to, IPv4, IPv4-mapped and IPv6; a direct one gives the listener's own", async () => {
    const report = await probe({
      listeners: [
        { host: "0.0.0.0", port: 15001 },
        { host: "::", port: 15002 },
      ],
      connections: [
        { name: "redirected-v4", host: V4, port: 8080 },
        { name: "direct-v4", host: V4, port: 15001 },
        { name: "redirected-v4-mapped", host: V4, port: 8081 },
        { name: "redirected-v6", host: V6, port: 8080 },
        { name: "direct-v6", host: V6, port: 15002 },
      ],
    });
    expect(report["redirected-v4"]).toEqual({ via: "0.0.0.0:15001", originalDestination: { address: V4, port: 8080 } });
    expect(report["direct-v4"]).toEqual({ via: "0.0.0.0:15001", originalDestination: { address: V4, port: 15001 } });
    expect(report["redirected-v4-mapped"]).toEqual({ via: ":::15002", originalDestination: { address: V4, port: 8081 } });
    expect(report["redirected-v6"]).toEqual({ via: ":::15002", originalDestination: { address: V6, port: 8080 } });
    expect(report["direct-v6"]).toEqual({ via: ":::15002", originalDestination: { address: V6, port: 15002 } });
  });
});

describe("the capture listeners behind a real REDIRECT", () => {
  const sidecarLog: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // weft-iptables' shape, narrowed to two ports: other uids' TCP to them goes to 15001; uid 1337 (the sidecar) is left alone.
    inNs("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", `${V4}/32`, "-m", "multiport", "--dports", "9000,9001,15001", "-m", "owner", "!", "--uid-owner", "1337", "-j", "REDIRECT", "--to-ports", "15001");
    const input = JSON.stringify({ address: V4, echoPort: 9000, httpPort: 9001, outboundPort: 15001, inboundPort: 15006 });
    const child = spawn("ip", ["netns", "exec", NS, "setpriv", "--reuid=1337", "--regid=1337", "--clear-groups", process.execPath, "--import", "tsx", CAPTURE_PROBE, input], {
      cwd: ROOT,
      env: { ...process.env, WEFT_NATIVE_ADDON: ADDON },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          if (line === "ready") resolve();
          else if (line.startsWith("{")) sidecarLog.push(JSON.parse(line) as Record<string, unknown>);
        }
      });
      child.on("exit", (code) => reject(new Error(`capture probe exited with ${code}: ${JSON.stringify(sidecarLog)}`)));
    });
  });

  it("passes a captured TCP connection to its original destination, and answers captured HTTP through the proxy", async () => {
    // The packet counter of the capture rule: one more per captured connection.
    const redirected = () => Number(/^\s*(\d+)\s+\d+\s+REDIRECT.*multiport dports 9000,9001,15001/m.exec(inNs("iptables", "-t", "nat", "-L", "OUTPUT", "-v", "-x", "-n"))?.[1] ?? -1);
    const before = redirected();
    expect(await inNamespace(TCP_CLIENT, V4, "9000", "~ping")).toBe("~ping");
    expect(redirected()).toBe(before + 1); // the connection was captured, not direct
    // The app's answer, through the sidecar's PassthroughCluster (the config knows no host); the core adds its header.
    expect(await inNamespace(HTTP_CLIENT, V4, "9001", "/through-the-sidecar")).toBe("200 app:9001 /through-the-sidecar (via proxy)");
  });

  it("refuses a connection whose original destination is the sidecar's own port", async () => {
    expect(["closed:empty", "error:ECONNRESET"]).toContain(await inNamespace(TCP_CLIENT, V4, "15001", "loop"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sidecarLog.some((l) => l.event === "capture_loop_refused" && l.destination === `${V4}:15001`)).toBe(true);
  });
});
