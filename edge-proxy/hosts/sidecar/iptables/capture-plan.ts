/**
 * @module edge-proxy/hosts/sidecar/iptables/capture-plan
 * The nat rules of Istio's REDIRECT-mode capture for one IP family, in istio-iptables' emission order
 * (tools/istio-iptables/pkg/capture/run.go): which ISTIO_* chains exist, what each holds, and the two
 * jumps into them from the built-in PREROUTING and OUTPUT chains.
 */
import type { CaptureOptions } from "./capture-options.js";
import type { IpFamily } from "./cidr.js";

/** The chains Weft owns in table nat, in the order they are created. */
export const ISTIO_CHAINS = ["ISTIO_INBOUND", "ISTIO_REDIRECT", "ISTIO_IN_REDIRECT", "ISTIO_OUTPUT"] as const;
export type IstioChain = (typeof ISTIO_CHAINS)[number];

/** One `-A CHAIN ...` rule of table nat. */
export interface NatRule {
  chain: string;
  args: readonly string[];
}

export interface CapturePlan {
  family: IpFamily;
  chains: readonly IstioChain[];
  /** Every rule in append order; the ones on built-in chains are the jumps. */
  rules: readonly NatRule[];
}

/** Family-specific addresses: Envoy's passthrough source and the host loopback. */
const ADDRESSES = {
  v4: { passthrough: "127.0.0.6/32", loopback: "127.0.0.1/32" },
  v6: { passthrough: "::6/128", loopback: "::1/128" },
} as const;

/** Whether `rule` sits on a built-in chain (PREROUTING, OUTPUT), i.e. is a jump into Weft's chains. */
export function isJump(rule: NatRule): boolean {
  return !(ISTIO_CHAINS as readonly string[]).includes(rule.chain);
}

/** `-A CHAIN args...`, the rule as an iptables-restore line. */
export function ruleLine(rule: NatRule): string {
  return ["-A", rule.chain, ...rule.args].join(" ");
}

/** The capture rules for `family`. */
export function planCapture(options: CaptureOptions, family: IpFamily): CapturePlan {
  const { passthrough, loopback } = ADDRESSES[family];
  const tunnel = String(options.inboundTunnelPort);
  const rules: NatRule[] = [];
  const add = (chain: string, ...args: string[]): void => void rules.push({ chain, args });

  add("ISTIO_INBOUND", "-p", "tcp", "--dport", tunnel, "-j", "RETURN");
  add("ISTIO_REDIRECT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(options.outboundPort));
  add("ISTIO_IN_REDIRECT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(options.inboundPort));

  // Inbound: nothing is captured when the include list is empty.
  const inbound = options.inboundPortsInclude;
  if (inbound === "*" || inbound.length > 0) {
    add("PREROUTING", "-p", "tcp", "-j", "ISTIO_INBOUND");
    if (inbound === "*") {
      for (const port of options.inboundPortsExclude) add("ISTIO_INBOUND", "-p", "tcp", "--dport", String(port), "-j", "RETURN");
      add("ISTIO_INBOUND", "-p", "tcp", "-j", "ISTIO_IN_REDIRECT");
    } else {
      for (const port of inbound) add("ISTIO_INBOUND", "-p", "tcp", "--dport", String(port), "-j", "ISTIO_IN_REDIRECT");
    }
  }

  add("OUTPUT", "-j", "ISTIO_OUTPUT");
  // Port exclusions first, so they win over the loopback re-redirect below.
  for (const port of options.outboundPortsExclude) {
    add("ISTIO_OUTPUT", "-p", "tcp", "--dport", String(port), "-j", "RETURN");
    add("ISTIO_OUTPUT", "-p", "udp", "--dport", String(port), "-j", "RETURN");
  }
  // Envoy's inbound passthrough connects to the app from 127.0.0.6 (::6): leave it alone.
  add("ISTIO_OUTPUT", "-o", "lo", "-s", passthrough, "-j", "RETURN");

  const include = options.outboundCidrsInclude;
  const includesLoopback = include !== "*" && include.some((cidr) => cidr.loopback);
  for (const [owner, ids] of [["--uid-owner", options.proxyUids], ["--gid-owner", options.proxyGids]] as const) {
    for (const id of ids.map(String)) {
      // Proxy -> own pod IP over lo (app -> VIP -> outbound proxy -> self): back into the inbound listener.
      add("ISTIO_OUTPUT", "-o", "lo", "!", "-d", loopback, "-p", "tcp", "!", "--dport", tunnel, "-m", "owner", owner, id, "-j", "ISTIO_IN_REDIRECT");
      // App -> itself over lo is not captured (unless the include list names a loopback range).
      if (!includesLoopback) add("ISTIO_OUTPUT", "-o", "lo", "-m", "owner", "!", owner, id, "-j", "RETURN");
      // The proxy's own egress never loops back into the proxy.
      add("ISTIO_OUTPUT", "-m", "owner", owner, id, "-j", "RETURN");
    }
  }

  add("ISTIO_OUTPUT", "-d", loopback, "-j", "RETURN");
  for (const cidr of options.outboundCidrsExclude) if (cidr.family === family) add("ISTIO_OUTPUT", "-d", cidr.text, "-j", "RETURN");
  for (const port of options.outboundPortsInclude) add("ISTIO_OUTPUT", "-p", "tcp", "--dport", String(port), "-j", "ISTIO_REDIRECT");
  if (include === "*") {
    add("ISTIO_OUTPUT", "-j", "ISTIO_REDIRECT");
  } else {
    for (const cidr of include) if (cidr.family === family) add("ISTIO_OUTPUT", "-d", cidr.text, "-j", "ISTIO_REDIRECT");
  }

  return { family, chains: ISTIO_CHAINS, rules };
}
