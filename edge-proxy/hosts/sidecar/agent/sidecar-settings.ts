/**
 * @module hosts/sidecar/agent/sidecar-settings
 * The sidecar's settings, read as pilot-agent reads its own: from the environment the injector gives
 * the `weft-proxy` container (docs/injection.md) and from flags, a flag winning over its variable.
 * Pure: the environment, the arguments and a file reader come in, so it is tested without a Pod.
 * Every bad value is reported at once, each naming the variable or flag and the rule it breaks.
 *
 * | setting | flag | variable | default |
 * | --- | --- | --- | --- |
 * | control plane | `--control-plane-url` | `WEFT_CONTROL_PLANE_URL` | required |
 * | credential | `--token-file` / `--join-token-file` | `WEFT_JOIN_TOKEN` | the projected token `/var/run/secrets/tokens/istio-token` |
 * | identity | | `POD_NAME`, `POD_NAMESPACE`, `SERVICE_ACCOUNT`, `INSTANCE_IP` | required |
 * | labels | `--labels-file` (downward API) | `WEFT_LABELS` (JSON, over the file's) | `/etc/istio/pod/labels` |
 * | ports | | `ISTIO_META_POD_PORTS` | none |
 * | workload name | | `ISTIO_META_WORKLOAD_NAME` | none |
 * | trust domain | | `TRUST_DOMAIN` | `cluster.local` |
 * | config cache | `--data-dir` | `WEFT_DATA_DIR` | `/var/lib/istio/data` |
 * | certificate lifetime | | `WEFT_CERT_TTL` | the CA's default |
 * | drain | | `TERMINATION_DRAIN_DURATION_SECONDS` | 5 |
 * | app metrics to merge | | `ISTIO_PROMETHEUS_ANNOTATIONS` (`{"scrape","path","port"}`) | none; path `/metrics`, port 80 |
 */
import { isDns1123Label, isDns1123Subdomain } from "../../../../control/ca/authenticate/identity.js";
import { ipVersion, parseDurationMs } from "../../../../control/validation/primitives.js";
import type { ProxyRegistration, RegisteredPort } from "../../control-plane-client.js";
import type { WorkloadIdentity } from "./certificate-agent.js";
import type { CredentialSource } from "./credential.js";
import { parseDownwardApiLabels, parseJsonLabels } from "./pod-labels.js";
import { parsePodPorts } from "./pod-ports.js";

export const DEFAULT_TOKEN_FILE = "/var/run/secrets/tokens/istio-token";
export const DEFAULT_LABELS_FILE = "/etc/istio/pod/labels";
export const DEFAULT_DATA_DIR = "/var/lib/istio/data";
export const DEFAULT_TRUST_DOMAIN = "cluster.local";
export const DEFAULT_DRAIN_SECONDS = 5;
/** The CA issues nothing shorter. */
const MIN_CERT_TTL_MS = 60_000;

/** The flags `weft sidecar` takes (each also as `--flag=value`). */
export const SIDECAR_FLAGS = ["--control-plane-url", "--token-file", "--join-token-file", "--labels-file", "--data-dir"] as const;
type Flag = (typeof SIDECAR_FLAGS)[number];

export interface SidecarSettings {
  controlPlaneUrl: string;
  credential: CredentialSource;
  podName: string;
  namespace: string;
  serviceAccount: string;
  podIp: string;
  identity: WorkloadIdentity;
  labels: Record<string, string>;
  ports: RegisteredPort[];
  workloadName: string | undefined;
  /** Where the last applied config is kept. */
  dataDir: string;
  /** The certificate lifetime asked of the CA (a duration such as "24h"); the CA's default when absent. */
  certificateTtl: string | undefined;
  drainDurationMs: number;
  /** Where the application's metrics are scraped for the merged endpoint, when its prometheus.io annotations ask for it. */
  appMetrics: { port: number; path: string } | undefined;
  /** What the config agent registers: the Pod as a sidecar workload. */
  registration: ProxyRegistration;
  /** `<POD_NAME>.<POD_NAMESPACE>`. */
  proxyId: string;
}

export interface SettingsProblem {
  /** The variable or flag, e.g. `INSTANCE_IP` or `--labels-file`. */
  name: string;
  message: string;
}

/** The settings cannot be used; `problems` names each variable or flag. */
export class SidecarSettingsError extends Error {
  readonly code = "SidecarSettingsError";
  readonly problems: SettingsProblem[];
  constructor(problems: SettingsProblem[]) {
    super(`the sidecar's settings are invalid:\n${problems.map((p) => `  ${p.name}: ${p.message}`).join("\n")}`);
    this.name = "SidecarSettingsError";
    this.problems = problems;
  }
}

