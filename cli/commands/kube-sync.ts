/**
 * @module cli/commands/kube-sync
 * `weft kube-sync`: a cluster sync agent. Lists every Service and EndpointSlice of a Kubernetes
 * cluster with the official client (`@kubernetes/client-node`, from a kubeconfig), strips what the
 * registry has no use for (`managedFields`, the last-applied annotation), and replaces that cluster's
 * set in the control plane's registry (`PUT /v1/registry/kubernetes/{cluster}`), once or every
 * interval. One summary line per sync. The client is imported on first use: it takes a second to
 * load, which no other command should pay.
 */
import { isAbsolute, resolve } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseDurationMs } from "../../control/validation/primitives.js";
import type { Command, CommandContext } from "../command.js";
import { CliError, InputError, UsageError } from "../errors.js";

const TOPIC = "kube-sync";
const DEFAULT_INTERVAL = "10s";
const MIN_INTERVAL_MS = 1000;
const PAGE_SIZE = 500;
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** The Kubernetes API server refused a list, or could not be reached. */
export class KubernetesApiFailed extends CliError {
  constructor(message: string) {
    super("ERR_UNREACHABLE", message);
  }
}

/** What the control plane answers to a sync. */
interface SyncResult {
  cluster: string;
  services: number;
  endpointSlices: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  changed: boolean;
  registryRevision: number;
}

type KubeJson = Record<string, unknown> & { metadata?: Record<string, unknown> };
type KubeClient = typeof import("@kubernetes/client-node");

export const kubeSyncCommand: Command = {
  path: ["kube-sync"],
  synopsis: "--kubeconfig PATH [--context C] [--cluster-name NAME] [--once | --interval 10s]",
  summary: "Sync a Kubernetes cluster's Services and EndpointSlices into the registry",
  options: {
    kubeconfig: { type: "string" },
    context: { type: "string" },
    "cluster-name": { type: "string" },
    once: { type: "boolean" },
    interval: { type: "string" },
  },
  flagHelp: [
    "    --kubeconfig PATH       the kubeconfig to read the cluster from (default $KUBECONFIG)",
    "    --context C             the kubeconfig context to use (default its current context)",
    "    --cluster-name NAME     the cluster's name in the registry (default the context's cluster, made a DNS name)",
    "    --once                  sync once and exit",
    "    --interval DURATION     time between syncs when running on (default 10s)",
  ],
  notes: [
    "Each sync replaces the cluster's whole set in one transaction; an unchanged set writes nothing.",
    "Needs an admin token (--token, WEFT_TOKEN or .dev.vars), and list access to services and",
    "endpointslices.discovery.k8s.io in all namespaces.",
  ],
  run: kubeSync,
};

