/**
 * @module cli/commands/ca-roots-retire
 * `weft ca roots retire FINGERPRINT`: stops serving a trust anchor (the last step of a root rotation).
 * FINGERPRINT may be any unique start of the SHA-256 fingerprint, as `weft ca roots` shows it; the
 * root the issuing CA chains to cannot be retired (the server answers Conflict).
 */
import type { Command, CommandContext } from "../command.js";
import { AmbiguousReference, NoMatch, UsageError } from "../errors.js";
import { normalizeHex, shortFingerprint } from "../ca-output.js";
import { fetchRoots } from "./ca-roots.js";

const TOPIC = "ca roots retire";

export const caRootsRetireCommand: Command = {
  path: ["ca", "roots", "retire"],
  synopsis: "FINGERPRINT",
  summary: "Retire a root certificate: workloads stop trusting it",
  options: {},
  flagHelp: [],
  notes: ["FINGERPRINT is the SHA-256 fingerprint or a unique start of it, as 'weft ca roots' lists it."],
  run: retireRoot,
};

async function retireRoot(ctx: CommandContext): Promise<number> {
  const [given, extra] = ctx.args;
  if (given === undefined) throw new UsageError("a fingerprint is required: weft ca roots retire FINGERPRINT", TOPIC);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, TOPIC);
  const prefix = normalizeHex(given);
  if (prefix === undefined) throw new UsageError(`"${given}" is not a fingerprint: give the hex FINGERPRINT 'weft ca roots' lists`, TOPIC);

  const client = ctx.client();
  const roots = await fetchRoots(client);
  const matching = roots.filter((r) => r.fingerprint.startsWith(prefix));
  const active = matching.filter((r) => !r.retiredAt);
  if (active.length === 0) {
    if (matching.length > 0) throw new NoMatch(`root ${shortFingerprint(matching[0]!.fingerprint)} is already retired`);
    throw new NoMatch(`no root has a fingerprint starting "${prefix}" (see 'weft ca roots')`);
  }
  if (active.length > 1) {
    throw new AmbiguousReference(`"${prefix}" starts the fingerprints of ${active.length} active roots; give more of it:`, active.map((r) => `${r.fingerprint}  ${r.subject}`));
  }
  const root = active[0]!;
  await client.request("DELETE", `/v1/ca/roots/${root.fingerprint}`);
  ctx.out(`root ${shortFingerprint(root.fingerprint)} retired (${root.subject})`);
  return 0;
}
