/**
 * @module cli/read-sources
 * Reads what `-f` names, as kubectl does: a file, every *.yaml, *.yml and *.json file of a directory
 * (its subdirectories too with `-R`), or standard input for `-`. Each source is then parsed with the
 * control plane's own `parseDocuments`, so the CLI and the server read a document the same way.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { parseDocuments, type BodyFormat } from "../control/resources/parse-documents.js";
import { WeftError } from "../control/errors.js";
import { InputError } from "./errors.js";

/** One file (or standard input) and its text. */
export interface Source {
  /** The path as the user wrote it (joined with the file name for directory entries); `<stdin>` for `-`. */
  name: string;
  text: string;
  format: BodyFormat;
}

export interface ReadSourcesOptions {
  cwd: string;
  recursive: boolean;
  readStdin(): Promise<string>;
}

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
export const STDIN_NAME = "<stdin>";

/** Reads every `-f` argument, in order; throws `InputError` for a missing path. */
export async function readSources(paths: readonly string[], options: ReadSourcesOptions): Promise<Source[]> {
  const sources: Source[] = [];
  let stdinText: string | undefined;
  for (const path of paths) {
    if (path === "-") {
      stdinText ??= await options.readStdin();
      sources.push({ name: STDIN_NAME, text: stdinText, format: sniffFormat(stdinText) });
      continue;
    }
    const absolute = resolve(options.cwd, path);
    const info = await stat(absolute).catch(() => undefined);
    if (info === undefined) throw new InputError(`the path "${path}" does not exist`);
    if (info.isDirectory()) {
      for (const file of await listManifests(absolute, path, options.recursive)) sources.push(await readSource(file.absolute, file.shown));
    } else {
      sources.push(await readSource(absolute, path));
    }
  }
  return sources;
}

/** Parses one source; a syntax error becomes an `InputError` naming the file. */
export function parseSource(source: Source): unknown[] {
  try {
    return parseDocuments(source.text, source.format);
  } catch (err) {
    if (err instanceof WeftError) throw new InputError(`${source.name}: ${err.message}`);
    throw err;
  }
}

async function readSource(absolute: string, shown: string): Promise<Source> {
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (err) {
    throw new InputError(`cannot read "${shown}": ${(err as Error).message}`);
  }
  return { name: shown, text, format: extname(absolute).toLowerCase() === ".json" ? "json" : "yaml" };
}

interface ListedFile {
  absolute: string;
  shown: string;
}

async function listManifests(absolute: string, shown: string, recursive: boolean): Promise<ListedFile[]> {
  const entries = await readdir(absolute, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: ListedFile[] = [];
  for (const entry of entries) {
    const child = { absolute: join(absolute, entry.name), shown: join(shown, entry.name) };
    if (entry.isDirectory()) {
      if (recursive) files.push(...(await listManifests(child.absolute, child.shown, true)));
    } else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push(child);
    }
  }
  return files;
}

/** Standard input has no file name: JSON if it starts like JSON, YAML otherwise. */
function sniffFormat(text: string): BodyFormat {
  const first = text.trimStart()[0];
  return first === "{" || first === "[" ? "json" : "yaml";
}
