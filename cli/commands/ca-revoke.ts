/**
 * @module cli/commands/ca-revoke
 * `weft ca revoke SERIAL [--reason TEXT]`: revokes a certificate the CA issued; it appears in the
 * CRL (`GET /v1/ca/crl`) from then on. The serial may be pasted as openssl prints it (`AB:CD:...`).
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { normalizeHex } from "../ca-output.js";

const TOPIC = "ca revoke";

export const caRevokeCommand: Command = {
  path: ["ca", "revoke"],
  synopsis: "SERIAL [--reason TEXT]",
  summary: "Revoke a certificate the CA issued",
  options: { reason: { type: "string" } },
  flagHelp: ["    --reason TEXT           why, for the record (at most 200 characters)"],
  notes: ["SERIAL is the hex serial 'weft ca certs' lists (openssl's AB:CD:... form works too)."],
  run: revoke,
};

async function revoke(ctx: CommandContext): Promise<number> {
  const [given, extra] = ctx.args;
  if (given === undefined) throw new UsageError("a serial is required: weft ca revoke SERIAL", TOPIC);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, TOPIC);
  const serial = serialOf(given);
  const reason = ctx.flags.string("reason");
  const body = reason === undefined ? {} : { reason };
  await ctx.client().request("POST", `/v1/certificates/${serial}/revoke`, { body: JSON.stringify(body), contentType: "application/json" });
  ctx.out(`certificate ${serial} revoked`);
  return 0;
}

/** Lowercase hex without leading zero bytes, as the CA records serials. */
function serialOf(given: string): string {
  const hex = normalizeHex(given);
  if (hex === undefined || hex.length > 40) throw new UsageError(`"${given}" is not a certificate serial: give the hex serial 'weft ca certs' lists`, TOPIC);
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return even.replace(/^(?:00)+(?=..)/, "");
}
