/**
 * @module bench-sidecar/cpu-profile
 * Summarises a V8 .cpuprofile (`node --cpu-prof`) over a time window (CLOCK_MONOTONIC µs, the clock of
 * both V8's profile timestamps and process.hrtime), for `npm run bench:sidecar --cpu-prof DIR`:
 *
 * - self time by where it is spent (a Node module such as `node:_tls_wrap`, a file of this project, a
 *   native function, GC, "(program)": native work outside any JS frame, e.g. libuv and OpenSSL
 *   decrypting on read);
 * - inclusive time of the data path's parts (a sample counts for every part on its stack);
 * - the hottest functions by self time.
 *
 * Also runnable on its own: `tsx scripts/bench-sidecar/cpu-profile.ts FILE [startUs endUs]`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's own time goes, coarsely. */
export function selfGroup(frame: CallFrame): string {
  const { functionName, url } = frame;
  if (url === "") {
    if (functionName === "(program)" || functionName === "(garbage collector)" || functionName === "(idle)" || functionName === "(root)") return functionName;
    return `native ${functionName || "(anonymous)"}`;
  }
  if (url.startsWith("node:")) {
    if (url.includes("deps/undici")) return "node:undici (Request/Response/Headers)";
    if (url.includes("internal/webstreams")) return "node:internal/webstreams";
    if (url.includes("internal/streams") || url === "node:stream") return "node:internal/streams";
    return url;
  }
  const at = url.indexOf("/edge-proxy/");
  if (at >= 0) return url.slice(at + 1);
  const modules = url.indexOf("/node_modules/");
  if (modules >= 0) return `node_modules/${url.slice(modules + 14).split("/").slice(0, url.includes("/node_modules/@") ? 2 : 1).join("/")}`;
  return url.replace(/^file:\/\/.*\/(cli|scripts|test)\//, "$1/");
}

/** The data path's parts, by frames that mark them (a sample belongs to every part found on its stack). */
const PARTS: { name: string; test: (f: CallFrame) => boolean }[] = [
  { name: "TLS (node:_tls_wrap JS side)", test: (f) => f.url === "node:_tls_wrap" },
  { name: "HTTP server parse/serve (node:_http_server, _http_common, _http_incoming)", test: (f) => f.url === "node:_http_server" || f.url === "node:_http_common" || f.url === "node:_http_incoming" },
  { name: "HTTP writes (node:_http_outgoing)", test: (f) => f.url === "node:_http_outgoing" },
  { name: "HTTP client (node:_http_client, _http_agent)", test: (f) => f.url === "node:_http_client" || f.url === "node:_http_agent" || f.url === "node:https" },
  { name: "socket writes (writev/writeBuffer/writeUtf8String…)", test: (f) => f.url === "" && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|writeUcs2String)$/.test(f.functionName) },
  { name: "undici web classes (Request, Response, Headers)", test: (f) => f.url.includes("deps/undici") },
  { name: "web streams (node:internal/webstreams)", test: (f) => f.url.includes("internal/webstreams") },
  { name: "serve-http toWebRequest", test: (f) => f.url.endsWith("/hosts/node/serve-http.ts") && f.functionName === "toWebRequest" },
  { name: "serve-http writeWebResponse", test: (f) => f.url.endsWith("/hosts/node/serve-http.ts") && f.functionName === "writeWebResponse" },
  { name: "send-http (sendAttempt, attempt, response → web Response)", test: (f) => f.url.endsWith("/hosts/node/send-http.ts") },
  { name: "mesh-sender", test: (f) => f.url.endsWith("/traffic/mesh-sender.ts") },
  { name: "capture-listeners / http-handoff handlers", test: (f) => f.url.endsWith("/traffic/capture-listeners.ts") || f.url.endsWith("/traffic/http-handoff.ts") },
  { name: "proxy core (core/proxy/*)", test: (f) => f.url.includes("/edge-proxy/core/proxy/") },
  { name: "  Exchange constructor (URL, Headers copy, trace ids)", test: (f) => f.url.endsWith("/core/proxy/proxy.ts") && f.functionName === "Exchange" },
  { name: "  forward (core/proxy/forward.ts)", test: (f) => f.url.endsWith("/core/proxy/forward.ts") },
  { name: "  meterBody (core/proxy/metered-body.ts)", test: (f) => f.url.endsWith("/core/proxy/metered-body.ts") },
  { name: "routing (core/routing/*)", test: (f) => f.url.includes("/edge-proxy/core/routing/") },
  { name: "security (core/security/*)", test: (f) => f.url.includes("/edge-proxy/core/security/") },
  { name: "upstream (core/upstream/*)", test: (f) => f.url.includes("/edge-proxy/core/upstream/") },
  { name: "telemetry (core/telemetry/*: metrics, trace ids)", test: (f) => f.url.includes("/edge-proxy/core/telemetry/") },
  { name: "timers, microtasks, nextTick (node:internal/timers, task_queues)", test: (f) => f.url === "node:internal/timers" || f.url === "node:internal/process/task_queues" },
];

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  selfByGroup: [string, number][];
  parts: [string, number][];
  topFunctions: [string, number][];
}

