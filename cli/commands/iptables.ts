/**
 * @module cli/commands/iptables
 * `weft iptables` (also the standalone `weft-iptables` the sidecar's init container runs): installs,
 * prints (`--dry-run`) or removes (`--cleanup`) Istio's REDIRECT-mode capture rules in the current
 * network namespace, with istio-iptables' flags. This is the composition root for capture: it reads the
 * flags and the host's interfaces, and runs iptables through node:child_process.
 */
import { networkInterfaces } from "node:os";
import { applyCapture } from "../../edge-proxy/hosts/sidecar/iptables/apply-capture.js";
import { CaptureError } from "../../edge-proxy/hosts/sidecar/iptables/capture-error.js";
import { DEFAULT_CAPTURE_OPTIONS, parseCaptureFlags, type CaptureFlagValues } from "../../edge-proxy/hosts/sidecar/iptables/capture-options.js";
import { captureRules } from "../../edge-proxy/hosts/sidecar/iptables/capture-rules.js";
import { cleanupCapture } from "../../edge-proxy/hosts/sidecar/iptables/cleanup-capture.js";
import { IPTABLES_BACKENDS, type IptablesBackend } from "../../edge-proxy/hosts/sidecar/iptables/iptables-tools.js";
import { spawnCommand } from "../../edge-proxy/hosts/sidecar/iptables/run-command.js";
import { parseCommandLine, type OptionsConfig } from "../argv.js";
import type { Command, CommandContext } from "../command.js";
import { CliError, UsageError } from "../errors.js";
import { processIo, type CliIo } from "../io.js";

const TOPIC = "iptables";
const d = DEFAULT_CAPTURE_OPTIONS;

/** istio-iptables' flags: the short letter is the one Istio's injector passes; the long names are Istio's. */
const CAPTURE_FLAGS = {
  "envoy-port": { type: "string", short: "p" },
  "inbound-capture-port": { type: "string", short: "z" },
  "inbound-tunnel-port": { type: "string", short: "e" },
  "proxy-uid": { type: "string", short: "u" },
  "proxy-gid": { type: "string", short: "g" },
  "istio-inbound-interception-mode": { type: "string", short: "m" },
  "istio-inbound-ports": { type: "string", short: "b" },
  "istio-local-exclude-ports": { type: "string", short: "d" },
  "istio-service-cidr": { type: "string", short: "i" },
  "istio-service-exclude-cidr": { type: "string", short: "x" },
  "istio-local-outbound-ports-exclude": { type: "string", short: "o" },
  "istio-outbound-ports": { type: "string", short: "q" },
} as const satisfies OptionsConfig;

const OPTIONS = {
  ...CAPTURE_FLAGS,
  ipv6: { type: "boolean" },
  "no-ipv6": { type: "boolean" },
  "dry-run": { type: "boolean" },
  cleanup: { type: "boolean" },
  "iptables-backend": { type: "string" },
} as const satisfies OptionsConfig;

const FLAG_HELP = [
  `-p, --envoy-port PORT                         outbound capture port (default ${d.outboundPort})`,
  `-z, --inbound-capture-port PORT               inbound capture port (default ${d.inboundPort})`,
  `-e, --inbound-tunnel-port PORT                tunnel port, never captured (default ${d.inboundTunnelPort})`,
  `-u, --proxy-uid UID[,UID]                     the proxy's uid: its traffic is not captured (default ${d.proxyUids.join(",")})`,
  "-g, --proxy-gid GID[,GID]                     the proxy's gid, same role (default: the uid)",
  "-m, --istio-inbound-interception-mode MODE    only REDIRECT (the default) is supported",
  "-b, --istio-inbound-ports *|PORTS             inbound ports to capture; \"\" for none (default *)",
  `-d, --istio-local-exclude-ports PORTS         inbound ports not captured with -b * (default ${d.inboundPortsExclude.join(",")})`,
  "-i, --istio-service-cidr *|CIDRS              outbound destinations to capture; \"\" for none (default *)",
  "-x, --istio-service-exclude-cidr CIDRS        outbound destinations not captured (default none)",
  "-o, --istio-local-outbound-ports-exclude PORTS  outbound TCP/UDP ports not captured (default none)",
  "-q, --istio-outbound-ports PORTS              outbound TCP ports always captured (default none)",
  "    --ipv6 / --no-ipv6                        IPv6 rules too / IPv4 only (default: IPv6 too when an",
  "                                              interface has a global IPv6 address)",
  "    --dry-run                                 print the rules (iptables-restore format); change nothing",
  "    --cleanup                                 remove the jumps and the ISTIO_* chains",
  `    --iptables-backend ${IPTABLES_BACKENDS.join("|")}         iptables binaries to use (default: the system's iptables-restore)`,
];

const NOTES = [
  "Installs Istio's REDIRECT-mode nat rules (chains ISTIO_INBOUND, ISTIO_IN_REDIRECT, ISTIO_OUTPUT,",
  "ISTIO_REDIRECT) in the current network namespace; running it again leaves one copy of each rule.",
  "Needs root, or CAP_NET_ADMIN and CAP_NET_RAW. Lists are comma-separated. See docs/sidecar.md.",
];

