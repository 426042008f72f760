/**
 * @module cli/commands
 * Every `weft` command, in the order help lists them, and the lookup from command words.
 */
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { applyCommand } from "./apply.js";
import { caCertsCommand } from "./ca-certs.js";
import { caImportCommand } from "./ca-import.js";
import { caInitCommand } from "./ca-init.js";
import { caRevokeCommand } from "./ca-revoke.js";
import { caRootsAddCommand } from "./ca-roots-add.js";
import { caRootsRetireCommand } from "./ca-roots-retire.js";
import { caRootsCommand } from "./ca-roots.js";
import { deleteCommand } from "./delete.js";
import { getCommand } from "./get.js";
import { iptablesCommand } from "./iptables.js";
import { kubeInjectCommand } from "./kube-inject.js";
import { kubeSyncCommand } from "./kube-sync.js";
import { proxyConfigCommand } from "./proxy-config.js";
import { proxyStatusCommand } from "./proxy-status.js";
import { sidecarCommand, sidecarWaitCommand } from "./sidecar.js";
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
  caInitCommand,
  caImportCommand,
  caRootsCommand,
  caRootsAddCommand,
  caRootsRetireCommand,
  caCertsCommand,
  caRevokeCommand,
  proxyStatusCommand,
  proxyConfigCommand,
  kubeSyncCommand,
  kubeInjectCommand,
  iptablesCommand,
  sidecarCommand,
  sidecarWaitCommand,
  versionCommand,
];

/**
 * The command whose words begin `words` (the longest such: `ca roots add` before `ca roots`); a
 * `UsageError` naming the problem otherwise.
 */
export function findCommand(words: readonly string[]): Command {
  const [first, second] = words;
  const family = COMMANDS.filter((c) => c.path[0] === first);
  if (family.length === 0) throw new UsageError(`unknown command "${first}" for "weft"`);
  const matching = family.filter((c) => c.path.every((word, i) => words[i] === word));
  const longest = matching.sort((a, b) => b.path.length - a.path.length)[0];
  if (longest) return longest;
  const choices = [...new Set(family.map((c) => c.path[1]))].join(", ");
  const problem = second === undefined ? `"${first}" needs a subcommand` : `unknown command "${second}" for "weft ${first}"`;
  throw new UsageError(`${problem}: one of ${choices}`, first);
}