export function analyzeCpuProfile(profile: CpuProfile, startUs = -Infinity, endUs = Infinity): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) byId.set(node.id, node);
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackParts = new Map<number, number[]>();
  const partsOf = (id: number): number[] => {
    let parts = stackParts.get(id);
    if (parts !== undefined) return parts;
    const found = new Set<number>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      PARTS.forEach((p, i) => {
        if (p.test(frame)) found.add(i);
      });
    }
    parts = [...found];
    stackParts.set(id, parts);
    return parts;
  };

  const selfByGroup = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const partTime = new Array<number>(PARTS.length).fill(0);
  let total = 0;
  let idle = 0;
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (t < startUs || t > endUs) continue;
    const weight = (timeDeltas[i + 1] ?? 0) / 1000; // this sample lasts until the next one
    const node = byId.get(samples[i]!)!;
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") {
      idle += weight;
      continue;
    }
    total += weight;
    const group = selfGroup(frame);
    selfByGroup.set(group, (selfByGroup.get(group) ?? 0) + weight);
    const fn = `${frame.functionName || "(anonymous)"} ${frame.url === "" ? "" : `${group}:${frame.lineNumber + 1}`}`.trim();
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + weight);
    for (const p of partsOf(node.id)) partTime[p] = partTime[p]! + weight;
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1]);
  return {
    totalMs: total,
    idleMs: idle,
    selfByGroup: sorted(selfByGroup),
    parts: PARTS.map((p, i): [string, number] => [p.name, partTime[i]!]),
    topFunctions: sorted(selfByFunction).slice(0, 30),
  };
}

/** A printable summary of `file` over [startUs, endUs]. */
export function summarizeCpuProfile(file: string, startUs = -Infinity, endUs = Infinity): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const s = analyzeCpuProfile(profile, startUs, endUs);
  const pct = (ms: number) => `${((100 * ms) / Math.max(s.totalMs, 1e-9)).toFixed(1).padStart(5)}%`;
  const lines = [`  busy ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms in the window`, "  self time by where it is spent:"];
  let shown = 0;
  for (const [group, ms] of s.selfByGroup) {
    if (shown++ >= 24 && ms < s.totalMs * 0.005) break;
    lines.push(`    ${pct(ms)}  ${group}`);
  }
  lines.push("  inclusive time of the data path's parts (overlapping):");
  for (const [name, ms] of s.parts) lines.push(`    ${pct(ms)}  ${name}`);
  lines.push("  hottest functions (self):");
  for (const [fn, ms] of s.topFunctions) lines.push(`    ${pct(ms)}  ${fn}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, start, end] = process.argv.slice(2);
  if (file === undefined) {
    console.error("usage: tsx scripts/bench-sidecar/cpu-profile.ts FILE.cpuprofile [startUs endUs]");
    process.exit(2);
  }
  console.log(summarizeCpuProfile(file, start !== undefined ? Number(start) : -Infinity, end !== undefined ? Number(end) : Infinity));
}
