/**
 * @module cli/commands/proxy-config
 * `weft proxy-config routes|clusters|endpoints|secrets PROXY_ID [-o json|yaml]`: one part of the config
 * the control plane serves a proxy now (`GET /v1/proxies/{id}/config`), as `istioctl proxy-config`
 * shows Envoy's: routes per listener port, clusters with their policies, endpoints, and the trust
 * (roots and revoked serials). Needs a token that may read any proxy's config: the admin's.
 */
import { X509Certificate } from "node:crypto";
import { stringify } from "yaml";
import type {
  Cluster,
  OutlierDetection,
  ProxyConfig,
  Route,
  RouteMatch,
  StringMatch,
  TrustConfig,
} from "../../edge-proxy/core/config/proxy-config.js";
import type { Command, CommandContext } from "../command.js";
import { shortFingerprint, timestamp } from "../ca-output.js";
import { UsageError } from "../errors.js";
import { formatTable } from "../print-table.js";

const TOPIC = "proxy-config";
const PARTS = ["routes", "clusters", "endpoints", "secrets"] as const;
type Part = (typeof PARTS)[number];
const FORMATS = ["json", "yaml"] as const;

/** Domains a routes table shows per virtual host before "+N more". */
const SHOWN_DOMAINS = 2;

export const proxyConfigCommand: Command = {
  path: ["proxy-config"],
  synopsis: "routes|clusters|endpoints|secrets PROXY_ID [-o json|yaml]",
  summary: "Show part of the config a proxy is served: routes, clusters, endpoints or secrets",
  options: { output: { type: "string", short: "o" } },
  flagHelp: ["-o, --output FORMAT         json or yaml: that part of the config as served (default: a table)"],
  notes: [
    "PROXY_ID is the registration's id, NAME.NAMESPACE (weft proxy-status lists them).",
    "secrets shows the trust a proxy checks peers with: roots (subject, SHA-256 fingerprint) and revoked serials.",
  ],
  run: proxyConfig,
};

