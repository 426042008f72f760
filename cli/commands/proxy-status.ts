/**
 * @module cli/commands/proxy-status
 * `weft proxy-status [-n NS] [-o json|yaml]`: every registered proxy and whether it runs the config the
 * control plane would send it now, as `istioctl proxy-status` shows it: SYNCED, STALE (with a NACK's
 * reason) or NOT SENT.
 */
import type { Command, CommandContext } from "../command.js";
import { NAMESPACE_OPTION } from "../common-options.js";
import { UsageError } from "../errors.js";
import { humanAge } from "../human-age.js";
import { formatItems, listFormat } from "../ca-output.js";
import { formatTable } from "../print-table.js";

/** One row of `GET /v1/proxy-status`. */
export interface ProxyStatusItem {
  id: string;
  name: string;
  namespace: string;
  kind: string;
  version: string;
  status: string;
  reason?: string;
  lastSeen?: string;
}

/** How many hex digits of a config version tables show. */
export const SHORT_VERSION_LENGTH = 12;

const TOPIC = "proxy-status";

export const proxyStatusCommand: Command = {
  path: ["proxy-status"],
  synopsis: "[-n NS] [-o json|yaml]",
  summary: "Show whether each registered proxy runs the current config (SYNCED, STALE, NOT SENT)",
  options: { ...NAMESPACE_OPTION, output: { type: "string", short: "o" } },
  flagHelp: [
    "-n, --namespace NS          only proxies of this namespace (default: every namespace)",
    "-o, --output FORMAT         json or yaml (default: a table)",
  ],
  notes: [
    "STATUS is SYNCED (the proxy acknowledged the config it should run now), STALE (it was sent a version",
    "it has not acknowledged, rejected one - REASON says why - or holds an older one) or NOT SENT.",
    "VERSION is the content hash of the proxy's current config (its ETag), shortened.",
  ],
  run: proxyStatus,
};

async function proxyStatus(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const format = listFormat(ctx.flags.string("output"), TOPIC);
  const namespace = ctx.flags.string("namespace");
  const answer = (await ctx.client().request("GET", "/v1/proxy-status", { query: { namespace } })) as { items?: ProxyStatusItem[] };
  const items = answer.items ?? [];
  if (format !== "table") {
    for (const line of formatItems(items, format)) ctx.out(line);
    return 0;
  }
  if (items.length === 0) {
    ctx.err(namespace === undefined ? "No proxies found." : `No proxies found in ${namespace} namespace.`);
    return 0;
  }
  for (const line of proxyStatusTable(items, ctx.io.now())) ctx.out(line);
  return 0;
}

/** The table's lines: NAME, NAMESPACE, KIND, STATUS, VERSION, LAST SEEN, REASON. */
export function proxyStatusTable(items: readonly ProxyStatusItem[], now: Date): string[] {
  const rows = items.map((p) => [p.id, p.namespace, p.kind, p.status, p.version.slice(0, SHORT_VERSION_LENGTH), humanAge(p.lastSeen, now), p.reason ?? ""]);
  return formatTable(["NAME", "NAMESPACE", "KIND", "STATUS", "VERSION", "LAST SEEN", "REASON"], rows);
}
