/**
 * @module hosts/sidecar/traffic/original-destination
 * Where a captured connection was going before iptables REDIRECTed it to a capture listener: loads the
 * SO_ORIGINAL_DST addon (native/original_dst.c) and reads the accepted socket's file descriptor.
 *
 * The addon is looked for, in order: the file named by `WEFT_NATIVE_ADDON` (when set, only there);
 * `original_dst.node` next to the running bundle (the module's own file, its parent directory when it
 * sits in a `chunks/` directory, and the entry script's directory); `native/build/Release/original_dst.node`
 * beside these sources.
 * It is loaded on first use, so importing this module never fails; a missing addon throws an Error
 * naming every place looked at and what to run (`npm run build:native`).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The address and port a connection was sent to, as the kernel's connection tracking recorded it. */
export interface OriginalDestination {
  address: string;
  port: number;
}

interface Addon {
  originalDestination(fd: number): OriginalDestination & { family: 4 | 6 };
}

const ADDON_FILE = "original_dst.node";
let addon: Addon | undefined;

/** The places the addon is looked for, most specific first. */
export function addonCandidates(): string[] {
  const fromEnv = process.env.WEFT_NATIVE_ADDON;
  if (fromEnv !== undefined && fromEnv !== "") return [fromEnv];
  const candidates: string[] = [];
  const here = dirname(fileURLToPath(import.meta.url));
  candidates.push(join(here, ADDON_FILE), join(here, "..", ADDON_FILE));
  const entry = process.argv[1];
  if (entry !== undefined && entry !== "") candidates.push(join(dirname(entry), ADDON_FILE));
  candidates.push(join(here, "..", "native", "build", "Release", ADDON_FILE));
  return [...new Set(candidates)];
}

/** Loads the addon once; throws an Error saying what to run when it is not there or does not load. */
export function loadOriginalDestinationAddon(): Addon {
  if (addon !== undefined) return addon;
  const candidates = addonCandidates();
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) {
    throw new Error(`the SO_ORIGINAL_DST addon (${ADDON_FILE}) is not built: run \`npm run build:native\` (or set WEFT_NATIVE_ADDON). Looked in: ${candidates.join(", ")}`);
  }
  try {
    const loaded = createRequire(import.meta.url)(found) as Partial<Addon>;
    if (typeof loaded.originalDestination !== "function") throw new Error("it exports no originalDestination function");
    addon = loaded as Addon;
    return addon;
  } catch (error) {
    throw new Error(`cannot load the SO_ORIGINAL_DST addon ${found}: ${(error as Error).message}; rebuild it with \`npm run build:native\``, { cause: error });
  }
}

/** The file descriptor under a net.Socket (libuv's TCP handle), when it still has one. */
function socketFd(socket: net.Socket): number | undefined {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/**
 * The original destination of an accepted, REDIRECTed socket. Undefined when the socket has no file
 * descriptor any more (closed) or conntrack has no entry for it (ENOENT: a connection nothing
 * redirected, with connection tracking off). Throws for a missing addon and for other kernel errors.
 * IPv4-mapped IPv6 answers come back as plain IPv4.
 */
export function originalDestination(socket: net.Socket): OriginalDestination | undefined {
  const fd = socketFd(socket);
  if (fd === undefined) return undefined;
  let result: OriginalDestination;
  try {
    result = loadOriginalDestinationAddon().originalDestination(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const address = result.address.startsWith("::ffff:") && result.address.includes(".") ? result.address.slice(7) : result.address;
  return { address, port: result.port };
}
