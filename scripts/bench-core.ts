/**
 * @module bench-core
 * Benchmarks the proxy core's per-request decision (`npm run bench:core`): for route tables of 1, 100 and
 * 10,000 routes — spread over many virtual hosts (mesh services and external wildcard domains) with a mix of
 * header, exact, prefix+method, regex and catch-all matches and weighted splits — the decisions per second
 * on one core, each being: `routeRequest`, `pickDestination` (seeded random), the destination cluster's
 * load balancer pick (least request, Istio's default), AuthorizationPolicy evaluation (a DENY and an ALLOW
 * policy with principals, paths, methods and a header condition), and recording Istio's standard metrics for
 * the request. Over a pre-generated mix of requests (Host forms with ports, upper case, short names; ~3%
 * unknown hosts). No I/O.
 * The last line is `bench:core routes=10000 decisions_per_s=N`.
 *
 * Flags: --seconds N (2, per table size) --pool P (16384 requests) --headers web|list (web, the default:
 * requests' headers in web Headers, as the web pipeline gives them to the core; list: a HeaderList, as the
 * sidecar's fast path does)
 */
import { parseArgs } from "node:util";
import { HeaderList } from "../edge-proxy/core/http/header-list.js";
import { PROXY_CONFIG_VERSION, type AuthorizationPolicyConfig, type Cluster, type ProxyConfig, type Route, type VirtualHost } from "../edge-proxy/core/config/proxy-config.js";
import { compileAuthorization, evaluateAuthorization, type CompiledAuthorization } from "../edge-proxy/core/security/authorization.js";
import type { AuthorizationAttributes } from "../edge-proxy/core/security/types.js";
import { createIstioMetrics } from "../edge-proxy/core/telemetry/istio-metrics.js";
import type { RequestRecord, ResponseFlag, WorkloadInfo } from "../edge-proxy/core/telemetry/types.js";
import { RequestHashInput } from "../edge-proxy/core/proxy/hash-input.js";
import { DestinationTargets } from "../edge-proxy/core/upstream/destination-targets.js";
import { createUpstreamCluster } from "../edge-proxy/core/upstream/upstream-cluster.js";
import type { HashInput, UpstreamCluster } from "../edge-proxy/core/upstream/types.js";
import { routeRequest, type LookupProbe, type RoutableRequest } from "../edge-proxy/core/routing/match-request.js";
import { pickDestination } from "../edge-proxy/core/routing/pick-destination.js";
import { createRouteTable, type RouteTable } from "../edge-proxy/core/routing/route-table.js";
import { seededRandom } from "../edge-proxy/core/routing/seeded-random.js";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    pool: { type: "string", default: "16384" },
    headers: { type: "string", default: "web" },
  },
});
if (flags.headers !== "list" && flags.headers !== "web") throw new TypeError(`--headers must be "list" or "web"`);
/**
 * How a request's headers reach the core: `list`, a HeaderList, as the sidecar's fast path hands them to
 * planOutbound / planInbound; `web`, web Headers, as the web pipeline (the edge Worker, node:http
 * fallbacks) does. Matching and authorization read the same headers either way.
 */
const HEADERS = flags.headers;
const SECONDS = Number(flags.seconds);
const POOL = Number(flags.pool);
for (const [name, value] of Object.entries({ seconds: SECONDS, pool: POOL })) {
  if (!(value > 0)) throw new TypeError(`--${name} must be a positive number`);
}

const SIZES = [1, 100, 10_000];
const NAMESPACES = 20;
const PROXY_NAMESPACE = "ns-0";
const ROUTES_PER_HOST = 5;

interface HostSpec {
  external: boolean;
  name: string;
  namespace: string;
}

const hostSpec = (i: number): HostSpec => ({ external: i % 5 === 4, name: i % 5 === 4 ? `api-${i}` : `svc-${i}`, namespace: `ns-${i % NAMESPACES}` });

/** The five routes of one host, in the order a real VirtualService would list them. */
function routesOf(host: string, count: number): Route[] {
  const cluster = (subset: string) => `outbound|9080|${subset}|${host}`;
  const routes: Route[] = [
    { name: `${host}/canary`, match: [{ uri: { prefix: "/api/" }, headers: { "x-canary": { exact: "true" } } }], action: { kind: "route", destinations: [{ cluster: cluster("v2"), weight: 100 }] } },
    { name: `${host}/health`, match: [{ uri: { exact: "/healthz" } }], action: { kind: "direct", status: 200, body: "ok" } },
    { name: `${host}/v2-reads`, match: [{ uri: { prefix: "/api/v2/" }, method: { exact: "GET" } }], action: { kind: "route", destinations: [{ cluster: cluster("v2"), weight: 100 }] } },
    { name: `${host}/users`, match: [{ uri: { regex: "/users/[0-9]+" } }, { uri: { prefix: "/profile" }, ignoreUriCase: true }], action: { kind: "route", destinations: [{ cluster: cluster("v1"), weight: 100 }] } },
    { name: `${host}/default`, match: [{ uri: { prefix: "/" } }], action: { kind: "route", destinations: [{ cluster: cluster("v1"), weight: 80 }, { cluster: cluster("v3"), weight: 20 }] } },
  ];
  return count === 1 ? [{ ...(routes[4] as Route), match: [] }] : routes.slice(0, count);
}

