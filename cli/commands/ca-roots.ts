/**
 * @module cli/commands/ca-roots
 * `weft ca roots [-o json|yaml]`: the CA's trust anchors, active and retired. Workloads trust the
 * active ones (the bundle at `GET /v1/ca/roots`); during a rotation old and new are active side by side.
 * The CA makes its root on first use, so an empty list is first filled by asking for the bundle.
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { formatItems, listFormat, shortFingerprint, timestamp } from "../ca-output.js";
import { formatTable } from "../print-table.js";
import type { ControlPlaneClient } from "../http-client.js";

/** One row of `GET /v1/ca/roots/list`. */
export interface TrustAnchor {
  fingerprint: string;
  subject: string;
  notAfter: string;
  addedAt: string;
  retiredAt: string | null;
}

const TOPIC = "ca roots";

export const caRootsCommand: Command = {
  path: ["ca", "roots"],
  synopsis: "[-o json|yaml]",
  summary: "List the CA's root certificates (trust anchors), active and retired",
  options: { output: { type: "string", short: "o" } },
  flagHelp: ["-o, --output FORMAT         json or yaml, with whole fingerprints (default: a table)"],
  notes: ["FINGERPRINT is the start of the root's SHA-256 fingerprint; 'weft ca roots retire' takes it."],
  run: listRoots,
};

async function listRoots(ctx: CommandContext): Promise<number> {
  const [word] = ctx.args;
  if (word !== undefined) throw new UsageError(`unknown command "${word}" for "weft ca roots": one of add, retire`, TOPIC);
  const format = listFormat(ctx.flags.string("output"), TOPIC);
  const client = ctx.client();
  let roots = await fetchRoots(client);
  if (roots.length === 0) {
    await client.requestText("GET", "/v1/ca/roots"); // the CA self-signs its root on first use
    roots = await fetchRoots(client);
  }
  if (format !== "table") {
    for (const line of formatItems(roots, format)) ctx.out(line);
    return 0;
  }
  if (roots.length === 0) {
    ctx.err("No roots found.");
    return 0;
  }
  const rows = roots.map((r) => [shortFingerprint(r.fingerprint), r.subject, timestamp(r.notAfter), r.retiredAt ? "retired" : "active"]);
  for (const line of formatTable(["FINGERPRINT", "SUBJECT", "NOT AFTER", "STATUS"], rows)) ctx.out(line);
  return 0;
}

/** Every trust anchor, retired ones too, oldest first. */
export async function fetchRoots(client: ControlPlaneClient): Promise<TrustAnchor[]> {
  const answer = (await client.request("GET", "/v1/ca/roots/list")) as { items?: TrustAnchor[] };
  return answer.items ?? [];
}
