/**
 * @module cli/command
 * The contract each `weft` command keeps: its words, its flags, its help text and a `run` that gets
 * everything it may touch through a `CommandContext`, and answers with the exit code.
 */
import type { Flags, OptionsConfig } from "./argv.js";
import type { ControlPlaneClient } from "./http-client.js";
import type { CliIo } from "./io.js";

export interface CommandContext {
  /** Positional arguments after the command words. */
  args: string[];
  flags: Flags;
  io: CliIo;
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** The client for the control plane; resolves URL and token on first use (so offline commands need none). */
  client(): ControlPlaneClient;
}

export interface Command {
  /** The command words: `["apply"]`, `["token", "create"]`. */
  path: readonly string[];
  /** Arguments after the words, for usage lines: `-f FILE|DIR|- [-n NS] [--dry-run]`. */
  synopsis: string;
  summary: string;
  /** Command-specific flags (global ones are added by the dispatcher). */
  options: OptionsConfig;
  /** One line per flag for `weft help COMMAND`. */
  flagHelp: readonly string[];
  /** Further lines for `weft help COMMAND`, after the flags. */
  notes?: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

/** `apply`, `token create`. */
export function commandName(command: Command): string {
  return command.path.join(" ");
}
