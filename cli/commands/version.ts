/**
 * @module cli/commands/version
 * `weft version`: the CLI's version, from package.json.
 */
import packageJson from "../../package.json" with { type: "json" };
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";

export const versionCommand: Command = {
  path: ["version"],
  synopsis: "",
  summary: "Print the weft version",
  options: {},
  flagHelp: [],
  run: async (ctx: CommandContext) => {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, "version");
    ctx.out(`weft version ${packageJson.version}`);
    return 0;
  },
};
