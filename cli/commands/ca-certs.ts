/**
 * @module cli/commands/ca-certs
 * `weft ca certs [-n NS | -A] [-o json|yaml]`: the CA's issuance log, newest first: which identity got
 * which serial, until when, at whose request, and whether it is still valid, expired or revoked.
 */
import type { Command, CommandContext } from "../command.js";
import { NAMESPACE_OPTION } from "../common-options.js";
import { UsageError } from "../errors.js";
import { humanAge } from "../human-age.js";
import { formatItems, listFormat, timestamp } from "../ca-output.js";
import { formatTable } from "../print-table.js";
import { DEFAULT_NAMESPACE } from "../resource-ref.js";

/** One row of `GET /v1/certificates`. */
export interface IssuedCertificate {
  serial: string;
  spiffeId: string;
  namespace: string;
  serviceAccount: string;
  notBefore: string;
  notAfter: string;
  requester: string;
  issuerFingerprint: string;
  issuedAt: string;
  revokedAt: string | null;
}

const TOPIC = "ca certs";

export const caCertsCommand: Command = {
  path: ["ca", "certs"],
  synopsis: "[-n NS | -A] [-o json|yaml]",
  summary: "List the certificates the CA issued, with their status",
  options: { ...NAMESPACE_OPTION, "all-namespaces": { type: "boolean", short: "A" }, output: { type: "string", short: "o" } },
  flagHelp: [
    "-n, --namespace NS          certificates of workloads in this namespace (default \"default\")",
    "-A, --all-namespaces        certificates of every namespace",
    "-o, --output FORMAT         json or yaml (default: a table)",
  ],
  notes: ["STATUS is Valid, Expired (past NOT AFTER) or Revoked (weft ca revoke SERIAL)."],
  run: listCertificates,
};

async function listCertificates(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const format = listFormat(ctx.flags.string("output"), TOPIC);
  const allNamespaces = ctx.flags.boolean("all-namespaces");
  if (allNamespaces && ctx.flags.string("namespace") !== undefined) throw new UsageError("give either -n NS or -A, not both", TOPIC);
  const namespace = allNamespaces ? undefined : ctx.flags.string("namespace") ?? DEFAULT_NAMESPACE;
  const answer = (await ctx.client().request("GET", "/v1/certificates", { query: { namespace } })) as { items?: IssuedCertificate[] };
  const items = answer.items ?? [];
  if (format !== "table") {
    for (const line of formatItems(items, format)) ctx.out(line);
    return 0;
  }
  if (items.length === 0) {
    ctx.err(namespace === undefined ? "No certificates found." : `No certificates found in ${namespace} namespace.`);
    return 0;
  }
  const now = ctx.io.now();
  const headers = ["SERIAL", "IDENTITY", "NOT AFTER", "REQUESTER", "STATUS", "AGE"];
  const rows = items.map((c) => [c.serial, c.spiffeId, timestamp(c.notAfter), c.requester, certificateStatus(c, now), humanAge(c.issuedAt, now)]);
  const table = allNamespaces ? formatTable(["NAMESPACE", ...headers], rows.map((row, i) => [items[i]!.namespace, ...row])) : formatTable(headers, rows);
  for (const line of table) ctx.out(line);
  return 0;
}

/** Revoked wins over Expired: a revocation is news even after the certificate ran out. */
export function certificateStatus(certificate: Pick<IssuedCertificate, "notAfter" | "revokedAt">, now: Date): "Valid" | "Expired" | "Revoked" {
  if (certificate.revokedAt) return "Revoked";
  const notAfter = Date.parse(certificate.notAfter);
  return !Number.isNaN(notAfter) && notAfter <= now.getTime() ? "Expired" : "Valid";
}