async function kubeSync(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const once = ctx.flags.boolean("once");
  const intervalText = ctx.flags.string("interval");
  if (once && intervalText !== undefined) throw new UsageError("--once and --interval exclude each other", TOPIC);
  const intervalMs = parseDurationMs(intervalText ?? DEFAULT_INTERVAL);
  if (intervalMs === undefined || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval "${intervalText}" must be a duration of at least 1s, such as 10s or 1m`, TOPIC);

  const client = ctx.client();
  const kube = await import("@kubernetes/client-node");
  const kubeconfig = loadKubeConfig(ctx, kube);
  const cluster = clusterName(ctx, kubeconfig);
  const core = kubeconfig.makeApiClient(kube.CoreV1Api);
  const discovery = kubeconfig.makeApiClient(kube.DiscoveryV1Api);
  const listAll = <T>(what: string, page: Page<T>) => listPages(kube, what, page);

  const syncOnce = async (): Promise<void> => {
    const [services, endpointSlices] = await Promise.all([
      listAll("services", (cont) => core.listServiceForAllNamespaces({ limit: PAGE_SIZE, ...(cont ? { _continue: cont } : {}) })),
      listAll("endpointslices", (cont) => discovery.listEndpointSliceForAllNamespaces({ limit: PAGE_SIZE, ...(cont ? { _continue: cont } : {}) })),
    ]);
    const body = {
      services: services.map((s) => toKubernetesJson(s, "v1", "Service")),
      endpointSlices: endpointSlices.map((s) => toKubernetesJson(s, "discovery.k8s.io/v1", "EndpointSlice")),
    };
    const result = (await client.request("PUT", `/v1/registry/kubernetes/${encodeURIComponent(cluster)}`, {
      body: JSON.stringify(body),
      contentType: "application/json",
    })) as SyncResult;
    ctx.out(summary(result));
  };

  if (once) {
    await syncOnce();
    return 0;
  }
  for (;;) {
    try {
      await syncOnce();
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      for (const line of error.lines()) ctx.err(line);
    }
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}

function loadKubeConfig(ctx: CommandContext, kube: KubeClient): KubeConfig {
  const given = ctx.flags.string("kubeconfig") ?? ctx.io.env.KUBECONFIG?.split(":")[0];
  if (!given) throw new UsageError("a kubeconfig is required: --kubeconfig PATH (or set KUBECONFIG)", TOPIC);
  const path = isAbsolute(given) ? given : resolve(ctx.io.cwd, given);
  const kubeconfig = new kube.KubeConfig();
  try {
    kubeconfig.loadFromFile(path);
  } catch (error) {
    throw new InputError(`cannot read the kubeconfig ${path}: ${(error as Error).message}`);
  }
  const context = ctx.flags.string("context");
  if (context !== undefined) {
    if (!kubeconfig.getContextObject(context)) {
      const known = kubeconfig.getContexts().map((c) => c.name);
      throw new UsageError(`the kubeconfig has no context "${context}"; it has: ${known.join(", ") || "none"}`, TOPIC);
    }
    kubeconfig.setCurrentContext(context);
  }
  if (!kubeconfig.getCurrentCluster()) throw new InputError(`the kubeconfig ${path} names no cluster for context "${kubeconfig.getCurrentContext()}"`);
  return kubeconfig;
}

const CLUSTER_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `--cluster-name`, or the context's cluster name made an RFC 1123 subdomain (`gke_p_z_c` → `gke-p-z-c`). */
function clusterName(ctx: CommandContext, kubeconfig: KubeConfig): string {
  const given = ctx.flags.string("cluster-name");
  if (given !== undefined) {
    if (!CLUSTER_NAME.test(given)) throw new UsageError(`--cluster-name "${given}" must be an RFC 1123 subdomain (lowercase alphanumerics, '-' and '.')`, TOPIC);
    return given;
  }
  const derived = kubeconfig
    .getCurrentCluster()!
    .name.toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 253)
    .replace(/[-.]+$/, "");
  if (!CLUSTER_NAME.test(derived)) throw new UsageError(`cannot make a cluster name from the kubeconfig's "${kubeconfig.getCurrentCluster()!.name}": pass --cluster-name NAME`, TOPIC);
  return derived;
}

type Page<T> = (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>;

/** Every item of a list, following `continue` tokens. */
async function listPages<T>(kube: KubeClient, what: string, page: Page<T>): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    let list: { items: T[]; metadata?: { _continue?: string } };
    try {
      list = await page(cont);
    } catch (error) {
      throw kubernetesFailure(kube, what, error);
    }
    items.push(...list.items);
    cont = list.metadata?._continue || undefined;
  } while (cont);
  return items;
}

function kubernetesFailure(kube: KubeClient, what: string, error: unknown): CliError {
  if (error instanceof kube.ApiException) {
    const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body);
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not a Status: keep the text
    }
    return new KubernetesApiFailed(`the Kubernetes API refused to list ${what} (HTTP ${error.code}): ${message}`);
  }
  return new KubernetesApiFailed(`cannot list ${what} from the Kubernetes API: ${(error as Error)?.message ?? String(error)}`);
}

/** The object as Kubernetes serves it (dates as RFC 3339 text), with its kind, less managedFields and the last-applied annotation. */
function toKubernetesJson(item: unknown, apiVersion: string, kind: string): KubeJson {
  const object = JSON.parse(JSON.stringify(item)) as KubeJson;
  const metadata = { ...(object.metadata ?? {}) };
  delete metadata.managedFields;
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { apiVersion, kind, ...object, metadata };
}

function summary(r: SyncResult): string {
  const counts = `${r.services} services, ${r.endpointSlices} endpoint slices`;
  const change = r.changed ? `${r.added} added, ${r.updated} updated, ${r.removed} removed` : "unchanged";
  return `cluster "${r.cluster}": ${counts}; ${change} (registry revision ${r.registryRevision})`;
}
