/**
 * @module cli/argv
 * Command-line parsing on `node:util`'s `parseArgs`. Flags may appear anywhere on the line, before or
 * after the command, as kubectl allows: a lenient first pass finds the command words, a strict second
 * pass checks the flags against the options that command (plus the global ones) accepts.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

export type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;
type FlagValue = string | boolean | (string | boolean)[] | undefined;

/** Flags every command accepts: where the control plane is, the token, help. */
export const GLOBAL_OPTIONS = {
  server: { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionsConfig;

/** Read access to parsed flag values by long name. */
export class Flags {
  readonly #values: Readonly<Record<string, FlagValue>>;

  constructor(values: Readonly<Record<string, FlagValue>>) {
    this.#values = values;
  }

  /** The last value of a string flag. */
  string(name: string): string | undefined {
    const value = this.#values[name];
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    return typeof last === "string" ? last : undefined;
  }

  /** Every value of a repeatable string flag, in order. */
  strings(name: string): string[] {
    const value = this.#values[name];
    const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return list.filter((v): v is string => typeof v === "string");
  }

  boolean(name: string): boolean {
    return this.#values[name] === true;
  }
}

/**
 * First pass: the positional words of `argv` (command words first) and whether help was asked for,
 * reading flags leniently with `knownOptions` so a flag's value is not taken for a word.
 */
export function scanWords(argv: readonly string[], knownOptions: OptionsConfig): { words: string[]; help: boolean } {
  const { values, positionals } = parseArgs({ args: [...argv], options: knownOptions, strict: false, allowPositionals: true });
  return { words: positionals, help: values.help === true };
}

/** Strictly parses `argv` against `options`; a bad flag becomes a `UsageError` for `helpTopic`. */
export function parseCommandLine(
  argv: readonly string[],
  options: OptionsConfig,
  helpTopic: string,
): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { flags: new Flags(values), positionals };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw err;
    const message = (err as Error).message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UsageError(`unknown flag: ${flag}`, helpTopic);
    }
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1), helpTopic);
  }
}

/** Merges option tables, e.g. every command's, for the lenient first pass. */
export function mergeOptions(tables: readonly OptionsConfig[]): OptionsConfig {
  return Object.assign({}, ...tables) as OptionsConfig;
}
