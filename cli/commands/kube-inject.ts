/**
 * @module cli/commands/kube-inject
 * `weft kube-inject -f FILE|-`: offline sidecar injection, like `istioctl kube-inject`. Injects the pod
 * template of every workload in the manifests with exactly the patch the control plane's injection
 * webhook would send, and prints every document (other kinds unchanged) to stdout or to `-o FILE`.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { WeftError } from "../../control/errors.js";
import { injectManifest } from "../../control/injection/inject-manifest.js";
import { DEFAULT_PROXY_IMAGE } from "../../control/injection/injection-options.js";
import type { Command, CommandContext } from "../command.js";
import { FILENAME_HELP, FILENAME_OPTIONS } from "../common-options.js";
import { InputError, UsageError } from "../errors.js";
import { readSources } from "../read-sources.js";

const TOPIC = "kube-inject";

export const kubeInjectCommand: Command = {
  path: ["kube-inject"],
  synopsis: "-f FILE|DIR|- [-o FILE] [--image IMAGE] [--control-plane-url URL]",
  summary: "Add the Weft sidecar to the workloads of Kubernetes manifests, offline",
  options: {
    ...FILENAME_OPTIONS,
    output: { type: "string", short: "o" },
    image: { type: "string" },
    "control-plane-url": { type: "string" },
  },
  flagHelp: [
    ...FILENAME_HELP,
    "-o, --output FILE           write the result to FILE (replacing it) instead of stdout",
    `    --image IMAGE           the sidecar image (default $WEFT_PROXY_IMAGE, else ${DEFAULT_PROXY_IMAGE})`,
    "    --control-plane-url URL the control plane's public URL for the proxies (default $WEFT_PUBLIC_URL,",
    "                            else --server or $WEFT_URL)",
  ],
  notes: [
    "Injects Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs,",
    "CronJobs and the items of a List; prints other documents unchanged. Honours the same",
    "sidecar.istio.io/* and traffic.sidecar.istio.io/* annotations as the webhook (docs/injection.md);",
    "a workload left alone is named on stderr with the reason.",
  ],
  run: kubeInject,
};

function controlPlaneUrl(ctx: CommandContext): string {
  const raw = ctx.flags.string("control-plane-url") || ctx.io.env.WEFT_PUBLIC_URL || ctx.flags.string("server") || ctx.flags.string("url") || ctx.io.env.WEFT_URL;
  if (!raw) throw new UsageError("the proxies need the control plane's URL: pass --control-plane-url URL (or set WEFT_PUBLIC_URL)", TOPIC);
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw new UsageError(`invalid control plane URL "${raw}": give an absolute http or https URL such as https://weft.example.com`, TOPIC);
  }
  return raw.replace(/\/+$/, "");
}

async function kubeInject(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}": kube-inject reads manifests from -f`, TOPIC);
  const paths = ctx.flags.strings("filename");
  if (paths.length === 0) throw new UsageError("must specify -f FILE|DIR|-", TOPIC);
  const options = {
    image: ctx.flags.string("image") || ctx.io.env.WEFT_PROXY_IMAGE || DEFAULT_PROXY_IMAGE,
    controlPlaneUrl: controlPlaneUrl(ctx),
    defaultPolicy: "enabled" as const,
  };
  const sources = await readSources(paths, { cwd: ctx.io.cwd, recursive: ctx.flags.boolean("recursive"), readStdin: ctx.io.readStdin });
  const outputs: string[] = [];
  for (const source of sources) {
    let result;
    try {
      result = injectManifest(source.text, options);
    } catch (err) {
      if (err instanceof WeftError) throw new InputError(`${source.name}: ${err.message}`);
      throw err;
    }
    if (result.text !== "") outputs.push(result.text);
    for (const w of result.workloads) if (!w.injected) ctx.err(`${source.name}: ${w.object} not injected: ${w.reason ?? "left alone"}`);
  }
  const text = outputs.join("---\n");
  const output = ctx.flags.string("output");
  if (output === undefined || output === "-") {
    ctx.io.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(resolve(ctx.io.cwd, output), text);
  } catch (err) {
    throw new InputError(`cannot write "${output}": ${(err as Error).message}`);
  }
  return 0;
}