async function proxyConfig(ctx: CommandContext): Promise<number> {
  const [part, id, extra] = ctx.args;
  if (part === undefined) throw new UsageError(`name the part of the config to show: one of ${PARTS.join(", ")}`, TOPIC);
  if (!(PARTS as readonly string[]).includes(part)) throw new UsageError(`unknown part "${part}": one of ${PARTS.join(", ")}`, TOPIC);
  if (id === undefined) throw new UsageError("a PROXY_ID (NAME.NAMESPACE) is required; weft proxy-status lists them", TOPIC);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, TOPIC);
  const output = ctx.flags.string("output");
  if (output !== undefined && !(FORMATS as readonly string[]).includes(output)) {
    throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: ${FORMATS.join(",")}`, TOPIC);
  }
  const config = (await ctx.client().request("GET", `/v1/proxies/${encodeURIComponent(id)}/config`)) as ProxyConfig;
  const lines = output === undefined ? table(part as Part, config) : serialize(selectPart(part as Part, config), output as "json" | "yaml");
  if (lines.length === 0) {
    ctx.err(`No ${part} in the config of ${id}.`);
    return 0;
  }
  for (const line of lines) ctx.out(line);
  return 0;
}

/** The part asked for, as the API serves it (endpoints flattened with their cluster). */
export function selectPart(part: Part, config: ProxyConfig): unknown {
  switch (part) {
    case "routes":
      return config.listeners ?? [];
    case "clusters":
      return config.clusters ?? [];
    case "endpoints":
      return (config.clusters ?? []).flatMap((c) => c.endpoints.map((e) => ({ cluster: c.name, ...e })));
    case "secrets":
      return config.trust ?? {};
  }
}

function serialize(value: unknown, format: "json" | "yaml"): string[] {
  return (format === "json" ? JSON.stringify(value, null, 4) : stringify(value, { indentSeq: false }).trimEnd()).split("\n");
}

/** The table for a part; no lines when the part is empty. */
export function table(part: Part, config: ProxyConfig): string[] {
  switch (part) {
    case "routes":
      return routesTable(config);
    case "clusters":
      return clustersTable(config.clusters ?? []);
    case "endpoints":
      return endpointsTable(config.clusters ?? []);
    case "secrets":
      return config.trust ? secretsTable(config.trust) : [];
  }
}

function routesTable(config: ProxyConfig): string[] {
  const rows: string[][] = [];
  for (const listener of config.listeners ?? []) {
    for (const host of listener.virtualHosts) {
      const more = host.domains.length - SHOWN_DOMAINS;
      const domains = host.domains.slice(0, SHOWN_DOMAINS).join(", ") + (more > 0 ? ` +${more} more` : "");
      for (const route of host.routes) {
        rows.push([listener.port === 0 ? "*" : String(listener.port), domains, route.name, matchSummary(route.match), destinationSummary(route)]);
      }
    }
  }
  return rows.length === 0 ? [] : formatTable(["PORT", "DOMAINS", "ROUTE", "MATCH", "DESTINATION"], rows);
}

function stringMatch(m: StringMatch): string {
  if ("exact" in m) return m.exact;
  if ("prefix" in m) return `${m.prefix}*`;
  return `~${m.regex}`;
}

function presence(name: string, m: StringMatch | Record<string, never>, negate = false): string {
  const keys = Object.keys(m);
  if (keys.length === 0) return negate ? `!${name}` : name;
  return `${name}${negate ? "!=" : "="}${stringMatch(m as StringMatch)}`;
}

/** `/reviews* GET hdr=x` per match; several joined with " | "; no match at all is `/*`. */
export function matchSummary(matches: readonly RouteMatch[]): string {
  if (matches.length === 0) return "/*";
  return matches
    .map((m) => {
      const parts: string[] = [m.uri ? stringMatch(m.uri) : "/*"];
      if (m.method) parts.push(stringMatch(m.method));
      if (m.authority) parts.push(`authority=${stringMatch(m.authority)}`);
      if (m.scheme) parts.push(`scheme=${stringMatch(m.scheme)}`);
      for (const [name, v] of Object.entries(m.headers ?? {})) parts.push(presence(name, v));
      for (const [name, v] of Object.entries(m.withoutHeaders ?? {})) parts.push(presence(name, v, true));
      for (const [name, v] of Object.entries(m.queryParams ?? {})) parts.push(presence(`?${name}`, v));
      if (m.port !== undefined) parts.push(`port=${m.port}`);
      if (m.sourceNamespace) parts.push(`from ns ${m.sourceNamespace}`);
      if (m.sourceLabels) parts.push(`from ${Object.entries(m.sourceLabels).map(([k, v]) => `${k}=${v}`).join(",")}`);
      return parts.join(" ");
    })
    .join(" | ");
}

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → `reviews.default.svc.cluster.local:9080/v1`. */
function clusterLabel(name: string): string {
  const [direction, port, subset, host] = name.split("|");
  if (direction !== "outbound" || host === undefined) return name;
  return `${host}:${port}${subset ? `/${subset}` : ""}`;
}

function destinationSummary(route: Route): string {
  const action = route.action;
  if (action.kind === "redirect") return `redirect ${action.code} ${[action.scheme && `${action.scheme}://`, action.authority, action.uri].filter(Boolean).join("") || ""}`.trimEnd();
  if (action.kind === "direct") return `direct ${action.status}`;
  const many = action.destinations.length > 1;
  return action.destinations.map((d) => `${clusterLabel(d.cluster)}${many ? ` ${d.weight}%` : ""}`).join(", ");
}

function clustersTable(clusters: readonly Cluster[]): string[] {
  if (clusters.length === 0) return [];
  const rows = clusters.map((c) => [c.name, String(c.endpoints.length), c.policy.loadBalancer.kind, outlierSummary(c.policy.outlierDetection)]);
  return formatTable(["NAME", "ENDPOINTS", "LB", "OUTLIER"], rows);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `5xx=5 interval=10s ejection=30s max=10%`, or `-` when outlier detection is off. */
export function outlierSummary(o: OutlierDetection | undefined): string {
  if (!o) return "-";
  const parts: string[] = [];
  if (o.consecutive5xxErrors !== undefined) parts.push(`5xx=${o.consecutive5xxErrors}`);
  if (o.consecutiveGatewayErrors !== undefined) parts.push(`gateway=${o.consecutiveGatewayErrors}`);
  parts.push(`interval=${seconds(o.intervalMs)}`, `ejection=${seconds(o.baseEjectionTimeMs)}`, `max=${o.maxEjectionPercent}%`);
  return parts.join(" ");
}

function endpointsTable(clusters: readonly Cluster[]): string[] {
  const rows = clusters.flatMap((c) =>
    c.endpoints.map((e) => {
      const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(",");
      return [`${e.address.includes(":") ? `[${e.address}]` : e.address}:${e.port}`, c.name, labels || "<none>"];
    }),
  );
  return rows.length === 0 ? [] : formatTable(["ENDPOINT", "CLUSTER", "LABELS"], rows);
}

function secretsTable(trust: TrustConfig): string[] {
  const revoked = String(trust.revokedSerials.length);
  const rows = trust.roots.map((pem) => {
    try {
      const cert = new X509Certificate(pem);
      const fingerprint = cert.fingerprint256.replace(/:/g, "").toLowerCase();
      return [trust.trustDomain, cert.subject.replace(/\n/g, ", "), shortFingerprint(fingerprint), timestamp(new Date(cert.validTo).toISOString()), revoked];
    } catch {
      return [trust.trustDomain, "<unparseable certificate>", "-", "-", revoked];
    }
  });
  if (rows.length === 0) rows.push([trust.trustDomain, "<no roots>", "-", "-", revoked]);
  return formatTable(["TRUST DOMAIN", "ROOT SUBJECT", "FINGERPRINT", "NOT AFTER", "REVOKED SERIALS"], rows);
}
