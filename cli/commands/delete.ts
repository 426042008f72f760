/**
 * @module cli/commands/delete
 * `weft delete -f FILE|DIR|-` deletes every object the files describe; `weft delete KIND NAME...`
 * deletes by name. Like kubectl, a failure (say NotFound) is printed and the rest still go; the exit
 * code is 1 if any failed.
 */
import type { KindInfo } from "../../control/resources/kinds.js";
import { isRecord } from "../../control/validation/raw-value.js";
import type { Command, CommandContext } from "../command.js";
import { FILENAME_HELP, FILENAME_OPTIONS, NAMESPACE_HELP, NAMESPACE_OPTION } from "../common-options.js";
import { ServerError, UsageError } from "../errors.js";
import { problemLine } from "../problem-line.js";
import { parseSource, readSources } from "../read-sources.js";
import { DEFAULT_NAMESPACE, describeDocument, kindOf, objectRef, resourcePath } from "../resource-ref.js";
import { resolveKind } from "../resolve-kind.js";

interface Target {
  kind: KindInfo;
  namespace: string;
  name: string;
}

export const deleteCommand: Command = {
  path: ["delete"],
  synopsis: "-f FILE|DIR|- [-R] | KIND NAME... [-n NS]",
  summary: "Delete the resources files describe, or resources by kind and name",
  options: { ...FILENAME_OPTIONS, ...NAMESPACE_OPTION },
  flagHelp: [...FILENAME_HELP, NAMESPACE_HELP],
  run: deleteResources,
};

async function deleteResources(ctx: CommandContext): Promise<number> {
  const paths = ctx.flags.strings("filename");
  if (paths.length > 0 && ctx.args.length > 0) throw new UsageError("give either -f or KIND NAME, not both", "delete");
  const defaultNamespace = ctx.flags.string("namespace") ?? DEFAULT_NAMESPACE;
  let failed = false;
  let targets: Target[];
  if (paths.length > 0) {
    const fromFiles = await targetsFromFiles(ctx, paths, defaultNamespace);
    targets = fromFiles.targets;
    failed = fromFiles.failed;
  } else {
    targets = targetsFromArgs(ctx.args, defaultNamespace);
  }

  const client = ctx.client();
  for (const target of targets) {
    try {
      await client.request("DELETE", resourcePath(target.kind, target.namespace, target.name));
      ctx.out(`${objectRef(target.kind, target.name)} deleted`);
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      for (const line of err.lines()) ctx.err(line);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

function targetsFromArgs(args: readonly string[], namespace: string): Target[] {
  const [alias, ...names] = args;
  if (alias === undefined) throw new UsageError("you must specify -f FILE or the type and name of the resource to delete", "delete");
  const kind = resolveKind(alias);
  if (names.length === 0) throw new UsageError(`resource name required: weft delete ${alias} NAME`, "delete");
  return names.map((name) => ({ kind, namespace, name }));
}

async function targetsFromFiles(
  ctx: CommandContext,
  paths: readonly string[],
  defaultNamespace: string,
): Promise<{ targets: Target[]; failed: boolean }> {
  const sources = await readSources(paths, { cwd: ctx.io.cwd, recursive: ctx.flags.boolean("recursive"), readStdin: ctx.io.readStdin });
  const targets: Target[] = [];
  let failed = false;
  for (const source of sources) {
    parseSource(source).forEach((doc, index) => {
      const target = targetOf(doc, defaultNamespace);
      if (target) {
        targets.push(target);
      } else {
        ctx.err(`error: ${source.name}: ${problemLine({ document: index, object: describeDocument(doc), message: "not an object of a kind Weft serves, with a metadata.name" })}`);
        failed = true;
      }
    });
  }
  return { targets, failed };
}

function targetOf(doc: unknown, defaultNamespace: string): Target | undefined {
  if (!isRecord(doc) || !isRecord(doc.metadata)) return undefined;
  const kind = kindOf(doc.apiVersion, doc.kind);
  const { name, namespace } = doc.metadata;
  if (!kind || typeof name !== "string" || name === "") return undefined;
  return { kind, name, namespace: typeof namespace === "string" && namespace !== "" ? namespace : defaultNamespace };
}
