/**
 * @module test/e2e/support/host-base-image
 * Assembles the base images the image test builds deploy/sidecar/Containerfile on, from this host's own
 * files, with no registry (buildah from scratch or the runtime base → buildah add of a tar → commit):
 *
 * - `localhost/weft-test/node:20` — the runtime base, the stand-in for node:20-slim: the host's node
 *   binary, exactly the shared libraries `ldd` lists for it plus the dynamic loader, the merged-/usr
 *   top-level links, /etc/passwd and /etc/group with root and 1337 (weft), /tmp. No shell, no coreutils.
 * - `localhost/weft-test/node-netfilter:20` — the runtime base plus Debian's iptables (nf_tables
 *   backend, with its xtables extensions) and `ip`: what the Containerfile's CAPTURE_TOOLS=apt adds to
 *   node:20-slim, so the test can run the init container's `weft-iptables` for real.
 * - `localhost/weft-test/node-builder:20` — the builder base, the stand-in for node:20: node and npm
 *   (with the node-gyp npm ships), Debian's python3, make, the gcc/g++ toolchain (drivers, cc1, cc1plus,
 *   collect2, as, ld, gcc's own headers and crt/libgcc files, the libc/libstdc++/kernel dev headers and
 *   link files from their Debian packages, /usr/include/node), /bin/sh and the few commands npm scripts
 *   and gyp's Makefiles run; every ELF file's `ldd` libraries.
 *
 * Never the whole /usr: files are picked one by one, symlink chains kept (`/lib -> usr/lib`,
 * `/usr/bin/cc -> /etc/alternatives/cc -> /usr/bin/gcc`). Each image carries a label with the hash of
 * its recipe (every picked path with its type, mode, size and mtime, and the generated files), and is
 * reused while that hash is unchanged; a replaced image is removed. Debian/Ubuntu hosts (dpkg names the
 * dev files).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, realpathSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { buildah, imageExists, imageId, imageLabel, imageSize, mustRun, PROXY_UID } from "./container.js";

export const RUNTIME_BASE = "localhost/weft-test/node:20";
/**
 * The runtime base plus iptables (nft) and ip: the stand-in for what the Containerfile's
 * CAPTURE_TOOLS=apt stage makes of node:20-slim, so the test can run `weft-iptables` for real.
 */
export const NETFILTER_BASE = "localhost/weft-test/node-netfilter:20";
export const BUILDER_BASE = "localhost/weft-test/node-builder:20";
/** Where the builder base's node headers are (`--build-arg NODEDIR`): Debian-style, under /usr. */
export const BUILDER_NODEDIR = "/usr";

const RECIPE_LABEL = "io.weft.test.recipe";
/** Bump when the assembly logic changes in a way the file list does not show. */
const RECIPE_VERSION = "4";
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What ensureBaseImages did, for the test's report. */
export interface BaseImageReport {
  image: string;
  reused: boolean;
  seconds: number;
  bytes: number;
  files: number;
}

/** Builds (or reuses) the three bases; resolves with what was done and how long it took. */
export async function ensureBaseImages(): Promise<BaseImageReport[]> {
  const superseded: string[] = [];
  const runtime = runtimeRecipe();
  const reports = [await ensureImage(RUNTIME_BASE, runtime, superseded)];
  reports.push(await ensureImage(NETFILTER_BASE, netfilterRecipe(), superseded, { image: RUNTIME_BASE, recipe: runtime }));
  reports.push(await ensureImage(BUILDER_BASE, builderRecipe(), superseded));
  // Replaced images are untagged now (vfs keeps each as a full copy): remove them, children first.
  for (const id of superseded.reverse()) await buildah(["rmi", id]).catch(() => undefined);
  return reports;
}

// ---------------------------------------------------------------------------------------------------
// Recipes: host paths to copy (with their symlink chains) and generated files.

interface Recipe {
  /** Host paths, each with every symlink on the way to it. */
  paths: Set<string>;
  /** Generated files: path in the image → content and mode. */
  generated: Map<string, { content: string; mode: number }>;
  /** Generated empty directories: path → mode. */
  dirs: Map<string, number>;
  config: string[];
}

const PASSWD = `root:x:0:0:root:/root:/bin/sh\nweft:x:${PROXY_UID}:${PROXY_UID}:weft proxy:/nonexistent:/usr/sbin/nologin\n`;
const GROUP = `root:x:0:\nweft:x:${PROXY_UID}:\n`;

