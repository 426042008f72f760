/**
 * @module cli/commands/token-revoke
 * `weft token revoke NAME`: the token stops working at once.
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";

export const tokenRevokeCommand: Command = {
  path: ["token", "revoke"],
  synopsis: "NAME",
  summary: "Revoke an API token",
  options: {},
  flagHelp: [],
  run: revokeToken,
};

async function revokeToken(ctx: CommandContext): Promise<number> {
  const [name, extra] = ctx.args;
  if (name === undefined) throw new UsageError("a token name is required: weft token revoke NAME", "token revoke");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, "token revoke");
  await ctx.client().request("DELETE", `/v1/tokens/${encodeURIComponent(name)}`);
  ctx.out(`token "${name}" revoked`);
  return 0;
}
