/**
 * @module cli/commands
 * Every `weft` command, in the order help lists them, and the lookup from command words.
 */
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { applyCommand } from "./apply.js";
import { deleteCommand } from "./delete.js";
import { getCommand } from "./get.js";
import { tokenCreateCommand } from "./token-create.js";
import { tokenListCommand } from "./token-list.js";
import { tokenRevokeCommand } from "./token-revoke.js";
import { validateCommand } from "./validate.js";
import { versionCommand } from "./version.js";

export const COMMANDS: readonly Command[] = [
  applyCommand,
  getCommand,
  deleteCommand,
  validateCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  versionCommand,
];

/** The command whose words begin `words`; a `UsageError` naming the problem otherwise. */
export function findCommand(words: readonly string[]): Command {
  const [first, second] = words;
  const family = COMMANDS.filter((c) => c.path[0] === first);
  if (family.length === 0) throw new UsageError(`unknown command "${first}" for "weft"`);
  const exact = family.find((c) => c.path.length === 1);
  if (exact) return exact;
  const sub = family.find((c) => c.path[1] === second);
  if (sub) return sub;
  const choices = family.map((c) => c.path[1]).join(", ");
  const problem = second === undefined ? `"${first}" needs a subcommand` : `unknown command "${second}" for "weft ${first}"`;
  throw new UsageError(`${problem}: one of ${choices}`, first);
}