function baseRecipe(): Recipe {
  // A merged-/usr host's top-level links (/bin -> usr/bin …), so /bin/sh and /lib64/ld-linux… resolve.
  const paths = new Set<string>();
  for (const top of ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]) {
    if (existsSync(top) && lstatSync(top).isSymbolicLink()) addChain(paths, top);
  }
  return {
    paths,
    generated: new Map([
      ["/etc/passwd", { content: PASSWD, mode: 0o644 }],
      ["/etc/group", { content: GROUP, mode: 0o644 }],
    ]),
    dirs: new Map([
      ["/tmp", 0o1777],
      ["/root", 0o700],
      ["/usr/local/bin", 0o755],
    ]),
    config: ["--env", PATH_ENV, "--workingdir", "/", "--user", "0:0", "--cmd", '["node"]'],
  };
}

function runtimeRecipe(): Recipe {
  const recipe = baseRecipe();
  addWithLibraries(recipe.paths, "/usr/bin/node");
  return recipe;
}

function netfilterRecipe(): Recipe {
  const recipe: Recipe = { paths: new Set(), generated: new Map(), dirs: new Map(), config: [] };
  const add = (path: string) => addWithLibraries(recipe.paths, path);
  // iptables-restore -> /etc/alternatives/iptables-restore -> iptables-nft-restore -> xtables-nft-multi.
  for (const family of ["iptables", "ip6tables"]) {
    for (const tool of ["", "-save", "-restore"]) {
      add(`/usr/sbin/${family}${tool}`);
      add(`/usr/sbin/${family}-nft${tool}`);
    }
  }
  const triplet = execText("/usr/bin/gcc", ["-dumpmachine"]).trim();
  addTree(recipe.paths, `/usr/lib/${triplet}/xtables`);
  add("/usr/bin/ip");
  return recipe;
}