function buildConfig(routeCount: number): { config: ProxyConfig; hosts: HostSpec[] } {
  const hostCount = Math.ceil(routeCount / ROUTES_PER_HOST);
  const hosts: HostSpec[] = [];
  const virtualHosts: VirtualHost[] = [];
  for (let i = 0; i < hostCount; i++) {
    const spec = hostSpec(i);
    hosts.push(spec);
    const fqdn = spec.external ? `${spec.name}.example.com` : `${spec.name}.${spec.namespace}.svc.cluster.local`;
    const domains = spec.external ? [fqdn, `*.${fqdn}`] : [fqdn];
    virtualHosts.push({ name: `${spec.namespace}/${spec.name}`, domains, routes: routesOf(fqdn, Math.min(ROUTES_PER_HOST, routeCount - i * ROUTES_PER_HOST)) });
  }
  const clusters: Cluster[] = [];
  for (const vh of virtualHosts) {
    for (const name of new Set(vh.routes.flatMap((r) => (r.action.kind === "route" ? r.action.destinations.map((d) => d.cluster) : [])))) {
      const [, port, subset, host] = name.split("|") as [string, string, string, string];
      const endpoints = [1, 2, 3].map((n) => ({ address: `10.${n}.${clusters.length >> 8 & 255}.${clusters.length & 255}`, port: 9080, labels: { app: host.split(".")[0] as string, version: subset } }));
      clusters.push({ name, host, port: Number(port), subset, endpoints, policy: { loadBalancer: { kind: "LEAST_REQUEST" } } });
    }
  }
  const config: ProxyConfig = {
    version: PROXY_CONFIG_VERSION,
    proxy: { kind: "sidecar", namespace: PROXY_NAMESPACE, labels: { app: "bench" }, gateways: ["mesh"] },
    listeners: [{ port: 9080, virtualHosts }],
    clusters,
  };
  return { config, hosts };
}

const PATHS: [string, Record<string, string>][] = [
  ["/api/v1/items?page=2", { "x-canary": "true" }],
  ["/api/v1/items?page=3", {}],
  ["/healthz", {}],
  ["/api/v2/orders/17", {}],
  ["/users/12345", {}],
  ["/PROFILE/settings", {}],
  ["/", {}],
  ["/static/app.js?v=9", {}],
];

