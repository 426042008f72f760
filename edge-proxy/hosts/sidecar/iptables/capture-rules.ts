/**
 * @module edge-proxy/hosts/sidecar/iptables/capture-rules
 * The capture rule set as iptables-restore input, one text per IP family: what `weft-iptables --dry-run`
 * prints, and exactly what the applier feeds `iptables-restore --noflush` on a Pod with no rules yet.
 */
import { planCapture, ruleLine, type CapturePlan } from "./capture-plan.js";
import type { CaptureOptions } from "./capture-options.js";

export interface CaptureRuleText {
  /** For `iptables-restore --noflush`. */
  v4: string;
  /** For `ip6tables-restore --noflush`; only when `options.ipv6`. */
  v6?: string;
}

/** The rules `options` ask for, in iptables-restore format. */
export function captureRules(options: CaptureOptions): CaptureRuleText {
  const v4 = renderRestore(planCapture(options, "v4"));
  return options.ipv6 ? { v4, v6: renderRestore(planCapture(options, "v6")) } : { v4 };
}

/**
 * `*nat`, one `:CHAIN - [0:0]` per chain, the rules, `COMMIT`. Declaring a chain this way creates it, or
 * empties it if it exists (with --noflush), so applying twice leaves one copy of each chain rule.
 */
export function renderRestore(plan: CapturePlan): string {
  return restoreText(plan.chains, plan.rules.map(ruleLine));
}

/** An iptables-restore transaction on table nat: declares `chains`, then runs `lines` in order. */
export function restoreText(chains: readonly string[], lines: readonly string[]): string {
  return `${["*nat", ...chains.map((chain) => `:${chain} - [0:0]`), ...lines, "COMMIT"].join("\n")}\n`;
}
