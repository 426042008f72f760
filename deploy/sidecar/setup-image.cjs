// Run by deploy/sidecar/Containerfile's final stage with the image's own node (exec-form RUN: the base
// may have no shell), in two steps:
//   capture-tools  CAPTURE_TOOLS=apt (the default): apt-get install iptables + iproute2, what
//                  `weft-iptables` runs (the official node images have neither); none: the base has them.
//   layout         writes the `weft` and `weft-iptables` executables, adds the proxy's user and group
//                  (1337) if the base lacks them, makes the directories the proxy writes to (volumes: the
//                  root filesystem is read-only at run time), then deletes this script.
"use strict";
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");

const HOME = "/opt/weft";
const UID = 1337;
const GID = 1337;

const step = process.argv[2];
if (step === "capture-tools") captureTools(process.env.CAPTURE_TOOLS || "apt");
else if (step === "layout") layout();
else throw new Error(`setup-image.cjs: unknown step ${JSON.stringify(step)} (capture-tools or layout)`);

function captureTools(mode) {
  if (mode === "none") {
    const path = (process.env.PATH || "").split(":");
    if (!path.some((dir) => fs.existsSync(`${dir}/iptables-restore`))) {
      console.warn("setup-image: CAPTURE_TOOLS=none and no iptables-restore on PATH: `weft-iptables` will only work with --dry-run");
    }
    return;
  }
  if (mode !== "apt") throw new Error(`setup-image.cjs: CAPTURE_TOOLS must be apt or none, not ${JSON.stringify(mode)}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const path = (process.env.PATH || "").split(":");
  if (!path.some((dir) => fs.existsSync(`${dir}/apt-get`))) {
    throw new Error(
      "setup-image.cjs: CAPTURE_TOOLS=apt needs a Debian-based BASE with apt-get (such as node:20-slim); for a base that " +
        "already has iptables and ip, or an image only used for `weft-iptables --dry-run`, pass --build-arg CAPTURE_TOOLS=none",
    );
  }
  execFileSync("apt-get", ["update"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "iptables", "iproute2"], { stdio: "inherit", env });
  for (const dir of ["/var/lib/apt/lists", "/var/cache/apt/archives"]) {
    for (const entry of fs.readdirSync(dir)) if (entry !== "partial" && entry !== "lock") fs.rmSync(`${dir}/${entry}`, { recursive: true, force: true });
  }
  for (const file of ["/var/log/apt", "/var/log/dpkg.log", "/var/cache/debconf/templates.dat-old"]) fs.rmSync(file, { recursive: true, force: true });
}

function layout() {
  // Executables: a two-line CommonJS shim per command, whose `#!` names this image's node by absolute
  // path (/usr/local/bin/node in the official images, /usr/bin/node in a Debian-style one), so neither
  // /usr/bin/env nor /bin/sh is needed. It imports the bundle, which reads process.argv itself.
  fs.mkdirSync(`${HOME}/bin`, { recursive: true, mode: 0o755 });
  for (const [name, entry] of [
    ["weft", "weft.mjs"],
    ["weft-iptables", "weft-iptables.mjs"],
  ]) {
    if (!fs.existsSync(`${HOME}/${entry}`)) throw new Error(`${HOME}/${entry} is missing: run \`npm run build:sidecar\` before building the image`);
    const shim = `#!${process.execPath}\nimport(${JSON.stringify(`${HOME}/${entry}`)});\n`;
    fs.writeFileSync(`${HOME}/bin/${name}`, shim, { mode: 0o755 });
    fs.chmodSync(`${HOME}/bin/${name}`, 0o755);
  }

  // uid/gid 1337 with a name (os.userInfo() and `id` need one); node:20-slim only has `node` (1000).
  const hasId = (file, id) =>
    fs.existsSync(file) &&
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .some((line) => line.split(":")[2] === String(id));
  if (!hasId("/etc/group", GID)) fs.appendFileSync("/etc/group", `weft:x:${GID}:\n`);
  if (!hasId("/etc/passwd", UID)) fs.appendFileSync("/etc/passwd", `weft:x:${UID}:${GID}:weft proxy:/nonexistent:/usr/sbin/nologin\n`);

  // What the proxy writes (Kubernetes mounts emptyDirs over the first two; /tmp gets a volume too).
  for (const dir of ["/var/lib/istio/data", "/etc/istio/proxy"]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chownSync(dir, UID, GID);
    fs.chmodSync(dir, 0o755);
  }
  fs.mkdirSync("/tmp", { recursive: true });
  fs.chmodSync("/tmp", 0o1777);

  // The bundle is root's and read-only to everyone else.
  for (const entry of fs.readdirSync(HOME, { recursive: true })) {
    const path = `${HOME}/${entry}`;
    const isDir = fs.statSync(path).isDirectory();
    fs.chownSync(path, 0, 0);
    if (!path.startsWith(`${HOME}/bin/`)) fs.chmodSync(path, isDir ? 0o755 : path.endsWith(".node") ? 0o755 : 0o644);
  }

  fs.rmSync(__filename);
}
