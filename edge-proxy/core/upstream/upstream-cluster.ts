/**
 * @module upstream/upstream-cluster
 * One cluster's upstream state, per proxy: the load balancer, the circuit breaker and the outlier
 * detector put together behind UpstreamCluster (types.ts). Validates the cluster's policy on creation
 * (UpstreamConfigError) so a bad config is refused before it serves a request.
 *
 * pick() is on every attempt's path: it allocates nothing unless it generates a hash cookie, and its cost
 * is the balancer's (O(1) for ROUND_ROBIN, RANDOM, LEAST_REQUEST and MAGLEV, O(log ring) for RING_HASH)
 * while every endpoint is eligible; ejections or a `tried` set add at most one pass over the endpoints.
 * With thousands of clusters a pick mostly waits on memory, so the common case (every endpoint eligible)
 * reads the cluster's own object, its balancer and the ready choice, and writes nothing else; for
 * LEAST_REQUEST over equal weights (Istio's default) the cluster object makes the two-choice pick itself,
 * without the balancer, and for up to FEW endpoints (most services) it keeps their choices and active
 * counts in its own fields too, so such a pick reads this object and the chosen EndpointChoice only.
 * The clusters of one UpstreamOptions object share one random source.
 * pick() returns undefined, for the engine's 503 UH, both when the cluster has no endpoints and when
 * none is eligible (all ejected outside panic), as Envoy answers "no healthy upstream" to both.
 */
import type { CancelSignal } from "../proxy/cancellation.js";
import type { Cluster, Endpoint } from "../config/proxy-config.js";
import { CircuitBreaker, circuitBreakerLimits } from "./circuit-breaker.js";
import { createHashKeyReader, type HashKeyReader } from "./hash-policy.js";
import { pickOfTwo, picksOfTwo } from "./least-request.js";
import { createLoadBalancer, type EndpointBalancer, type EndpointFilter } from "./load-balancer.js";
import { OutlierDetector } from "./outlier-detector.js";
import type { AttemptOutcome, EndpointChoice, HashInput, RequestLease, UpstreamCluster, UpstreamOptions } from "./types.js";
import { UpstreamConfigError } from "./upstream-error.js";

/** The upstream state for `cluster`; throws UpstreamConfigError when its policy or endpoints cannot be run. */
export function createUpstreamCluster(cluster: Cluster, options: UpstreamOptions): UpstreamCluster {
  return new UpstreamClusterState(cluster, options);
}

/** Upstream state for each cluster, by name; throws UpstreamConfigError on a bad cluster or a repeated name. */
export function createUpstreams(clusters: readonly Cluster[], options: UpstreamOptions): Map<string, UpstreamCluster> {
  const upstreams = new Map<string, UpstreamCluster>();
  for (const cluster of clusters) {
    if (upstreams.has(cluster.name)) {
      throw new UpstreamConfigError("ERR_UPSTREAM_CLUSTER_DUPLICATE", cluster.name, "name", "another cluster has the same name");
    }
    upstreams.set(cluster.name, createUpstreamCluster(cluster, options));
  }
  return upstreams;
}

/** Clusters of up to this many endpoints keep choices and active counts in fields (see the module header). */
const FEW = 4;

/** The filter of a pick any endpoint may take: shared, so the common pick writes no per-cluster state. */
const EVERY_ENDPOINT: EndpointFilter = Object.freeze({ all: true, allows: () => true });

/** `options.random()` as a function, one per options object: clusters created with the same options share it. */
const RANDOM_SOURCES = new WeakMap<UpstreamOptions, () => number>();

function randomSource(options: UpstreamOptions): () => number {
  let random = RANDOM_SOURCES.get(options);
  if (random === undefined) {
    random = () => options.random();
    RANDOM_SOURCES.set(options, random);
  }
  return random;
}

/** Which endpoints a pick may take when some may not; one per cluster, re-aimed before each such pick. */
class Eligibility implements EndpointFilter {
  all = true;
  skipEjected = false;
  tried: ReadonlySet<Endpoint> | undefined = undefined;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly ejected: Uint8Array,
  ) {}

  allows(index: number): boolean {
    if (this.skipEjected && this.ejected[index] === 1) return false;
    return this.tried === undefined || !this.tried.has(this.endpoints[index]!);
  }
}

