/**
 * @module cli/commands/get
 * `weft get KIND [NAME...]`: lists or fetches objects of one kind in its preferred version and prints
 * them as a table (with Istio's printer columns), YAML or JSON, like `kubectl get`.
 */
import { isRecord } from "../../control/validation/raw-value.js";
import type { Command, CommandContext } from "../command.js";
import { NAMESPACE_OPTION } from "../common-options.js";
import { ServerError, UsageError } from "../errors.js";
import { OUTPUT_FORMATS, formatObjects, type OutputFormat } from "../print-objects.js";
import { DEFAULT_NAMESPACE, resourcePath } from "../resource-ref.js";
import { resolveKind } from "../resolve-kind.js";

export const getCommand: Command = {
  path: ["get"],
  synopsis: "KIND [NAME...] [-n NS | -A] [-o yaml|json|wide] [-l SELECTOR]",
  summary: "List resources of a kind, or show named ones",
  options: {
    ...NAMESPACE_OPTION,
    "all-namespaces": { type: "boolean", short: "A" },
    output: { type: "string", short: "o" },
    selector: { type: "string", short: "l" },
  },
  flagHelp: [
    "-n, --namespace NS          namespace to look in (default \"default\")",
    "-A, --all-namespaces        list across every namespace",
    "-o, --output FORMAT         yaml, json or wide (default: a table)",
    "-l, --selector SELECTOR     label selector, e.g. app=reviews,version!=v1",
  ],
  notes: ["KIND is a kind's name, plural, short name or qualified name: VirtualService, virtualservices, vs,", "virtualservice.networking.istio.io. 'weft help' lists the kinds."],
  run: get,
};

async function get(ctx: CommandContext): Promise<number> {
  const [alias, ...names] = ctx.args;
  if (alias === undefined) throw new UsageError("you must specify the type of resource to get, e.g. weft get virtualservices", "get");
  const format = outputFormat(ctx.flags.string("output"));
  const allNamespaces = ctx.flags.boolean("all-namespaces");
  const selector = ctx.flags.string("selector");
  if (allNamespaces && names.length > 0) throw new UsageError("a resource cannot be retrieved by name across all namespaces", "get");
  if (selector !== undefined && names.length > 0) throw new UsageError("name cannot be provided when a selector is specified", "get");
  const kind = resolveKind(alias);
  const namespace = allNamespaces ? undefined : ctx.flags.string("namespace") ?? DEFAULT_NAMESPACE;
  const client = ctx.client();

  let objects: Record<string, unknown>[] = [];
  let failed = false;
  if (names.length === 0) {
    const list = await client.request("GET", resourcePath(kind, namespace), { query: { labelSelector: selector } });
    objects = isRecord(list) && Array.isArray(list.items) ? list.items.filter(isRecord) : [];
  } else {
    for (const name of names) {
      try {
        const object = await client.request("GET", resourcePath(kind, namespace, name));
        if (isRecord(object)) objects.push(object);
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        for (const line of err.lines()) ctx.err(line);
        failed = true;
      }
    }
  }

  if (objects.length === 0) {
    if (names.length > 0) return 1; // every named object failed, and its error is printed
    if (format === "table" || format === "wide") {
      ctx.err(namespace === undefined ? "No resources found" : `No resources found in ${namespace} namespace.`);
      return 0;
    }
  }
  const lines = formatObjects(kind, objects, { format, asList: names.length !== 1, allNamespaces, now: ctx.io.now() });
  for (const line of lines) ctx.out(line);
  return failed ? 1 : 0;
}

function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return "table";
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: ${OUTPUT_FORMATS.join(",")}`, "get");
}
