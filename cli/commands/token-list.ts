/**
 * @module cli/commands/token-list
 * `weft token list`: the API tokens the control plane knows (names and roles; never the tokens).
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { humanAge } from "../human-age.js";
import { formatTable } from "../print-table.js";

interface TokenInfo {
  name: string;
  role: string;
  createdAt?: string;
}

export const tokenListCommand: Command = {
  path: ["token", "list"],
  synopsis: "",
  summary: "List API tokens",
  options: {},
  flagHelp: [],
  run: listTokens,
};

async function listTokens(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, "token list");
  const answer = (await ctx.client().request("GET", "/v1/tokens")) as { items?: TokenInfo[] };
  const items = answer.items ?? [];
  if (items.length === 0) {
    ctx.err("No tokens found.");
    return 0;
  }
  const now = ctx.io.now();
  const rows = items.map((t) => [t.name, t.role, humanAge(t.createdAt, now)]);
  for (const line of formatTable(["NAME", "ROLE", "AGE"], rows)) ctx.out(line);
  return 0;
}