function builderRecipe(): Recipe {
  const recipe = baseRecipe();
  const add = (path: string) => addWithLibraries(recipe.paths, path);
  recipe.config.push("--env", "HOME=/root", "--env", "npm_config_update_notifier=false", "--env", "npm_config_fund=false", "--env", "npm_config_audit=false");

  // node, npm (with node-gyp) and node's headers.
  add("/usr/bin/node");
  add("/usr/bin/npm");
  addTree(recipe.paths, "/usr/lib/node_modules/npm");
  // node's headers, but of the bundled OpenSSL's per-platform configs only this platform's (50 MB less).
  const opensslArch = `linux-${process.arch === "arm64" ? "aarch64" : process.arch === "x64" ? "x86_64" : process.arch}`;
  addTree(recipe.paths, "/usr/include/node", (name, full) => !/\/openssl\/archs\/[^/]+$/.test(full) || name.startsWith(opensslArch));

  // Debian's python3 (gyp), without the test suite, GUI and dev leftovers.
  add("/usr/bin/python3");
  const python = realPath("/usr/bin/python3");
  const pythonLib = `/usr/lib/${posix.basename(python)}`;
  const skip = new Set(["test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "__pycache__", "unittest", "site-packages", "dist-packages"]);
  addTree(recipe.paths, pythonLib, (name, full) => !skip.has(name) && !full.includes("/config-3"));
  for (const file of [...recipe.paths]) if (file.startsWith(`${pythonLib}/lib-dynload/`) && file.endsWith(".so")) add(file);

  // The shell and the commands npm scripts and gyp's Makefiles run.
  for (const tool of ["sh", "env", "rm", "mkdir", "cp", "ln", "touch", "mv", "cat", "sed", "flock", "dirname", "basename", "chmod", "uname", "ls", "true", "printf", "echo", "test", "grep", "make"]) {
    add(`/bin/${tool}`);
  }

  // The C/C++ toolchain: drivers, binutils, gcc's private programs, headers and link files.
  for (const tool of ["gcc", "g++", "cc", "c++", "cpp", "as", "ld"]) add(`/usr/bin/${tool}`);
  const gccVersion = execText("/usr/bin/gcc", ["-dumpversion"]).trim();
  const triplet = execText("/usr/bin/gcc", ["-dumpmachine"]).trim();
  const gccLib = `/usr/lib/gcc/${triplet}/${gccVersion}`;
  for (const name of readdirSync(gccLib)) {
    const keep =
      ["cc1", "cc1plus", "collect2", "lto-wrapper", "liblto_plugin.so", "libgcc.a", "libgcc_eh.a", "libgcc_s.so", "libstdc++.so", "libsupc++.a"].includes(name) ||
      /^crt.*\.o$/.test(name);
    if (keep) add(`${gccLib}/${name}`);
  }
  addTree(recipe.paths, `${gccLib}/include`);
  if (existsSync(`/usr/libexec/gcc/${triplet}/${gccVersion}`)) addTree(recipe.paths, `/usr/libexec/gcc/${triplet}/${gccVersion}`);

  // Headers and link files of libc, the kernel API, libstdc++ (from their Debian packages).
  const libDir = `/usr/lib/${triplet}`;
  for (const pkg of ["libc6-dev", "linux-libc-dev", `libstdc++-${gccVersion}-dev`, "libcrypt-dev"]) {
    for (const file of packageFiles(pkg)) {
      if (file.startsWith("/usr/include/")) addChain(recipe.paths, file);
      else if (file.startsWith(`${libDir}/`) || file.startsWith(`${gccLib}/`)) {
        const name = posix.basename(file);
        const small = lstatSync(file).size < 64 * 1024;
        if (name.endsWith(".o") || name.endsWith(".so")) addLinkFile(recipe.paths, file);
        else if (name === "libc_nonshared.a" || (name.endsWith(".a") && small)) addChain(recipe.paths, file);
      }
    }
  }
  return recipe;
}

// ---------------------------------------------------------------------------------------------------
// Path collection.

function execText(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr || result.error?.message}`);
  return result.stdout as string;
}

function realPath(path: string): string {
  return realpathSync(path);
}

/**
 * Adds `path` and every symlink met on the way to it (in any directory component, or the path itself,
 * following chains); the final non-symlink path is added too.
 */
function addChain(paths: Set<string>, path: string, depth = 0): string {
  if (depth > 40) throw new Error(`symlink loop at ${path}`);
  const parts = path.split("/").filter(Boolean);
  let current = "";
  for (let i = 0; i < parts.length; i++) {
    const next = `${current}/${parts[i]}`;
    let st;
    try {
      st = lstatSync(next);
    } catch {
      throw new Error(`host-base-image: ${next} (for ${path}) does not exist on this host`);
    }
    if (st.isSymbolicLink()) {
      paths.add(next);
      const target = readlinkSync(next);
      const resolved = posix.normalize(target.startsWith("/") ? target : `${current || "/"}/${target}`);
      const rest = parts.slice(i + 1).join("/");
      return addChain(paths, rest ? `${resolved}/${rest}` : resolved, depth + 1);
    }
    current = next;
  }
  paths.add(current);
  return current;
}

/** Adds a file and, if it is ELF, every library `ldd` lists for it (with their chains). */
function addWithLibraries(paths: Set<string>, path: string): void {
  const real = addChain(paths, path);
  if (!isElf(real)) return;
  for (const library of lddLibraries(real)) addChain(paths, library);
}

const lddCache = new Map<string, string[]>();
function lddLibraries(file: string): string[] {
  let libs = lddCache.get(file);
  if (libs) return libs;
  const result = spawnSync("ldd", [file], { encoding: "utf8" });
  libs = [];
  if (result.status === 0) {
    for (const line of result.stdout.split("\n")) {
      const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (match) libs.push(match[1]!);
      else if (/=>\s*not found/.test(line)) throw new Error(`host-base-image: ldd ${file}: ${line.trim()}`);
    }
  }
  lddCache.set(file, libs);
  return libs;
}

function isElf(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(4);
    return readSync(fd, buf, 0, 4, 0) === 4 && buf.toString("latin1") === "\x7fELF";
  } finally {
    closeSync(fd);
  }
}

/** Adds a directory tree: every file, symlink and directory under it (keep filters by name). */
function addTree(paths: Set<string>, root: string, keep: (name: string, full: string) => boolean = () => true): void {
  const top = addChain(paths, root);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = `${dir}/${entry.name}`;
      if (!keep(entry.name, full)) continue;
      paths.add(full);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && /\.so(\.|$)/.test(entry.name) && isElf(full)) for (const lib of lddLibraries(full)) addChain(paths, lib);
    }
  };
  walk(top);
}

/** A link-time file: follows symlinks, and a GNU ld script's absolute paths (libc.so, libm.so). */
function addLinkFile(paths: Set<string>, file: string): void {
  const real = addChain(paths, file);
  if (statSync(real).size > 4096 || isElf(real)) return;
  const text = readFileSync(real, "utf8");
  if (!/GNU ld script|GROUP\s*\(|INPUT\s*\(/.test(text)) return;
  for (const match of text.matchAll(/(\/[^\s()]+)/g)) if (existsSync(match[1]!)) addChain(paths, match[1]!);
}

function packageFiles(pkg: string): string[] {
  const out = execText("dpkg", ["-L", pkg]);
  return out
    .split("\n")
    .filter((f) => f.startsWith("/") && !f.startsWith("/usr/share/"))
    .filter((f) => {
      try {
        return !lstatSync(f).isDirectory();
      } catch {
        return false;
      }
    });
}

// ---------------------------------------------------------------------------------------------------
// Assembly.

function recipeHash(image: string, recipe: Recipe, sorted: string[]): string {
  const hash = createHash("sha256");
  hash.update(`${RECIPE_VERSION}\n${image}\n${recipe.config.join(" ")}\n`);
  for (const path of sorted) {
    const st = lstatSync(path);
    const link = st.isSymbolicLink() ? readlinkSync(path) : "";
    hash.update(`${path}\t${st.mode}\t${st.isDirectory() ? 0 : st.size}\t${st.isDirectory() ? 0 : Math.trunc(st.mtimeMs)}\t${link}\n`);
  }
  for (const [path, file] of [...recipe.generated].sort()) hash.update(`gen ${path} ${file.mode} ${file.content}\n`);
  for (const [path, mode] of [...recipe.dirs].sort()) hash.update(`dir ${path} ${mode}\n`);
  return hash.digest("hex").slice(0, 32);
}

async function ensureImage(image: string, recipe: Recipe, superseded: string[], parent?: { image: string; recipe: Recipe }): Promise<BaseImageReport> {
  const started = performance.now();
  const sorted = [...recipe.paths].sort();
  let hash = recipeHash(image, recipe, sorted);
  if (parent) hash = createHash("sha256").update(`${hash}\n${recipeHash(parent.image, parent.recipe, [...parent.recipe.paths].sort())}`).digest("hex").slice(0, 32);
  if ((await imageExists(image)) && (await imageLabel(image, RECIPE_LABEL)) === hash) {
    return { image, reused: true, seconds: (performance.now() - started) / 1000, bytes: await imageSize(image), files: sorted.length };
  }

  const work = mkdtempSync(join(tmpdir(), "weft-base-"));
  let container: string | undefined;
  try {
    // Host files, as they are (owner, mode, symlinks), parents listed before children.
    const list = join(work, "host-files");
    writeFileSync(list, `${sorted.map((p) => p.slice(1)).join("\n")}\n`);
    const hostTar = join(work, "host.tar");
    await mustRun("tar", ["-C", "/", "--no-recursion", "--numeric-owner", "-cf", hostTar, "-T", list]);

    // Generated files in a staging tree, owned by root.
    const stage = join(work, "stage");
    mkdirSync(stage);
    for (const [path, mode] of recipe.dirs) {
      mkdirSync(join(stage, path), { recursive: true });
      chmodSync(join(stage, path), mode);
    }
    for (const [path, file] of recipe.generated) {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      writeFileSync(join(stage, path), file.content);
      chmodSync(join(stage, path), file.mode);
    }
    const stageTar = join(work, "stage.tar");
    await mustRun("tar", ["-C", stage, "--owner=0", "--group=0", "--numeric-owner", "-cf", stageTar, "."]);

    const previous = (await imageExists(image)) ? await imageId(image) : "";
    container = (await buildah(["from", "--quiet", "--pull=never", parent?.image ?? "scratch"])).trim();
    await buildah(["add", container, hostTar, "/"]);
    if (recipe.generated.size + recipe.dirs.size > 0) await buildah(["add", container, stageTar, "/"]);
    await buildah(["config", ...recipe.config, "--label", `${RECIPE_LABEL}=${hash}`, container]);
    await buildah(["commit", "--quiet", "--rm", container, image]);
    container = undefined;
    if (previous !== "") superseded.push(previous);
  } finally {
    if (container) await buildah(["rm", container]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  return { image, reused: false, seconds: (performance.now() - started) / 1000, bytes: await imageSize(image), files: sorted.length };
}
