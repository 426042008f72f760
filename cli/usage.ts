/**
 * @module cli/usage
 * Help text: the overview of every command, and the page of one command (or of a family such as
 * `token`), built from the commands' own descriptions.
 */
import { KINDS } from "../control/resources/kinds.js";
import { commandName, type Command } from "./command.js";
import { DEFAULT_URL } from "./connection.js";

const GLOBAL_FLAG_HELP = [
  "    --server URL            control plane URL (alias --url); else $WEFT_URL, else " + DEFAULT_URL,
  "    --token TOKEN           bearer token; else $WEFT_TOKEN, else WEFT_ADMIN_TOKEN from ./.dev.vars",
  "-h, --help                  show help",
];

/** The overview `weft help` prints. */
export function overview(commands: readonly Command[]): string[] {
  return [
    "weft manages a Weft service mesh through its control plane, as kubectl and istioctl do.",
    "",
    "Usage:",
    "  weft COMMAND [ARGS] [flags]",
    "",
    "Commands:",
    ...commands.flatMap((c) => [`  ${commandLine(c)}`, `      ${c.summary}`]),
    "  help [COMMAND]",
    "      Show help for weft or a command",
    "",
    "Global flags (accepted anywhere on the line):",
    ...indent(GLOBAL_FLAG_HELP),
    "",
    "Kinds:",
    ...kindLines(),
    "",
    "Run 'weft help COMMAND' for a command's flags.",
  ];
}

/** The help page for `topic` (`get`, `token`, `token create`); undefined when no command matches. */
export function topicHelp(commands: readonly Command[], topic: readonly string[]): string[] | undefined {
  const matching = commands.filter((c) => topic.every((word, i) => c.path[i] === word));
  if (matching.length === 0) return undefined;
  const exact = matching.find((c) => c.path.length === topic.length);
  if (!exact) {
    const usage = matching.flatMap((c) => [`  weft ${commandLine(c)}`, `      ${c.summary}`]);
    return ["Usage:", ...usage, "", "Global flags:", ...indent(GLOBAL_FLAG_HELP)];
  }
  const flags = exact.flagHelp.length > 0 ? ["", "Flags:", ...indent(exact.flagHelp)] : [];
  const notes = exact.notes ? ["", ...exact.notes] : [];
  const deeper = matching.filter((c) => c.path.length === exact.path.length + 1);
  const subcommands = deeper.length > 0 ? ["", "Subcommands:", ...deeper.flatMap((c) => [`  weft ${commandLine(c)}`, `      ${c.summary}`])] : [];
  return [exact.summary + ".", "", "Usage:", `  weft ${commandLine(exact)}`, ...flags, ...notes, ...subcommands, "", "Global flags:", ...indent(GLOBAL_FLAG_HELP)];
}

function commandLine(command: Command): string {
  return command.synopsis ? `${commandName(command)} ${command.synopsis}` : commandName(command);
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

function kindLines(): string[] {
  return KINDS.map((k) => {
    const short = k.shortNames.filter((s) => s !== k.singular);
    return `  ${k.plural}${short.length > 0 ? ` (${short.join(", ")})` : ""}`.padEnd(34) + k.group;
  });
}
