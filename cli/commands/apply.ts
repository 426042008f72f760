/**
 * @module cli/commands/apply
 * `weft apply -f FILE|DIR|-`: sends every document in one `POST /v1/apply` (all stored or none) and
 * prints what happened to each object, as `kubectl apply` does.
 */
import type { Command, CommandContext } from "../command.js";
import { FILENAME_HELP, FILENAME_OPTIONS, NAMESPACE_HELP, NAMESPACE_OPTION } from "../common-options.js";
import { InputError, ServerError, UsageError } from "../errors.js";
import { problemLine } from "../problem-line.js";
import { parseSource, readSources } from "../read-sources.js";
import { describeDocument } from "../resource-ref.js";

/** One entry of the server's `ApplyResult`. */
interface ApplyItem {
  apiVersion: string;
  kind: string;
  name: string;
  action: string;
}

export const applyCommand: Command = {
  path: ["apply"],
  synopsis: "-f FILE|DIR|- [-R] [-n NS] [--dry-run]",
  summary: "Create or update resources from files, directories or stdin (all or nothing)",
  options: { ...FILENAME_OPTIONS, ...NAMESPACE_OPTION, "dry-run": { type: "boolean" } },
  flagHelp: [...FILENAME_HELP, NAMESPACE_HELP, "    --dry-run               validate and report on the server without storing"],
  run: apply,
};

async function apply(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}": apply reads objects from -f`, "apply");
  const paths = ctx.flags.strings("filename");
  if (paths.length === 0) throw new UsageError("must specify -f FILE|DIR|-", "apply");
  const sources = await readSources(paths, { cwd: ctx.io.cwd, recursive: ctx.flags.boolean("recursive"), readStdin: ctx.io.readStdin });
  // Parsing here first names the file of a syntax error, which the server, seeing one joined body, cannot.
  const count = sources.reduce((total, source) => total + parseSource(source).length, 0);
  if (count === 0) throw new InputError("no objects passed to apply");

  const dryRun = ctx.flags.boolean("dry-run");
  let result: unknown;
  try {
    result = await ctx.client().request("POST", "/v1/apply", {
      query: { namespace: ctx.flags.string("namespace"), dryRun: dryRun ? "All" : undefined },
      body: sources.map((source) => source.text).join("\n---\n"),
      contentType: "application/yaml",
    });
  } catch (err) {
    const causes = err instanceof ServerError && err.status.code === 422 ? err.status.details?.causes : undefined;
    if (!causes || causes.length === 0) throw err;
    for (const cause of causes) ctx.err(`error: ${problemLine(cause)}`);
    return 1;
  }
  const suffix = dryRun ? " (dry run)" : "";
  for (const item of (result as { items?: ApplyItem[] }).items ?? []) ctx.out(`${itemRef(item)} ${item.action}${suffix}`);
  return 0;
}

function itemRef(item: ApplyItem): string {
  return describeDocument({ apiVersion: item.apiVersion, kind: item.kind, metadata: { name: item.name } });
}