/** A DENY and an ALLOW policy of the kind a namespace usually has. */
const POLICIES: AuthorizationPolicyConfig[] = [
  { name: "ns-0/deny-admin", action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin*", "*/internal"] } }] }] },
  {
    name: "ns-0/allow-mesh",
    action: "ALLOW",
    rules: [
      { from: [{ source: { principals: ["cluster.local/ns/ns-0/sa/*", "cluster.local/ns/ns-1/sa/frontend"] } }], to: [{ operation: { methods: ["GET", "POST"] } }] },
      { from: [{ source: { namespaces: ["ns-2", "ns-3"] } }], when: [{ key: "request.headers[x-canary]", values: ["true"] }] },
    ],
  },
];

interface BenchRequest {
  route: RoutableRequest;
  authz: AuthorizationAttributes;
  hash: HashInput;
}

/** The proxy's own workload as the router sees it: one object for every request, as the engine's `state.source`. */
const ROUTING_SOURCE: RoutableRequest["source"] = { labels: { app: "bench", version: "v1" }, namespace: PROXY_NAMESPACE };

/**
 * The request mix. Each request's parts are what the engine makes per request: the routing view (sharing the
 * proxy's source workload), the AuthorizationPolicy attributes and a RequestHashInput.
 */
function requestPool(hosts: HostSpec[], size: number): BenchRequest[] {
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const pool: BenchRequest[] = [];
  for (let i = 0; i < size; i++) {
    const host = pick(hosts);
    let authority: string;
    if (random() < 0.03) authority = `unknown-${i}.nowhere.test`;
    else if (host.external) authority = pick([`${host.name}.example.com`, `www.${host.name}.example.com`, `${host.name.toUpperCase()}.Example.com:443`]);
    else {
      const fqdn = `${host.name}.${host.namespace}.svc.cluster.local`;
      const forms = [fqdn, `${fqdn}:9080`, `${host.name}.${host.namespace}`, `${fqdn.toUpperCase()}.`];
      if (host.namespace === PROXY_NAMESPACE) forms.push(host.name, `${host.name}:9080`);
      authority = pick(forms);
    }
    const [path, extra] = pick(PATHS);
    const fields: Record<string, string> = { "user-agent": "bench/1.0", accept: "*/*", "x-request-id": `req-${i}`, ...extra };
    const headers = HEADERS === "web" ? new Headers(fields) : new HeaderList(Object.entries(fields).flat());
    const method = random() < 0.8 ? "GET" : "POST";
    const route: RoutableRequest = { authority, port: 9080, method, path, scheme: "http", headers, source: ROUTING_SOURCE };
    const principal = `cluster.local/ns/ns-${Math.floor(random() * 4)}/sa/${pick(["frontend", "worker", "default"])}`;
    const query = path.indexOf("?");
    const authz: AuthorizationAttributes = { method, host: authority, path: query === -1 ? path : path.slice(0, query), port: 9080, headers, sourceIp: "10.9.8.7", principal };
    const hash: HashInput = new RequestHashInput(headers, query === -1 ? "" : path.slice(query), "10.9.8.7");
    pool.push({ route, authz, hash });
  }
  return pool;
}

interface Result {
  /** Median over the timed slices. */
  decisionsPerSecond: number;
  bestDecisionsPerSecond: number;
  slices: number;
  routedShare: number;
  probesPerLookup: number;
  matchesPerRequest: number;
}

/** What the engine keeps per cluster: its upstream state, and the workload its metrics name as destination. */
interface Target {
  upstream: UpstreamCluster;
  /** One WorkloadInfo per destination, as the engine keeps one per endpoint. */
  destination: WorkloadInfo;
}

const NO_DESTINATION: WorkloadInfo = Object.freeze({});
const NO_FLAGS: ResponseFlag[] = [];
const NO_ROUTE: ResponseFlag[] = ["NR"];

/**
 * One pass of decisions over the pool; returns a checksum of the statuses. The picked destination's cluster
 * state and destination workload are found as the engine finds its upstream state (DestinationTargets),
 * and the telemetry record is one object filled in per decision, as the engine fills each request's own:
 * the metrics registry reads what it needs during record() and keeps nothing of it.
 */
function decisionPass(table: RouteTable, targets: DestinationTargets<Target>, authorization: CompiledAuthorization, pool: BenchRequest[]): () => number {
  const random = seededRandom(42);
  const metrics = createIstioMetrics();
  const source: WorkloadInfo = { workload: "bench", namespace: PROXY_NAMESPACE, principal: "cluster.local/ns/ns-0/sa/bench", app: "bench", version: "v1" };
  const record: RequestRecord = {
    reporter: "source",
    startTime: 0,
    durationMs: 3,
    method: "",
    path: "",
    authority: "",
    protocol: "HTTP/1.1",
    scheme: "http",
    responseCode: 0,
    responseFlags: NO_FLAGS,
    requestBytes: 0,
    responseBytes: 512,
    source,
    destination: NO_DESTINATION,
    destinationService: undefined,
    connectionSecurityPolicy: "unknown",
    upstreamCluster: undefined,
    upstreamHost: undefined,
  };
  let sink = 0;
  return () => {
    for (let i = 0; i < pool.length; i++) {
      const request = pool[i] as BenchRequest;
      const route = request.route;
      const decision = routeRequest(table, route);
      let status = 404;
      let target: Target | undefined;
      let upstreamHost: string | undefined;
      if (decision !== undefined) {
        // The route names the destination; a denial is still recorded against it (as an inbound
        // sidecar records its own service), only the endpoint pick is skipped.
        const action = decision.route.action;
        target = action.kind === "route" ? targets.get(pickDestination(action.destinations, random)) : undefined;
        if (!evaluateAuthorization(authorization, request.authz).allowed) status = 403;
        else if (target !== undefined) {
          upstreamHost = target.upstream.pick(request.hash)?.endpoint.address;
          status = 200;
        } else status = action.kind === "direct" ? action.status : action.kind === "redirect" ? action.code : 200;
      }
      const cluster = target?.upstream.cluster;
      record.method = route.method;
      record.path = route.path;
      record.authority = route.authority;
      record.responseCode = status;
      record.responseFlags = decision === undefined ? NO_ROUTE : NO_FLAGS;
      record.destination = target === undefined ? NO_DESTINATION : target.destination;
      record.destinationService = cluster?.host;
      record.upstreamCluster = cluster?.name;
      record.upstreamHost = upstreamHost;
      metrics.record(record);
      sink += status;
    }
    return sink;
  };
}

/**
 * Decisions per second over ~50 ms slices. A slice's time is the lesser of its wall time and the process's
 * CPU time, so time spent descheduled by other load on a shared machine is not counted (and GC helper
 * threads' CPU time does not shrink the result either); the median slice is reported.
 */
function measure(table: RouteTable, targets: DestinationTargets<Target>, authorization: CompiledAuthorization, pool: BenchRequest[]): Result {
  const pass = decisionPass(table, targets, authorization, pool);
  let sink = 0;
  const warmUntil = performance.now() + Math.min(500, SECONDS * 250);
  while (performance.now() < warmUntil) sink += pass();
  const rates: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end || rates.length < 5) {
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    let decisions = 0;
    do {
      sink += pass();
      decisions += pool.length;
    } while (performance.now() - wallStart < 50);
    const wall = (performance.now() - wallStart) / 1000;
    const cpuUsed = process.cpuUsage(cpuStart);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
    rates.push(decisions / Math.min(wall, cpu > 0 ? cpu : wall));
  }
  if (sink === -1) console.log("unreachable");
  rates.sort((a, b) => a - b);

  // Work per request, counted outside the timed loop.
  const probe: LookupProbe = { indexProbes: 0, matchesExamined: 0 };
  let routed = 0;
  for (const request of pool) if (routeRequest(table, request.route, probe) !== undefined) routed++;
  return {
    decisionsPerSecond: rates[Math.floor(rates.length / 2)] as number,
    bestDecisionsPerSecond: rates[rates.length - 1] as number,
    slices: rates.length,
    routedShare: routed / pool.length,
    probesPerLookup: probe.indexProbes / pool.length,
    matchesPerRequest: probe.matchesExamined / pool.length,
  };
}