class UpstreamClusterState implements UpstreamCluster {
  // The fields a pick reads come first, so they share the object's first cache lines.
  readonly cluster: Cluster;
  /** LEAST_REQUEST over equal weights, no outlier detection: picks are pickOfTwo over `active`. */
  private readonly twoChoices: boolean;
  /** twoChoices with at most FEW endpoints: `active` is mirrored in a0..a3 and `choices` in c0..c3. */
  private readonly few: boolean;
  private readonly random: () => number;
  private readonly endpointCount: number;
  private a0 = 0;
  private a1 = 0;
  private a2 = 0;
  private a3 = 0;
  private readonly c0: EndpointChoice | undefined;
  private readonly c1: EndpointChoice | undefined;
  private readonly c2: EndpointChoice | undefined;
  private readonly c3: EndpointChoice | undefined;
  private readonly active: Int32Array;
  private readonly balancer: EndpointBalancer | undefined;
  private readonly detector: OutlierDetector | undefined;
  private readonly hashKey: HashKeyReader | undefined;
  /** A ready EndpointChoice per endpoint, so a pick without a cookie allocates nothing. */
  private readonly choices: readonly EndpointChoice[];
  readonly maxRequestsPerConnection: number;
  private readonly options: UpstreamOptions;
  private readonly endpoints: readonly Endpoint[];
  private readonly indexOf = new Map<Endpoint, number>();
  private readonly indexByName = new Map<string, number>();
  private readonly breaker: CircuitBreaker;
  private readonly filter: Eligibility;

  constructor(cluster: Cluster, options: UpstreamOptions) {
    validateCluster(cluster);
    this.cluster = cluster;
    this.options = options;
    const endpoints = cluster.endpoints;
    this.endpoints = endpoints;
    const names = endpoints.map((e) => `${e.address}:${e.port}`);
    endpoints.forEach((endpoint, i) => {
      if (!this.indexOf.has(endpoint)) this.indexOf.set(endpoint, i);
      if (!this.indexByName.has(names[i]!)) this.indexByName.set(names[i]!, i);
    });
    this.choices = endpoints.map((endpoint) => ({ endpoint }));
    [this.c0, this.c1, this.c2, this.c3] = this.choices;
    this.endpointCount = endpoints.length;
    this.active = new Int32Array(endpoints.length);
    const random = randomSource(options);
    const lb = cluster.policy.loadBalancer;
    if (endpoints.length > 0) {
      // An absent or 0 weight is the default 1 (Istio's reading of an unset uint32).
      this.balancer = createLoadBalancer(cluster, { names, weights: endpoints.map((e) => e.weight || 1), active: this.active, random });
    }
    if (lb.kind === "RING_HASH" || lb.kind === "MAGLEV") this.hashKey = createHashKeyReader(lb.hashOn, random);
    const pool = cluster.policy.connectionPool;
    this.breaker = new CircuitBreaker(circuitBreakerLimits(pool));
    this.maxRequestsPerConnection = pool?.maxRequestsPerConnection ?? 0;
    const outlier = cluster.policy.outlierDetection;
    const ejects = outlier !== undefined && ((outlier.consecutive5xxErrors ?? 0) > 0 || (outlier.consecutiveGatewayErrors ?? 0) > 0);
    if (ejects && endpoints.length > 0) this.detector = new OutlierDetector(outlier, endpoints.length);
    this.filter = new Eligibility(endpoints, this.detector?.ejectedFlags ?? new Uint8Array(0));
    this.random = random;
    this.twoChoices = lb.kind === "LEAST_REQUEST" && endpoints.length > 0 && this.detector === undefined && picksOfTwo(endpoints.map((e) => e.weight || 1));
    this.few = this.twoChoices && endpoints.length <= FEW;
  }

  admit(signal?: CancelSignal): Promise<RequestLease | "overflow"> {
    return this.breaker.admit(signal);
  }

  tryStartRetry(): boolean {
    return this.breaker.tryStartRetry();
  }

  retryDone(): void {
    this.breaker.retryDone();
  }

  pick(input: HashInput, tried?: ReadonlySet<Endpoint>): EndpointChoice | undefined {
    if (this.twoChoices && (tried === undefined || tried.size === 0)) {
      if (this.few) return this.pickOfFew();
      const choices = this.choices;
      return choices[pickOfTwo(this.active, choices.length, this.random)];
    }
    const balancer = this.balancer;
    if (balancer === undefined) return undefined;
    const detector = this.detector;
    let skipEjected = false;
    if (detector !== undefined) {
      detector.advance(this.options.now());
      if (detector.ejectedCount > 0 && !detector.inPanic()) {
        if (detector.ejectedCount === this.endpoints.length) return undefined;
        skipEjected = true;
      }
    }
    const hashKey = this.hashKey;
    const hash = hashKey === undefined ? 0 : hashKey.read(input);
    const avoid = tried !== undefined && tried.size > 0 ? tried : undefined;
    const index = !skipEjected && avoid === undefined ? balancer.pick(EVERY_ENDPOINT, hash) : this.pickAmong(balancer, hash, skipEjected, avoid);
    if (index < 0) return undefined;
    const setCookie = hashKey?.setCookie;
    return setCookie === undefined ? this.choices[index] : { endpoint: this.endpoints[index]!, setCookie };
  }