export const iptablesCommand: Command = {
  path: ["iptables"],
  synopsis: "[-p PORT] [-z PORT] [-u UID] [-g GID] [-b PORTS] [-d PORTS] [-i CIDRS] [-x CIDRS] [-o PORTS] [-q PORTS] [--dry-run|--cleanup]",
  summary: "Install, print or remove the sidecar's traffic capture rules (istio-iptables)",
  options: OPTIONS,
  flagHelp: FLAG_HELP,
  notes: NOTES,
  run: runIptables,
};

async function runIptables(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}": weft-iptables takes only flags`, TOPIC);
  const dryRun = ctx.flags.boolean("dry-run");
  const cleanup = ctx.flags.boolean("cleanup");
  if (dryRun && cleanup) throw new UsageError("--dry-run and --cleanup cannot be combined", TOPIC);
  if (ctx.flags.boolean("ipv6") && ctx.flags.boolean("no-ipv6")) throw new UsageError("--ipv6 and --no-ipv6 cannot be combined", TOPIC);
  const backendText = ctx.flags.string("iptables-backend") ?? "default";
  if (!(IPTABLES_BACKENDS as readonly string[]).includes(backendText)) {
    throw new UsageError(`--iptables-backend ${backendText}: must be one of ${IPTABLES_BACKENDS.join(", ")}`, TOPIC);
  }
  const backend = backendText as IptablesBackend;
  const ipv6 = ctx.flags.boolean("ipv6") ? true : ctx.flags.boolean("no-ipv6") ? false : hasGlobalIpv6Address();

  const values: CaptureFlagValues = {};
  for (const [name, { short }] of Object.entries(CAPTURE_FLAGS)) values[short] = ctx.flags.string(name);
  let options;
  try {
    options = parseCaptureFlags(values, ipv6);
  } catch (err) {
    if (err instanceof CaptureError) throw new UsageError(err.message, TOPIC);
    throw err;
  }

  if (dryRun) {
    const rules = captureRules(options);
    ctx.out("# IPv4: iptables-restore --noflush");
    ctx.io.stdout.write(rules.v4);
    if (rules.v6 !== undefined) {
      ctx.out("# IPv6: ip6tables-restore --noflush");
      ctx.io.stdout.write(rules.v6);
    }
    return 0;
  }

  const run = spawnCommand();
  try {
    if (cleanup) {
      for (const report of await cleanupCapture({ run, backend, ipv6: ctx.flags.boolean("ipv6") ? true : "if-available" })) {
        const family = report.family === "v4" ? "IPv4" : "IPv6";
        if (report.skipped !== undefined) ctx.out(`${family}: skipped (${report.skipped})`);
        else if (report.chainsDeleted.length === 0 && report.jumpsDeleted === 0) ctx.out(`${family}: no capture rules to remove`);
        else ctx.out(`${family}: removed ${report.jumpsDeleted} jump(s) and chain(s) ${report.chainsDeleted.join(", ") || "(none)"}`);
      }
      return 0;
    }
    for (const report of await applyCapture(options, { run, backend })) {
      const family = report.family === "v4" ? "IPv4" : "IPv6";
      ctx.out(
        `${family}: installed ${report.chainRules} rules in ISTIO_INBOUND, ISTIO_REDIRECT, ISTIO_IN_REDIRECT, ISTIO_OUTPUT; ` +
          `jumps added ${report.jumpsAdded}, already present ${report.jumpsKept}, removed ${report.jumpsDeleted}`,
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    ctx.err(`error: ${err.message}`);
    return 1;
  }
}

/** Whether any interface has an IPv6 address that is neither loopback nor link-local (the pod is IPv6). */
function hasGlobalIpv6Address(): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((a) => a.family === "IPv6" && !a.internal && !/^fe[89ab]/i.test(a.address)),
  );
}

/**
 * The `weft-iptables` executable: the `iptables` command on its own, without the control-plane
 * client, so the init container loads nothing else. Resolves with the exit code (2 for a bad flag).
 */
export async function weftIptablesMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);
  const err = (line: string): void => void io.stderr.write(`${line}\n`);
  try {
    const { flags, positionals } = parseCommandLine(argv, { ...OPTIONS, help: { type: "boolean", short: "h" } }, TOPIC);
    if (flags.boolean("help")) {
      for (const line of ["Usage:", `  weft-iptables ${iptablesCommand.synopsis}`, "", "Flags:"]) out(line);
      for (const line of [...FLAG_HELP, "-h, --help                                    show this help"]) out(`  ${line}`);
      out("");
      for (const line of NOTES) out(line);
      return 0;
    }
    const client = (): never => {
      throw new TypeError("weft-iptables does not talk to the control plane");
    };
    return await runIptables({ args: positionals, flags, io, out, err, client });
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    err(`error: ${error.message}`);
    if (error instanceof UsageError) err("See 'weft-iptables --help' for usage.");
    return error.exitCode;
  }
}
