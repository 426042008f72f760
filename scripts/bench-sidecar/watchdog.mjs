// The cleanup of last resort for `npm run bench:sidecar`, started detached (its own session, deaf to
// SIGINT and SIGHUP) when the bench starts:
//   node watchdog.mjs BENCH_PID MANIFEST
// It waits for the bench process to end. If the bench did not finish its own cleanup (the manifest still
// exists: the bench was killed, e.g. SIGKILLed by a launcher while cleaning up after Ctrl-C), it does it
// from the manifest the bench keeps up to date: kills every process in the bench's network namespaces
// and every process whose command line names one of its markers (the control plane's and MeshLab's
// temporary paths: only processes the bench started), deletes the namespaces and the directories.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";

process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
const [benchPid, manifestFile] = process.argv.slice(2);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const kill = (pid, signal) => {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
};

function pidsNaming(markers) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (markers.some((m) => m !== "" && cmdline.includes(m))) found.push(Number(entry));
  }
  return found;
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), or undefined when it is gone. */
function groupOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return undefined;
  }
}

async function cleanUp(manifest) {
  for (const ns of manifest.namespaces ?? []) {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) kill(pid, "SIGKILL");
  }
  const marked = pidsNaming(manifest.markers ?? []);
  const groups = new Map(marked.map((pid) => [pid, groupOf(pid)]));
  const groupOfMarked = (pid) => groups.get(pid);
  for (const pid of marked) kill(pid, "SIGTERM");
  await new Promise((r) => setTimeout(r, 2000));
  for (const pid of [...marked, ...pidsNaming(manifest.markers ?? [])]) if (alive(pid)) kill(pid, "SIGKILL");
  // workerd, started by the control plane's wrangler, names none of the markers: it goes with its process
  // group, whose leader (the control plane's launcher, started detached) does name one.
  for (const pid of marked) if (groupOfMarked(pid) === pid) kill(-pid, "SIGKILL");
  for (const ns of [...(manifest.namespaces ?? [])].reverse()) spawnSync("ip", ["netns", "del", ns]);
  for (const dir of manifest.dirs ?? []) rmSync(dir, { recursive: true, force: true });
}

const timer = setInterval(async () => {
  if (alive(Number(benchPid))) return;
  clearInterval(timer);
  if (existsSync(manifestFile)) {
    let manifest = {};
    try {
      manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    } catch {
      /* half written: use what there is */
    }
    await cleanUp(manifest);
    rmSync(manifestFile, { force: true });
    process.stderr.write(`bench:sidecar watchdog: cleaned up after process ${benchPid}\n`);
  }
  process.exit(0);
}, 250);