/** Reads a file's text; throws (with `code` ENOENT when absent) otherwise. */
export type ReadTextFile = (path: string) => string;

function readFlags(argv: readonly string[], problems: SettingsProblem[]): Partial<Record<Flag, string>> {
  const flags: Partial<Record<Flag, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const equals = arg.indexOf("=");
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (!(SIDECAR_FLAGS as readonly string[]).includes(name)) {
      problems.push({ name: arg, message: `unknown ${arg.startsWith("-") ? "flag" : "argument"}: the flags are ${SIDECAR_FLAGS.join(", ")}` });
      continue;
    }
    const value = equals > 0 ? arg.slice(equals + 1) : argv[++i];
    if (value === undefined || value === "" || (equals < 0 && value.startsWith("--"))) {
      problems.push({ name, message: "needs a value" });
      if (value?.startsWith("--")) i--;
      continue;
    }
    if (flags[name as Flag] !== undefined) problems.push({ name, message: "is given twice" });
    flags[name as Flag] = value;
  }
  return flags;
}

export function readSidecarSettings(env: Readonly<Record<string, string | undefined>>, argv: readonly string[], readFile: ReadTextFile): SidecarSettings {
  const problems: SettingsProblem[] = [];
  const problem = (name: string, message: string) => void problems.push({ name, message });
  const flags = readFlags(argv, problems);
  const variable = (name: string) => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };

  // The control plane.
  const urlName = flags["--control-plane-url"] !== undefined ? "--control-plane-url" : "WEFT_CONTROL_PLANE_URL";
  const urlText = flags["--control-plane-url"] ?? variable("WEFT_CONTROL_PLANE_URL");
  let controlPlaneUrl = "";
  if (urlText === undefined) problem("WEFT_CONTROL_PLANE_URL", "is required (or --control-plane-url): the control plane's http(s) URL, e.g. https://weft.example.com");
  else {
    let url: URL | undefined;
    try {
      url = new URL(urlText);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) problem(urlName, `"${urlText}" is not an http(s) URL`);
    else if (url.search !== "" || url.hash !== "") problem(urlName, `"${urlText}" must not carry a query or fragment`);
    else controlPlaneUrl = urlText.replace(/\/+$/, "");
  }

  // The credential: exactly one of a token file, a join token, a join-token file.
  const given = [
    flags["--token-file"] !== undefined ? "--token-file" : undefined,
    variable("WEFT_JOIN_TOKEN") !== undefined ? "WEFT_JOIN_TOKEN" : undefined,
    flags["--join-token-file"] !== undefined ? "--join-token-file" : undefined,
  ].filter((n): n is string => n !== undefined);
  if (given.length > 1) problem(given[1]!, `conflicts with ${given[0]}: give one credential (a service-account token file, a join token, or a join-token file)`);
  let credential: CredentialSource = { kind: "service-account-token", path: flags["--token-file"] ?? DEFAULT_TOKEN_FILE };
  if (flags["--join-token-file"] !== undefined) credential = { kind: "join-token-file", path: flags["--join-token-file"] };
  else if (variable("WEFT_JOIN_TOKEN") !== undefined) credential = { kind: "join-token", token: variable("WEFT_JOIN_TOKEN")! };

  // The Pod's identity, from the downward API.
  const required = (name: string, rule: (v: string) => boolean, ruleText: string): string => {
    const value = variable(name);
    if (value === undefined) problem(name, `is required (the injector sets it from the downward API): ${ruleText}`);
    else if (!rule(value)) problem(name, `"${value}" ${ruleText}`);
    return value ?? "";
  };
  const podName = required("POD_NAME", isDns1123Subdomain, "must be an RFC 1123 subdomain: dot-separated lowercase labels, at most 253 characters");
  const namespace = required("POD_NAMESPACE", isDns1123Label, "must be an RFC 1123 label: lowercase alphanumerics and '-', at most 63 characters");
  const serviceAccount = required("SERVICE_ACCOUNT", isDns1123Subdomain, "must be an RFC 1123 subdomain: dot-separated lowercase labels, at most 253 characters");
  const podIp = required("INSTANCE_IP", (v) => ipVersion(v) !== undefined, "must be an IPv4 or IPv6 address");

  const trustDomain = variable("TRUST_DOMAIN") ?? DEFAULT_TRUST_DOMAIN;
  if (!/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(trustDomain) || trustDomain.length > 255) {
    problem("TRUST_DOMAIN", `"${trustDomain}" must be a SPIFFE trust domain: lowercase letters, digits, '.', '-' and '_', such as cluster.local`);
  }

  // Labels: the downward-API file, then WEFT_LABELS over it.
  const labelsFile = flags["--labels-file"] ?? DEFAULT_LABELS_FILE;
  let labels: Record<string, string> = {};
  let fileText: string | undefined;
  try {
    fileText = readFile(labelsFile);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    // Outside a Pod (a VM, a test) the default file is simply absent; a file named by the flag must exist.
    if (code !== "ENOENT" || flags["--labels-file"] !== undefined) problem("--labels-file", `cannot read ${labelsFile}: ${typeof code === "string" ? code : String(cause)}`);
  }
  if (fileText !== undefined) {
    const parsed = parseDownwardApiLabels(fileText);
    if (parsed.ok) labels = parsed.labels;
    else for (const p of parsed.problems) problem("--labels-file", `${labelsFile} ${p}`);
  }
  const labelsJson = variable("WEFT_LABELS");
  if (labelsJson !== undefined) {
    const parsed = parseJsonLabels(labelsJson);
    if (parsed.ok) labels = { ...labels, ...parsed.labels };
    else for (const p of parsed.problems) problem("WEFT_LABELS", p);
  }

  let ports: RegisteredPort[] = [];
  const portsJson = variable("ISTIO_META_POD_PORTS");
  if (portsJson !== undefined) {
    const parsed = parsePodPorts(portsJson);
    if (parsed.ok) ports = parsed.ports;
    else for (const p of parsed.problems) problem("ISTIO_META_POD_PORTS", p);
  }

  const workloadName = variable("ISTIO_META_WORKLOAD_NAME");
  if (workloadName !== undefined && !isDns1123Subdomain(workloadName)) problem("ISTIO_META_WORKLOAD_NAME", `"${workloadName}" must be an RFC 1123 subdomain (a Deployment's name)`);

  const dataDir = flags["--data-dir"] ?? variable("WEFT_DATA_DIR") ?? DEFAULT_DATA_DIR;

  const certificateTtl = variable("WEFT_CERT_TTL");
  if (certificateTtl !== undefined) {
    const ms = parseDurationMs(certificateTtl);
    if (ms === undefined) problem("WEFT_CERT_TTL", `"${certificateTtl}" is not a duration such as 24h or 90m`);
    else if (ms < MIN_CERT_TTL_MS) problem("WEFT_CERT_TTL", `"${certificateTtl}" is shorter than the CA's minimum of 1m`);
  }

  const drainText = variable("TERMINATION_DRAIN_DURATION_SECONDS");
  let drainDurationMs = DEFAULT_DRAIN_SECONDS * 1000;
  if (drainText !== undefined) {
    if (!/^\d{1,6}$/.test(drainText)) problem("TERMINATION_DRAIN_DURATION_SECONDS", `"${drainText}" must be a whole number of seconds (0 or more)`);
    else drainDurationMs = Number(drainText) * 1000;
  }

  const appMetrics = readAppMetrics(variable("ISTIO_PROMETHEUS_ANNOTATIONS"), problem);

  if (problems.length > 0) throw new SidecarSettingsError(problems);
  return {
    controlPlaneUrl,
    credential,
    podName,
    namespace,
    serviceAccount,
    podIp,
    identity: { trustDomain, namespace, serviceAccount },
    labels,
    ports,
    workloadName,
    dataDir,
    certificateTtl,
    drainDurationMs,
    appMetrics,
    registration: { kind: "sidecar", name: podName, namespace, serviceAccount, address: podIp, labels, ports },
    proxyId: `${podName}.${namespace}`,
  };
}

/** ISTIO_PROMETHEUS_ANNOTATIONS, the pod's prometheus.io annotations as Istio's injector passes them. */
function readAppMetrics(text: string | undefined, problem: (name: string, message: string) => void): { port: number; path: string } | undefined {
  if (text === undefined) return undefined;
  const name = "ISTIO_PROMETHEUS_ANNOTATIONS";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problem(name, 'must be a JSON object such as {"scrape":"true","path":"/metrics","port":"8080"}');
    return undefined;
  }
  const { scrape, path, port } = value as Record<string, unknown>;
  if (String(scrape ?? "true").toLowerCase() === "false") return undefined;
  const portText = port === undefined || port === "" ? "80" : String(port);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    problem(name, `port "${portText}" must be a whole number from 1 to 65535`);
    return undefined;
  }
  const pathText = path === undefined || path === "" ? "/metrics" : String(path);
  if (!pathText.startsWith("/")) {
    problem(name, `path "${pathText}" must start with /`);
    return undefined;
  }
  return { port: Number(portText), path: pathText };
}
