/**
 * @module cli/main
 * The `weft` CLI's composition root: takes argv and the process's I/O (injectable for tests), finds the
 * command, parses its flags, hands it a lazily connected control-plane client, and turns named
 * failures into messages and exit codes (0 ok, 1 failed, 2 bad command line).
 */
import { GLOBAL_OPTIONS, mergeOptions, parseCommandLine, scanWords } from "./argv.js";
import { commandName, type CommandContext } from "./command.js";
import { COMMANDS, findCommand } from "./commands/index.js";
import { resolveConnection } from "./connection.js";
import { CliError, UsageError } from "./errors.js";
import { ControlPlaneClient } from "./http-client.js";
import { processIo, type CliIo } from "./io.js";
import { overview, topicHelp } from "./usage.js";

export type { CliIo } from "./io.js";

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);
  const err = (line: string): void => void io.stderr.write(`${line}\n`);
  try {
    return await dispatch(argv, io, out, err);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    for (const line of error.lines()) err(line);
    if (error instanceof UsageError && error.helpTopic === "") {
      err("");
      for (const line of overview(COMMANDS)) err(line);
    }
    return error.exitCode;
  }
}

async function dispatch(argv: string[], io: CliIo, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { words, help } = scanWords(argv, mergeOptions([GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)]));
  if (words[0] === "help" || help || words.length === 0) {
    const topic = words[0] === "help" ? words.slice(1) : words;
    const page = helpPage(topic);
    if (!page) throw new UsageError(`unknown command "${topic.join(" ")}" for "weft"`);
    if (words.length === 0) parseCommandLine(argv, GLOBAL_OPTIONS, ""); // `weft --bogus` is an error, not help
    for (const line of page) out(line);
    return 0;
  }

  const command = findCommand(words);
  const { flags, positionals } = parseCommandLine(argv, { ...GLOBAL_OPTIONS, ...command.options }, commandName(command));
  let client: ControlPlaneClient | undefined;
  const ctx: CommandContext = {
    args: positionals.slice(command.path.length),
    flags,
    io,
    out,
    err,
    client: () =>
      (client ??= new ControlPlaneClient(
        resolveConnection({ server: flags.string("server") ?? flags.string("url"), token: flags.string("token"), env: io.env, cwd: io.cwd }),
      )),
  };
  return command.run(ctx);
}

/** The overview, or the page of the longest command prefix of `topic` (`get vs` → get's page). */
function helpPage(topic: readonly string[]): string[] | undefined {
  if (topic.length === 0) return overview(COMMANDS);
  const deepest = Math.max(...COMMANDS.map((c) => c.path.length));
  for (let n = Math.min(topic.length, deepest); n >= 1; n--) {
    const page = topicHelp(COMMANDS, topic.slice(0, n));
    if (page) return page;
  }
  return undefined;
}
