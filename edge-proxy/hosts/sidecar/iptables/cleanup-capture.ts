/**
 * @module edge-proxy/hosts/sidecar/iptables/cleanup-capture
 * Removes the capture rules: per IP family one iptables-restore transaction that deletes every jump into
 * the ISTIO_* chains, then flushes and deletes the chains. Whatever is already absent is skipped, so
 * cleaning up twice (or a Pod that never had rules) is not an error.
 */
import { ISTIO_CHAINS } from "./capture-plan.js";
import { restoreText } from "./capture-rules.js";
import type { IpFamily } from "./cidr.js";
import { iptablesTools, isReferenceToIstioChain, readNat, restoreNat, type IptablesBackend } from "./iptables-tools.js";
import type { RunCommand } from "./run-command.js";

export interface CleanupCaptureReport {
  family: IpFamily;
  jumpsDeleted: number;
  chainsDeleted: string[];
  /** Set when the family was skipped because its tools could not read the nat table (IPv6 off). */
  skipped?: string;
}

export interface CleanupCaptureOptions {
  run: RunCommand;
  backend?: IptablesBackend;
  /** `true`: IPv6 too, failing if ip6tables fails; `"if-available"`: IPv6 too when ip6tables works. */
  ipv6: boolean | "if-available";
}

/** Deletes the jumps and the ISTIO_* chains of table nat. */
export async function cleanupCapture({ run, backend = "default", ipv6 }: CleanupCaptureOptions): Promise<CleanupCaptureReport[]> {
  const families: IpFamily[] = ipv6 === false ? ["v4"] : ["v4", "v6"];
  const reports: CleanupCaptureReport[] = [];
  for (const family of families) {
    const tools = iptablesTools(family, backend);
    let current;
    try {
      current = await readNat(run, tools);
    } catch (err) {
      if (family !== "v6" || ipv6 !== "if-available") throw err;
      reports.push({ family, jumpsDeleted: 0, chainsDeleted: [], skipped: (err as Error).message.split("\n")[0] ?? "" });
      continue;
    }
    const jumps = current.rules.filter(isReferenceToIstioChain);
    const chains = ISTIO_CHAINS.filter((chain) => current.chains.has(chain));
    if (jumps.length > 0 || chains.length > 0) {
      // Flush all before deleting any: ISTIO_INBOUND and ISTIO_OUTPUT refer to the redirect chains.
      const lines = [...jumps.map((line) => `-D${line.slice(2)}`), ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`)];
      await restoreNat(run, tools, restoreText([], lines));
    }
    reports.push({ family, jumpsDeleted: jumps.length, chainsDeleted: chains });
  }
  return reports;
}