  /** pickOfTwo over the fields of a `few` cluster: the same draws, the same choice. */
  private pickOfFew(): EndpointChoice {
    const n = this.endpointCount;
    const random = this.random;
    const first = Math.min(n - 1, Math.floor(random() * n));
    const second = Math.min(n - 1, Math.floor(random() * n));
    const index = this.activeOf(second) < this.activeOf(first) ? second : first;
    return (index === 0 ? this.c0 : index === 1 ? this.c1 : index === 2 ? this.c2 : this.c3) as EndpointChoice;
  }

  private activeOf(index: number): number {
    return index === 0 ? this.a0 : index === 1 ? this.a1 : index === 2 ? this.a2 : this.a3;
  }

  /** Sets endpoint `index`'s active count, and its field in a `few` cluster. */
  private setActive(index: number, count: number): void {
    this.active[index] = count;
    if (!this.few) return;
    if (index === 0) this.a0 = count;
    else if (index === 1) this.a1 = count;
    else if (index === 2) this.a2 = count;
    else this.a3 = count;
  }

  /** A pick that skips ejected endpoints or those in `avoid` (all of them tried: any eligible one again). */
  private pickAmong(balancer: EndpointBalancer, hash: number, skipEjected: boolean, avoid: ReadonlySet<Endpoint> | undefined): number {
    const filter = this.filter;
    filter.skipEjected = skipEjected;
    filter.tried = avoid;
    filter.all = !skipEjected && avoid === undefined;
    let index = balancer.pick(filter, hash);
    if (index < 0 && avoid !== undefined) {
      // Every eligible endpoint was tried already: take one again rather than none.
      filter.tried = undefined;
      filter.all = !skipEjected;
      index = balancer.pick(filter, hash);
    }
    filter.tried = undefined;
    return index;
  }

  attemptStarted(endpoint: Endpoint): void {
    const index = this.find(endpoint);
    if (index >= 0) this.setActive(index, this.active[index]! + 1);
  }

  attemptEnded(endpoint: Endpoint, outcome: AttemptOutcome): void {
    const index = this.find(endpoint);
    if (index < 0) return;
    if (this.active[index]! > 0) this.setActive(index, this.active[index]! - 1);
    const detector = this.detector;
    if (detector !== undefined) {
      const now = this.options.now();
      detector.advance(now);
      detector.record(index, outcome, now);
    }
  }

  ejected(): readonly Endpoint[] {
    const detector = this.detector;
    if (detector === undefined) return [];
    detector.advance(this.options.now());
    return this.endpoints.filter((_, i) => detector.ejectedFlags[i] === 1);
  }

  /** The endpoint's index: by identity, else by `address:port` (a copy of it); -1 when not in this cluster (ignored). */
  private find(endpoint: Endpoint): number {
    return this.indexOf.get(endpoint) ?? this.indexByName.get(`${endpoint.address}:${endpoint.port}`) ?? -1;
  }
}

function validateCluster(cluster: Cluster): void {
  cluster.endpoints.forEach((endpoint, i) => {
    const weight = endpoint.weight;
    if (weight !== undefined && (!Number.isInteger(weight) || weight < 0 || weight > 2 ** 32 - 1)) {
      throw new UpstreamConfigError("ERR_UPSTREAM_ENDPOINT_INVALID", cluster.name, `endpoints[${i}].weight`, `must be an integer from 0 (default 1) to 2^32-1, got ${weight}`);
    }
  });
  const pool = cluster.policy.connectionPool;
  if (pool !== undefined) {
    for (const field of ["maxConnections", "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries", "connectTimeoutMs"] as const) {
      const value = pool[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        throw new UpstreamConfigError("ERR_UPSTREAM_CONNECTION_POOL_INVALID", cluster.name, `policy.connectionPool.${field}`, `must be a non-negative integer, got ${value}`);
      }
    }
  }
  const outlier = cluster.policy.outlierDetection;
  if (outlier !== undefined) {
    const fail = (field: string, message: string) =>
      new UpstreamConfigError("ERR_UPSTREAM_OUTLIER_DETECTION_INVALID", cluster.name, `policy.outlierDetection.${field}`, message);
    for (const field of ["consecutive5xxErrors", "consecutiveGatewayErrors"] as const) {
      const value = outlier[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw fail(field, `must be a non-negative integer, got ${value}`);
    }
    for (const field of ["intervalMs", "baseEjectionTimeMs"] as const) {
      const value = outlier[field];
      if (!(Number.isFinite(value) && value > 0)) throw fail(field, `must be a positive number of milliseconds, got ${value}`);
    }
    for (const field of ["maxEjectionPercent", "minHealthPercent"] as const) {
      const value = outlier[field];
      if (!(Number.isFinite(value) && value >= 0 && value <= 100)) throw fail(field, `must be a percentage from 0 to 100, got ${value}`);
    }
  }
}
