/**
 * @module edge-proxy/hosts/sidecar/iptables/apply-capture
 * Installs the capture rules, idempotently: per IP family one `iptables-restore --noflush` transaction
 * that re-declares (creates or empties) the four ISTIO_* chains and refills them, and adds a jump from
 * PREROUTING / OUTPUT only where iptables-save shows none yet. Extra or stale jumps into the chains (a
 * second copy, one left by other options) are deleted in the same transaction.
 */
import { CaptureError } from "./capture-error.js";
import { planCapture, isJump, ruleLine } from "./capture-plan.js";
import type { CaptureOptions } from "./capture-options.js";
import { restoreText } from "./capture-rules.js";
import type { IpFamily } from "./cidr.js";
import { iptablesTools, isReferenceToIstioChain, readNat, restoreNat, type IptablesBackend } from "./iptables-tools.js";
import type { RunCommand } from "./run-command.js";

export interface ApplyCaptureReport {
  family: IpFamily;
  /** Rules written into the ISTIO_* chains. */
  chainRules: number;
  jumpsAdded: number;
  /** Jumps that were already there, left in place. */
  jumpsKept: number;
  /** Duplicate or stale jumps into the ISTIO_* chains that were deleted. */
  jumpsDeleted: number;
}

export interface ApplyCaptureOptions {
  run: RunCommand;
  backend?: IptablesBackend;
}

/** Installs the rules `options` ask for (IPv4, and IPv6 when `options.ipv6`). */
export async function applyCapture(options: CaptureOptions, { run, backend = "default" }: ApplyCaptureOptions): Promise<ApplyCaptureReport[]> {
  const families: IpFamily[] = options.ipv6 ? ["v4", "v6"] : ["v4"];
  const reports: ApplyCaptureReport[] = [];
  for (const family of families) {
    const plan = planCapture(options, family);
    const tools = iptablesTools(family, backend);
    const current = await readNat(run, tools);

    // Keep the first saved copy of each planned jump; delete every other reference into our chains.
    const references = current.rules.filter(isReferenceToIstioChain);
    const kept = new Set<string>();
    const deletions: string[] = [];
    for (const line of references) {
      const planned = plan.rules.some((rule) => isJump(rule) && ruleLine(rule) === line);
      if (planned && !kept.has(line)) kept.add(line);
      else deletions.push(`-D${line.slice(2)}`);
    }
    const rules = plan.rules.filter((rule) => !(isJump(rule) && kept.has(ruleLine(rule))));
    // Deletions go first, so a stale jump is gone before the chains it targets change.
    await restoreNat(run, tools, restoreText(plan.chains, [...deletions, ...rules.map(ruleLine)]));

    // Envoy's passthrough binds ::6, which unlike 127.0.0.6 is not local until added to lo.
    if (family === "v6") await addPassthroughAddress(run);

    const jumps = plan.rules.filter(isJump).length;
    reports.push({
      family,
      chainRules: plan.rules.length - jumps,
      jumpsAdded: jumps - kept.size,
      jumpsKept: kept.size,
      jumpsDeleted: deletions.length,
    });
  }
  return reports;
}

async function addPassthroughAddress(run: RunCommand): Promise<void> {
  const result = await run("ip", ["-6", "addr", "replace", "::6/128", "dev", "lo"]);
  if (result.code !== 0) {
    throw new CaptureError("ERR_IPTABLES_FAILED", `ip -6 addr replace ::6/128 dev lo failed with exit code ${result.code}: ${result.stderr.trim()}`);
  }
}
