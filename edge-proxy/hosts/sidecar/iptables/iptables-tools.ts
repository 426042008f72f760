/**
 * @module edge-proxy/hosts/sidecar/iptables/iptables-tools
 * What the applier and the cleanup share: which iptables binaries a family and backend use, reading the
 * current nat table with iptables-save, and running an iptables-restore transaction.
 */
import { CaptureError } from "./capture-error.js";
import { ISTIO_CHAINS } from "./capture-plan.js";
import type { IpFamily } from "./cidr.js";
import type { RunCommand } from "./run-command.js";

/**
 * `default`: the distribution's `iptables-restore` (on Debian/Ubuntu the nf_tables-backed one);
 * `nft` / `legacy`: that variant explicitly (`iptables-nft-restore`, `iptables-legacy-restore`).
 */
export type IptablesBackend = "default" | "nft" | "legacy";

export const IPTABLES_BACKENDS: readonly IptablesBackend[] = ["default", "nft", "legacy"];

export interface IptablesTools {
  save: string;
  restore: string;
}

/** The save/restore binaries for `family` and `backend`. */
export function iptablesTools(family: IpFamily, backend: IptablesBackend): IptablesTools {
  const base = family === "v4" ? "iptables" : "ip6tables";
  const variant = backend === "default" ? base : `${base}-${backend}`;
  return { save: `${variant}-save`, restore: `${variant}-restore` };
}

/** The nat table as iptables-save shows it: the chain names and the `-A` rule lines. */
export interface NatState {
  chains: Set<string>;
  rules: string[];
}

/** Reads table nat with `iptables-save -t nat`; throws `ERR_IPTABLES_FAILED` if that fails. */
export async function readNat(run: RunCommand, tools: IptablesTools): Promise<NatState> {
  const result = await run(tools.save, ["-t", "nat"]);
  if (result.code !== 0) throw iptablesFailed(`${tools.save} -t nat`, result.code, result.stderr);
  const chains = new Set<string>();
  const rules: string[] = [];
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith(":")) chains.add(line.slice(1).split(" ")[0] ?? "");
    else if (line.startsWith("-A ")) rules.push(line.trim());
  }
  return { chains, rules };
}

/** The chain a saved `-A CHAIN ...` line is on. */
export function ruleChain(line: string): string {
  return line.split(" ")[1] ?? "";
}

/** Whether a saved rule on some other chain jumps (`-j`) or goes (`-g`) to one of Weft's chains. */
export function isReferenceToIstioChain(line: string): boolean {
  if ((ISTIO_CHAINS as readonly string[]).includes(ruleChain(line))) return false;
  const target = / -[jg] (\S+)/.exec(line)?.[1];
  return target !== undefined && (ISTIO_CHAINS as readonly string[]).includes(target);
}

/** Applies `text` as one transaction with `iptables-restore --noflush` (waiting for the xtables lock). */
export async function restoreNat(run: RunCommand, tools: IptablesTools, text: string): Promise<void> {
  const result = await run(tools.restore, ["-w", "--noflush"], text);
  if (result.code !== 0) throw iptablesFailed(`${tools.restore} --noflush`, result.code, result.stderr, text);
}

function iptablesFailed(command: string, code: number, stderr: string, input?: string): CaptureError {
  const detail = stderr.trim() || "(no output)";
  const hint = /permission denied|not permitted/i.test(detail) ? " (weft-iptables must run as root or with CAP_NET_ADMIN and CAP_NET_RAW)" : "";
  const shown = input === undefined ? "" : `\ninput was:\n${input}`;
  return new CaptureError("ERR_IPTABLES_FAILED", `${command} failed with exit code ${code}: ${detail}${hint}${shown}`);
}