/** Upstream state for every cluster, created as the engine does: one options object (one random source) for all. */
function targetsOf(config: ProxyConfig): DestinationTargets<Target> {
  const options = { now: () => 0, random: seededRandom(3) };
  const targets = new Map<string, Target>();
  for (const cluster of config.clusters) {
    const destination: WorkloadInfo = { app: cluster.endpoints[0]?.labels.app, version: cluster.subset } as WorkloadInfo;
    targets.set(cluster.name, { upstream: createUpstreamCluster(cluster, options), destination });
  }
  return new DestinationTargets(targets);
}

console.log(`bench:core — per-request decision: route match + weighted pick + load balancer + AuthorizationPolicy + Istio metrics (seeded random, one core, no I/O)`);
console.log(`node ${process.version}, ${SECONDS}s per size, pool of ${POOL} pre-generated requests, headers as ${HEADERS === "web" ? "web Headers (the web pipeline)" : "a HeaderList (the sidecar's fast path)"}; median of ~50 ms slices, each timed as min(wall, process CPU)`);
const results = new Map<number, Result>();
for (const size of SIZES) {
  const { config, hosts } = buildConfig(size);
  const buildStart = performance.now();
  const table = createRouteTable(config);
  const targets = targetsOf(config);
  const authorization = compileAuthorization(POLICIES);
  const buildMs = performance.now() - buildStart;
  const domains = config.listeners.reduce((n, l) => n + l.virtualHosts.reduce((m, v) => m + v.domains.length, 0), 0);
  const result = measure(table, targets, authorization, requestPool(hosts, POOL));
  results.set(size, result);
  console.log(
    `routes=${String(size).padEnd(6)} vhosts=${String(hosts.length).padEnd(5)} domains=${String(domains).padEnd(5)} build_ms=${buildMs.toFixed(0).padStart(4)}` +
      ` decisions_per_s=${Math.round(result.decisionsPerSecond).toString().padStart(8)} (best ${Math.round(result.bestDecisionsPerSecond)}, ${result.slices} slices)` +
      ` ns_per_decision=${(1e9 / result.decisionsPerSecond).toFixed(0)} routed=${(result.routedShare * 100).toFixed(1)}%` +
      ` index_probes_per_lookup=${result.probesPerLookup.toFixed(2)} matches_per_request=${result.matchesPerRequest.toFixed(2)}`,
  );
}
const small = results.get(1) as Result;
const large = results.get(10_000) as Result;
const middle = results.get(100) as Result;
console.log(
  `time per decision relative to 1 route: 100 routes ${(small.decisionsPerSecond / middle.decisionsPerSecond).toFixed(1)}x, 10000 routes ${(small.decisionsPerSecond / large.decisionsPerSecond).toFixed(1)}x` +
    ` (index probes and matches per request are the same at 100 and 10000; what grows is cache misses over a larger working set)`,
);
console.log(`bench:core routes=10000 decisions_per_s=${Math.round(large.decisionsPerSecond)}`);
