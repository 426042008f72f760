/**
 * @module cli/commands/token-create
 * `weft token create --name NAME --role viewer|admin`: asks the control plane for a new API token and
 * prints it once, as the last line of stdout, so `$(weft token create ... | tail -n 1)` captures it.
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";

interface CreatedToken {
  name: string;
  role: string;
  token: string;
}

export const tokenCreateCommand: Command = {
  path: ["token", "create"],
  synopsis: "--name NAME --role viewer|admin",
  summary: "Create an API token (shown once)",
  options: { name: { type: "string" }, role: { type: "string" } },
  flagHelp: [
    "    --name NAME             a name to list and revoke the token by",
    "    --role ROLE             viewer (read) or admin (everything)",
  ],
  run: createToken,
};

async function createToken(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 1) throw new UsageError(`unexpected argument "${ctx.args[1]}"`, "token create");
  const name = ctx.flags.string("name") ?? ctx.args[0];
  const role = ctx.flags.string("role");
  if (name === undefined || name === "") throw new UsageError("a token name is required: --name NAME", "token create");
  if (role === undefined || role === "") throw new UsageError("a role is required: --role viewer|admin", "token create");
  const created = (await ctx.client().request("POST", "/v1/tokens", {
    body: JSON.stringify({ name, role }),
    contentType: "application/json",
  })) as CreatedToken;
  ctx.out(`token "${created.name}" created with role ${created.role}; it is shown only this once:`);
  ctx.out(created.token);
  return 0;
}
