/**
 * @module cli/commands/sidecar
 * `weft sidecar` runs the Kubernetes sidecar (what the injector's `weft-proxy` container runs), and
 * `weft sidecar wait` holds a postStart hook until that sidecar is ready (pilot-agent's `wait`, for
 * holdApplicationUntilProxyStarts). The sidecar reads its settings like pilot-agent, from the
 * environment the injector sets and a few flags (docs/sidecar.md), logs JSON lines to stdout, and
 * shuts down gracefully on SIGTERM, SIGINT or POST /quitquitquit.
 */
import { readFileSync } from "node:fs";
import { runSidecar } from "../../edge-proxy/hosts/sidecar/run-sidecar.js";
import { readSidecarSettings, SidecarSettingsError } from "../../edge-proxy/hosts/sidecar/agent/sidecar-settings.js";
import { WAIT_DEFAULTS, waitForReady } from "../../edge-proxy/hosts/sidecar/wait-for-ready.js";
import type { OptionsConfig } from "../argv.js";
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";

const SIDECAR_OPTIONS = {
  "control-plane-url": { type: "string" },
  "token-file": { type: "string" },
  "join-token-file": { type: "string" },
  "labels-file": { type: "string" },
  "data-dir": { type: "string" },
  "access-log": { type: "boolean" },
} as const satisfies OptionsConfig;

export const sidecarCommand: Command = {
  path: ["sidecar"],
  synopsis: "[--control-plane-url URL] [--token-file F | --join-token-file F] [--labels-file F] [--data-dir DIR] [--access-log]",
  summary: "Run the Kubernetes sidecar proxy (ports 15001, 15006, 15000, 15020, 15021, 15090)",
  options: SIDECAR_OPTIONS,
  flagHelp: [
    "    --control-plane-url URL   the control plane (default $WEFT_CONTROL_PLANE_URL)",
    "    --token-file FILE         projected service-account token (default /var/run/secrets/tokens/istio-token)",
    "    --join-token-file FILE    a join token instead (or $WEFT_JOIN_TOKEN)",
    "    --labels-file FILE        the pod's labels, downward-API format (default /etc/istio/pod/labels; $WEFT_LABELS as JSON)",
    "    --data-dir DIR            where the last-known-good config is kept (default /var/lib/istio/data)",
    "    --access-log              one JSON access-log line per request on stdout",
  ],
  notes: [
    "Identity from POD_NAME, POD_NAMESPACE, SERVICE_ACCOUNT, INSTANCE_IP; ports from ISTIO_META_POD_PORTS;",
    "TRUST_DOMAIN, WEFT_CERT_TTL, TERMINATION_DRAIN_DURATION_SECONDS, ISTIO_PROMETHEUS_ANNOTATIONS. See docs/sidecar.md.",
  ],
  run: async (ctx: CommandContext) => {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, "sidecar");
    const argv: string[] = [];
    for (const name of ["control-plane-url", "token-file", "join-token-file", "labels-file", "data-dir"] as const) {
      const value = ctx.flags.string(name);
      if (value !== undefined) argv.push(`--${name}`, value);
    }
    let settings;
    try {
      settings = readSidecarSettings(ctx.io.env, argv, (path) => readFileSync(path, "utf8"));
    } catch (error) {
      if (!(error instanceof SidecarSettingsError)) throw error;
      for (const line of error.message.split("\n")) ctx.err(line);
      return 1;
    }
    const write = (line: string) => void ctx.io.stdout.write(`${line}\n`);
    const log = (event: Record<string, unknown>) => write(JSON.stringify({ time: new Date().toISOString(), ...event }));
    const sidecar = await runSidecar({ settings, log, ...(ctx.flags.boolean("access-log") ? { accessLog: write } : {}) });
    const onSignal = (signal: NodeJS.Signals) => void sidecar.shutdown(signal);
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    await sidecar.done;
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    return 0;
  },
};

const positiveNumber = (ctx: CommandContext, name: string, fallback: number): number => {
  const text = ctx.flags.string(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} ${text}: must be a positive number`, "sidecar wait");
  return value;
};

export const sidecarWaitCommand: Command = {
  path: ["sidecar", "wait"],
  synopsis: "[--url URL] [--timeout-seconds N] [--period-millis N] [--request-timeout-millis N]",
  summary: "Wait until the sidecar is ready (a postStart hook for holdApplicationUntilProxyStarts)",
  options: {
    url: { type: "string" },
    "timeout-seconds": { type: "string" },
    "period-millis": { type: "string" },
    "request-timeout-millis": { type: "string" },
  },
  flagHelp: [
    `    --url URL                    readiness URL (default ${WAIT_DEFAULTS.url})`,
    `    --timeout-seconds N          give up after N seconds, exit 1 (default ${WAIT_DEFAULTS.timeoutMs / 1000})`,
    `    --period-millis N            poll every N ms (default ${WAIT_DEFAULTS.periodMs})`,
    `    --request-timeout-millis N   each poll's timeout (default ${WAIT_DEFAULTS.requestTimeoutMs})`,
  ],
  run: async (ctx: CommandContext) => {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, "sidecar wait");
    const url = ctx.flags.string("url") ?? WAIT_DEFAULTS.url;
    const result = await waitForReady({
      url,
      timeoutMs: positiveNumber(ctx, "timeout-seconds", WAIT_DEFAULTS.timeoutMs / 1000) * 1000,
      periodMs: positiveNumber(ctx, "period-millis", WAIT_DEFAULTS.periodMs),
      requestTimeoutMs: positiveNumber(ctx, "request-timeout-millis", WAIT_DEFAULTS.requestTimeoutMs),
    });
    if (result.ready) {
      ctx.out(`sidecar ready (${url}, ${result.attempts} attempt${result.attempts === 1 ? "" : "s"})`);
      return 0;
    }
    ctx.err(`error: the sidecar was not ready at ${url} after ${result.attempts} attempts; last answer: ${result.last ?? "none"}`);
    return 1;
  },
};
