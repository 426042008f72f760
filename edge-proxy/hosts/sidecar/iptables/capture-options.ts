/**
 * @module edge-proxy/hosts/sidecar/iptables/capture-options
 * What `weft-iptables` captures, and how its istio-iptables-style flags (`-p -z -u -g -b -d -i -x -o -q`)
 * become those options. Every bad value is refused with a `CaptureError` naming the flag and the rule.
 */
import { badFlag } from "./capture-error.js";
import { parseCidr, type Cidr } from "./cidr.js";

export interface CaptureOptions {
  /** `-p`: Envoy-style outbound listener that ISTIO_REDIRECT sends to (15001). */
  outboundPort: number;
  /** `-z`: inbound listener that ISTIO_IN_REDIRECT sends to (15006). */
  inboundPort: number;
  /** `-e`: the tunnel (HBONE) port, never captured inbound nor re-redirected on loopback (15008). */
  inboundTunnelPort: number;
  /** `-u`: the proxy's uid(s); their traffic is never captured outbound (1337). */
  proxyUids: number[];
  /** `-g`: the proxy's gid(s), same role (defaults to the uids). */
  proxyGids: number[];
  /** `-b`: inbound ports captured: `*` for all, a list, or `[]` for no inbound capture. */
  inboundPortsInclude: "*" | number[];
  /** `-d`: inbound ports never captured (only with `-b *`). */
  inboundPortsExclude: number[];
  /** `-i`: outbound destinations captured: `*`, a CIDR list, or `[]` for no outbound capture. */
  outboundCidrsInclude: "*" | Cidr[];
  /** `-x`: outbound destinations never captured. */
  outboundCidrsExclude: Cidr[];
  /** `-o`: outbound TCP/UDP destination ports never captured (they win over everything else). */
  outboundPortsExclude: number[];
  /** `-q`: outbound TCP destination ports always captured (whatever the destination). */
  outboundPortsInclude: number[];
  /** Also produce the ip6tables rule set. */
  ipv6: boolean;
}

/** Istio's defaults, as its injection template passes them. */
export const DEFAULT_CAPTURE_OPTIONS: Readonly<CaptureOptions> = Object.freeze({
  outboundPort: 15001,
  inboundPort: 15006,
  inboundTunnelPort: 15008,
  proxyUids: [1337],
  proxyGids: [1337],
  inboundPortsInclude: "*",
  inboundPortsExclude: [15090, 15021, 15020],
  outboundCidrsInclude: "*",
  outboundCidrsExclude: [],
  outboundPortsExclude: [],
  outboundPortsInclude: [],
  ipv6: false,
});

/** The raw flag values, keyed by istio-iptables' short flag; absent means "the default". */
export interface CaptureFlagValues {
  p?: string | undefined;
  z?: string | undefined;
  e?: string | undefined;
  u?: string | undefined;
  g?: string | undefined;
  m?: string | undefined;
  b?: string | undefined;
  d?: string | undefined;
  i?: string | undefined;
  x?: string | undefined;
  o?: string | undefined;
  q?: string | undefined;
}

/** The options the flags ask for; throws a `CaptureError` naming the first bad flag. */
export function parseCaptureFlags(flags: CaptureFlagValues, ipv6: boolean): CaptureOptions {
  const d = DEFAULT_CAPTURE_OPTIONS;
  const mode = flags.m?.trim();
  if (mode !== undefined && mode !== "REDIRECT") {
    const why = mode === "TPROXY" ? "TPROXY interception is not supported; use REDIRECT" : "the interception mode must be REDIRECT";
    throw badFlag("-m", flags.m ?? "", why);
  }
  const proxyUids = flags.u === undefined ? [...d.proxyUids] : ids("-u", flags.u, "uid");
  return {
    outboundPort: flags.p === undefined ? d.outboundPort : port("-p", flags.p),
    inboundPort: flags.z === undefined ? d.inboundPort : port("-z", flags.z),
    inboundTunnelPort: flags.e === undefined ? d.inboundTunnelPort : port("-e", flags.e),
    proxyUids,
    // As istio-iptables: the gid defaults to the uid.
    proxyGids: flags.g === undefined ? [...proxyUids] : ids("-g", flags.g, "gid"),
    inboundPortsInclude: flags.b === undefined ? d.inboundPortsInclude : portsOrAll("-b", flags.b),
    inboundPortsExclude: flags.d === undefined ? [...d.inboundPortsExclude] : ports("-d", flags.d),
    outboundCidrsInclude: flags.i === undefined ? d.outboundCidrsInclude : cidrsOrAll("-i", flags.i),
    outboundCidrsExclude: flags.x === undefined ? [] : cidrs("-x", flags.x),
    outboundPortsExclude: flags.o === undefined ? [] : ports("-o", flags.o),
    outboundPortsInclude: flags.q === undefined ? [] : ports("-q", flags.q),
    ipv6,
  };
}

const PORT_RULE = "not a port (a whole number from 1 to 65535)";

function items(text: string): string[] {
  return text.trim() === "" ? [] : text.split(",").map((item) => item.trim());
}

function isPort(text: string): boolean {
  return /^[1-9]\d{0,4}$/.test(text) && Number(text) <= 65535;
}

function port(flag: string, text: string): number {
  const trimmed = text.trim();
  if (!isPort(trimmed)) throw badFlag(flag, text, PORT_RULE);
  return Number(trimmed);
}

function ports(flag: string, text: string): number[] {
  return items(text).map((item) => {
    if (item === "*") throw badFlag(flag, text, "* is not allowed here: give a comma-separated list of ports");
    if (!isPort(item)) throw badFlag(flag, text, `${item === "" ? "an empty item" : `"${item}"`} is ${PORT_RULE}`);
    return Number(item);
  });
}

function portsOrAll(flag: string, text: string): "*" | number[] {
  if (text.trim() === "*") return "*";
  if (items(text).includes("*")) throw badFlag(flag, text, "* must be given alone, not in a list");
  return ports(flag, text);
}

function cidrs(flag: string, text: string): Cidr[] {
  return items(text).map((item) => {
    if (item === "*") throw badFlag(flag, text, "* is not allowed here: give a comma-separated list of CIDRs");
    const parsed = item === "" ? "not a CIDR (an empty item)" : parseCidr(item);
    if (typeof parsed === "string") throw badFlag(flag, item === "" ? text : item, parsed);
    return parsed;
  });
}

function cidrsOrAll(flag: string, text: string): "*" | Cidr[] {
  if (text.trim() === "*") return "*";
  if (items(text).includes("*")) throw badFlag(flag, text, "* must be given alone, not in a list");
  return cidrs(flag, text);
}

function ids(flag: string, text: string, what: "uid" | "gid"): number[] {
  const list = items(text);
  if (list.length === 0) throw badFlag(flag, text, `needs a numeric ${what}`);
  return list.map((item) => {
    if (!/^\d{1,10}$/.test(item) || Number(item) > 0xfffffffe) {
      throw badFlag(flag, text, `"${item}" is not a numeric ${what} (a whole number from 0 to 4294967294)`);
    }
    return Number(item);
  });
}
