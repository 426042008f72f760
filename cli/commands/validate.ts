/**
 * @module cli/commands/validate
 * `weft validate -f FILE|DIR|-`: checks documents offline with the control plane's own validator, so
 * what it accepts the server accepts. Prints a `valid` line per good object and a line per problem.
 */
import { qualifiedName } from "../../control/resources/kinds.js";
import { validateResource } from "../../control/validation/validate-resource.js";
import type { Command, CommandContext } from "../command.js";
import { FILENAME_HELP, FILENAME_OPTIONS, NAMESPACE_HELP, NAMESPACE_OPTION } from "../common-options.js";
import { InputError, UsageError } from "../errors.js";
import { problemLine } from "../problem-line.js";
import { parseSource, readSources } from "../read-sources.js";
import { DEFAULT_NAMESPACE, describeDocument } from "../resource-ref.js";

export const validateCommand: Command = {
  path: ["validate"],
  synopsis: "-f FILE|DIR|- [-R] [-n NS]",
  summary: "Check resources offline, without a control plane",
  options: { ...FILENAME_OPTIONS, ...NAMESPACE_OPTION },
  flagHelp: [...FILENAME_HELP, NAMESPACE_HELP],
  run: validate,
};

async function validate(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}": validate reads objects from -f`, "validate");
  const paths = ctx.flags.strings("filename");
  if (paths.length === 0) throw new UsageError("must specify -f FILE|DIR|-", "validate");
  const defaultNamespace = ctx.flags.string("namespace") ?? DEFAULT_NAMESPACE;
  const sources = await readSources(paths, { cwd: ctx.io.cwd, recursive: ctx.flags.boolean("recursive"), readStdin: ctx.io.readStdin });
  let failed = false;
  for (const source of sources) {
    let docs: unknown[];
    try {
      docs = parseSource(source);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      ctx.err(err.message);
      failed = true;
      continue;
    }
    docs.forEach((doc, index) => {
      const result = validateResource(doc, { defaultNamespace });
      if (result.ok) {
        ctx.out(`${qualifiedName(result.value.kind)}/${result.value.name} valid`);
        return;
      }
      failed = true;
      const object = describeDocument(doc);
      for (const error of result.errors) ctx.err(`${source.name}: ${problemLine({ document: index, object, ...error })}`);
    });
  }
  return failed ? 1 : 0;
}
