/**
 * @module proxy/proxy
 * The proxy engine both Weft proxies run. `createProxy(config, host)` compiles a ProxyConfig (route table,
 * per-cluster upstream state, inbound security) and returns three pipelines of named stages, as in
 * linkerd2-proxy:
 *
 * - outbound (a sidecar's workload calling out): trace → route (NR; a virtual host requiring TLS
 *   redirects plain HTTP to https) → CORS → fault (DI, FI) →
 *   redirect / direct response / forward (header operations, rewrite, circuit breaker UO, load balancer
 *   UH, retries and timeouts UF UT URX) → mirrors → response headers and CORS → telemetry;
 * - inbound (requests to the sidecar's own workload): trace → peer authentication → request
 *   authentication → authorization → forward to the application's port → telemetry;
 * - gateway (an edge or ingress gateway): inbound security on the gateway's own policies, then outbound.
 *
 * `update(config)` swaps the config between requests; upstream state (outlier ejections, least-request
 * counts, circuit breakers) is kept for clusters whose definition did not change.
 */
import type { Cluster, Endpoint, ProxyConfig, Route, RouteAction, WeightedDestination } from "../config/proxy-config.js";
import { authorityWithoutPort } from "../routing/authority.js";
import { createRouteTable, type RouteTable } from "../routing/route-table.js";
import { findVirtualHost } from "../routing/find-virtual-host.js";
import { routeRequest, type RoutableRequest, type RouteDecision } from "../routing/match-request.js";
import { pickDestination } from "../routing/pick-destination.js";
import type { HeaderMap } from "../http/header-list.js";
import { createInboundSecurity } from "../security/inbound-security.js";
import { parsePrincipal } from "../security/request-view.js";
import type { AuthorizationAttributes, InboundSecurity, PeerInfo } from "../security/types.js";
import { createIstioMetrics, type IstioMetrics } from "../telemetry/istio-metrics.js";
import { propagateTrace, type TraceContext } from "../telemetry/trace-context.js";
import type { RequestRecord, ResponseFlag, TelemetrySink, WorkloadInfo } from "../telemetry/types.js";
import { DestinationTargets } from "../upstream/destination-targets.js";
import { createUpstreamCluster } from "../upstream/upstream-cluster.js";
import type { UpstreamCluster } from "../upstream/types.js";
import type { CancelSignal } from "./cancellation.js";
import { answerPreflight, decorateCorsResponse, isPreflight } from "./cors.js";
import { forward, type ForwardRequest, type ForwardResult, type RouterOptions } from "./forward.js";
import { describeDestination, HeadExchange, targetIsCanonical, type Plan, type PlanBase, type RequestHead } from "./head-plan.js";
import { RequestHashInput } from "./hash-input.js";
import { applyRequestHeaders, applyResponseHeaders, hasResponseOperations } from "./header-operations.js";
import type { ProxyHost } from "./host.js";
import { LOCAL_REPLIES, localResponse, type LocalReply } from "./local-reply.js";
import { meterBody } from "./metered-body.js";
import { retryConditions } from "./retry-policy.js";
import { redirectLocation, rewritePath } from "./rewrite.js";

/** Bodies up to this size are buffered so retries and mirrors can send them again; larger ones stream once. */
export const REPLAY_BUFFER_LIMIT = 1024 * 1024;

export interface OutboundContext {
  /** The port the request was sent to (selects the listener); default the URL's port, else 80 / 443. */
  port?: number;
  /** The gateway the request came through (`namespace/name`); a sidecar's is `mesh`. */
  gateway?: string;
  /** The downstream peer: its IP feeds `sourceIp` hashing; a gateway checks it against its policies. */
  peer?: PeerInfo;
  /** Aborted when the downstream goes away (flag DC). */
  signal?: AbortSignal;
  /**
   * Where the connection was going before capture (a sidecar's SO_ORIGINAL_DST). A request no virtual
   * host matches then goes there as Istio's `PassthroughCluster`, unless the config's
   * outboundTrafficPolicy is REGISTRY_ONLY (502, Istio's `BlackHoleCluster`). Absent: 404 NR.
   */
  originalDestination?: { address: string; port: number };
}

export interface InboundContext {
  peer: PeerInfo;
  signal?: AbortSignal;
}

export interface Proxy {
  readonly config: ProxyConfig;
  /** Istio's standard metrics of every request handled, `render()` gives Prometheus text. */
  readonly metrics: IstioMetrics;
  outbound(request: Request, context?: OutboundContext): Promise<Response>;
  inbound(request: Request, context: InboundContext): Promise<Response>;
  gateway(request: Request, context: InboundContext & { gateway?: string }): Promise<Response>;
  /**
   * `outbound` for a host with its own HTTP/1 codec (head-plan.ts): a Plan, or undefined when the request
   * needs the web pipeline (the host then calls `outbound` with a Request made from the same bytes).
   */
  planOutbound(head: RequestHead, context: OutboundContext): Plan | undefined;
  /** `inbound` for a host with its own HTTP/1 codec, as planOutbound. */
  planInbound(head: RequestHead, context: InboundContext): Plan | undefined;
  /** Replaces the config; throws (and keeps the old one) when it cannot be compiled. */
  update(config: ProxyConfig): void;
  /** The runtime state of a cluster (ejections, limits), for diagnostics and tests. */
  upstream(cluster: string): UpstreamCluster | undefined;
}

interface Compiled {
  config: ProxyConfig;
  table: RouteTable;
  upstreams: Map<string, { key: string; state: UpstreamCluster }>;
  /** The same, found from a route's WeightedDestination. */
  targets: DestinationTargets<{ key: string; state: UpstreamCluster }>;
  security: InboundSecurity;
  self: WorkloadInfo;
  /** The proxy's own workload as the router's sourceLabels / sourceNamespace matches read it. */
  source: { labels: Record<string, string>; namespace: string };
  /** Some virtual host redirects plain HTTP to https: only then is the scheme looked at before routing. */
  requireTls: boolean;
}

export function createProxy(config: ProxyConfig, host: ProxyHost): Proxy {
  const now = host.now?.bind(host) ?? Date.now;
  const random = host.random?.bind(host) ?? Math.random;
  const randomBytes = host.randomBytes?.bind(host) ?? pooledRandomBytes();
  const sleep = host.sleep?.bind(host) ?? defaultSleep;
  const fetchJwks = host.fetchJwks?.bind(host) ?? defaultFetchJwks;
  const metrics = createIstioMetrics();
  const sinks: TelemetrySink[] = [metrics, ...(host.telemetry ?? [])];
  const emit = (record: RequestRecord) => {
    for (const sink of sinks) sink.record(record);
  };
  /** One options object for every cluster's upstream state, so they share one random source. */
  const upstreamOptions = { now, random };

  const compile = (next: ProxyConfig, previous: Compiled | undefined): Compiled => {
    const table = createRouteTable(next);
    const upstreams = new Map<string, { key: string; state: UpstreamCluster }>();
    for (const cluster of next.clusters) {
      const key = JSON.stringify(cluster);
      const old = previous?.upstreams.get(cluster.name);
      upstreams.set(cluster.name, old !== undefined && old.key === key ? old : { key, state: createUpstreamCluster(cluster, upstreamOptions) });
    }
    const security = createInboundSecurity(next.inbound, next.trust, { fetchJwks, now, ...(host.customAuthorizers ? { customAuthorizers: host.customAuthorizers } : {}) });
    const requireTls = next.listeners.some((l) => l.virtualHosts.some((vh) => vh.requireTls === true));
    const source = { labels: next.proxy.labels, namespace: next.proxy.namespace };
    const targets = new DestinationTargets(upstreams);
    return { config: next, table, upstreams, targets, security, self: Object.freeze(selfInfo(next)), source, requireTls };
  };

  let current = compile(config, undefined);
  const inboundClusters = new Map<number, UpstreamCluster>();
  /** The local application on `port`, as Istio's `inbound|<port>||` cluster. */
  const inboundCluster = (port: number): UpstreamCluster => {
    let upstream = inboundClusters.get(port);
    if (upstream === undefined) {
      const cluster: Cluster = { name: `inbound|${port}||`, host: "127.0.0.1", port, endpoints: [{ address: "127.0.0.1", port, labels: {} }], policy: { loadBalancer: { kind: "ROUND_ROBIN" } } };
      upstream = createUpstreamCluster(cluster, upstreamOptions);
      inboundClusters.set(port, upstream);
    }
    return upstream;
  };

  const passthroughClusters = new Map<string, UpstreamCluster>();
  /** Istio's `PassthroughCluster`: the captured connection's original destination, for hosts the config does not know. */
  const passthroughCluster = (address: string, port: number): UpstreamCluster => {
    const key = `${address}:${port}`;
    let upstream = passthroughClusters.get(key);
    if (upstream === undefined) {
      if (passthroughClusters.size >= 1024) passthroughClusters.clear();
      const cluster: Cluster = { name: "PassthroughCluster", host: address, port, endpoints: [{ address, port, labels: {} }], policy: { loadBalancer: { kind: "PASSTHROUGH" } } };
      upstream = createUpstreamCluster(cluster, upstreamOptions);
      passthroughClusters.set(key, upstream);
    }
    return upstream;
  };

  const base = { now, random, randomBytes, sleep, host, emit };
  /** What every forward (routes, mirrors, the local application) makes its attempts with. */
  const attempts = { host, sleep, random, now };

  const outbound = async (exchange: Exchange, context: OutboundContext): Promise<Response> => {
    const state = current;
    const url = exchange.url;
    const port = context.port ?? (url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80);
    const decision = routeRequest(state.table, {
      authority: exchange.authority,
      port,
      method: exchange.request.method,
      path: url.pathname + url.search,
      scheme: url.protocol === "https:" ? "https" : "http",
      headers: exchange.headers,
      source: state.source,
      ...(context.gateway !== undefined ? { gateway: context.gateway } : {}),
    });
    exchange.record.source = state.self;
    // Envoy's require_tls ALL: checked on the virtual host before any route, so also when no route matches.
    if (state.requireTls && url.protocol === "http:") {
      const virtualHost = decision?.virtualHost ?? findVirtualHost(state.table, exchange.authority, port)?.virtualHost;
      if (virtualHost?.requireTls === true) {
        const location = `https://${authorityWithoutPort(exchange.authority)}${url.pathname}${url.search}`;
        return exchange.finish(new Response(null, { status: 301, headers: { location } }), [], base, undefined, undefined, "https_redirect");
      }
    }
    if (decision === undefined) {
      const original = context.originalDestination;
      if (original === undefined) return exchange.reply(LOCAL_REPLIES.noRoute, base);
      if (state.config.outboundTrafficPolicy?.mode === "REGISTRY_ONLY") return exchange.reply(LOCAL_REPLIES.blackHole, base);
      return passthrough(exchange, original, context);
    }
    return routeStages(state, exchange, decision, port, context);
  };

  const passthrough = async (exchange: Exchange, original: { address: string; port: number }, context: OutboundContext): Promise<Response> => {
    const upstream = passthroughCluster(original.address, original.port);
    exchange.record.upstreamCluster = upstream.cluster.name;
    exchange.headers.set("host", exchange.authority);
    const body = await exchange.upstreamBody(false);
    const result = await forward({ url: exchange.url.href, method: exchange.request.method, headers: exchange.headers, body }, upstream, {
      ...attempts,
      retry: undefined,
      timeoutMs: undefined,
      hash: new RequestHashInput(exchange.headers, exchange.url.search, context.peer?.sourceIp),
      downstreamSignal: context.signal,
      direction: "outbound",
    });
    return exchange.upstreamResult(result, result.flags, base);
  };

  const routeStages = async (state: Compiled, exchange: Exchange, decision: RouteDecision, port: number, context: OutboundContext): Promise<Response> => {
    const route = decision.route;
    const request = exchange.request;
    exchange.record.routeName = route.name;
    // CORS preflights are answered before faults and routing, as Envoy's filter chain does.
    if (route.cors !== undefined && isPreflight(request)) {
      const answer = answerPreflight(route.cors, request);
      if (answer !== undefined) return exchange.finish(answer, [], base);
    }
    const flags: ResponseFlag[] = [];
    const fault = route.fault;
    if (fault?.delay !== undefined && chance(fault.delay.percentage, random)) {
      flags.push("DI");
      await sleep(fault.delay.fixedDelayMs, context.signal);
    }
    if (fault?.abort !== undefined && chance(fault.abort.percentage, random)) {
      flags.push("FI");
      return exchange.reply(LOCAL_REPLIES.faultAbort, base, fault.abort.httpStatus, flags);
    }
    const action = route.action;
    if (action.kind === "redirect") {
      const location = redirectLocation(action, exchange.url, port);
      return exchange.finish(new Response(null, { status: action.code, headers: { location } }), flags, base, route);
    }
    if (action.kind === "direct") {
      const body = action.body ?? null;
      return exchange.finish(new Response(body, { status: action.status, headers: body === null ? {} : { "content-type": "text/plain" } }), flags, base, route);
    }
    const destination = pickDestination(action.destinations, random);
    const upstream = state.targets.get(destination)?.state;
    if (upstream === undefined) return exchange.reply(LOCAL_REPLIES.noHealthyUpstream, base, undefined, [...flags, "UH"]);
    exchange.describeDestination(upstream.cluster);

    const headers = exchange.headers;
    const pathAndQuery = toUpstream(headers, decision, action, destination, exchange.url.pathname + exchange.url.search, exchange.authority, exchange.url.protocol.slice(0, -1));
    const replays = (route.retries?.attempts ?? 0) > 0 || (route.mirrors?.length ?? 0) > 0;
    const body = await exchange.upstreamBody(replays);
    const upstreamRequest: ForwardRequest = { url: `${exchange.url.protocol}//${headers.get("host")}${pathAndQuery}`, method: request.method, headers, body };

    if (route.mirrors !== undefined) mirror(state, route, upstreamRequest, exchange);
    const result = await forward(upstreamRequest, upstream, {
      ...attempts,
      retry: route.retries !== undefined && route.retries.attempts > 0 ? retryConditions(route.retries) : undefined,
      timeoutMs: route.timeoutMs,
      hash: new RequestHashInput(headers, exchange.url.search, context.peer?.sourceIp),
      downstreamSignal: context.signal,
      direction: "outbound",
    });
    return exchange.upstreamResult(result, [...flags, ...result.flags], base, route, destination);
  };

  /** Fire and forget: a copy to each mirror cluster (Host gets `-shadow`), its response and errors ignored. */
  const mirror = (state: Compiled, route: Route, original: ForwardRequest, exchange: Exchange) => {
    for (const m of route.mirrors ?? []) {
      if (!chance(m.percentage, random)) continue;
      const upstream = state.upstreams.get(m.cluster)?.state;
      if (upstream === undefined) continue;
      const headers = new Headers(original.headers);
      headers.set("host", shadowHost(headers.get("host") ?? exchange.authority));
      const body = original.body instanceof ArrayBuffer ? original.body : null;
      const work = forward({ ...original, headers, body }, upstream, {
        ...attempts,
        retry: undefined,
        timeoutMs: route.timeoutMs,
        hash: new RequestHashInput(headers, exchange.url.search, undefined),
        downstreamSignal: undefined,
        direction: "outbound",
      }).then((r) => r.response?.body?.cancel().catch(() => {}));
      if (host.waitUntil) host.waitUntil(work);
      else work.catch(() => {});
    }
  };

  const secure = async (request: Request, context: InboundContext, start: number, reporter: RequestRecord["reporter"]) => {
    const state = current;
    const exchange = new Exchange(request, start, randomBytes, reporter, context.peer);
    const decision = await state.security.check(exchange.requestWithHeaders(), context.peer);
    return { state, exchange, decision };
  };

  const inbound = async (request: Request, context: InboundContext): Promise<Response> => {
    const { state, exchange, decision } = await secure(request, context, now(), "destination");
    exchange.record.destination = state.self;
    exchange.record.source = peerWorkload(context.peer);
    exchange.record.connectionSecurityPolicy = context.peer.mtls ? "mutual_tls" : "none";
    if (!decision.allowed) return exchange.finish(decision.response, decision.flag ? [decision.flag as ResponseFlag] : [], base, undefined, undefined, decision.details);
    exchange.adopt(decision.request);
    const port = context.peer.port;
    const mapping = state.config.inbound?.ports.find((p) => p.port === port);
    const targetPort = mapping?.targetPort ?? port;
    const upstream = inboundCluster(targetPort);
    exchange.record.upstreamCluster = upstream.cluster.name;
    const body = await exchange.upstreamBody(false);
    const result = await forward({ url: exchange.url.href, method: request.method, headers: exchange.headers, body }, upstream, {
      ...attempts,
      retry: undefined,
      timeoutMs: undefined,
      hash: new RequestHashInput(exchange.headers, exchange.url.search, context.peer.sourceIp),
      downstreamSignal: context.signal,
      direction: "inbound",
    });
    return exchange.upstreamResult(result, result.flags, base);
  };

  const gateway = async (request: Request, context: InboundContext & { gateway?: string }): Promise<Response> => {
    const { exchange, decision } = await secure(request, context, now(), "source");
    if (!decision.allowed) return exchange.finish(decision.response, decision.flag ? [decision.flag as ResponseFlag] : [], base, undefined, undefined, decision.details);
    exchange.adopt(decision.request);
    const outboundContext: OutboundContext = { port: context.peer.port, peer: context.peer };
    if (context.gateway !== undefined) outboundContext.gateway = context.gateway;
    if (context.signal !== undefined) outboundContext.signal = context.signal;
    return outbound(exchange, outboundContext);
  };

  const planBase: PlanBase = { now, emit, endpointWorkload };
  /** A plan's router options: one object shape for every request (no spreads on the hot path). */
  const routerOptions = (retry: RouterOptions["retry"], timeoutMs: number | undefined, hash: RequestHashInput, direction: RouterOptions["direction"]): RouterOptions => ({
    sleep,
    random,
    now,
    retry,
    timeoutMs,
    hash,
    direction,
  });

  const planOutbound = (head: RequestHead, context: OutboundContext): Plan | undefined => {
    const state = current;
    if (state.requireTls || !targetIsCanonical(head.pathAndQuery)) return undefined;
    const start = now();
    const headers = head.headers;
    const authority = headers.get("host");
    if (authority === null) return undefined;
    const trace = propagateTrace(headers, randomBytes);
    const port = context.port ?? 80;
    const routable: RoutableRequest = { authority, port, method: head.method, path: head.pathAndQuery, scheme: "http", headers, source: state.source };
    if (context.gateway !== undefined) routable.gateway = context.gateway;
    const decision = routeRequest(state.table, routable);
    const route = decision?.route;
    let action: RouteToClusters | undefined;
    if (route !== undefined) {
      if (route.cors !== undefined || route.fault !== undefined || route.mirrors !== undefined || route.action.kind !== "route") return undefined;
      action = route.action;
    }
    const exchange = new HeadExchange(newRecord(head.method, head.pathAndQuery, authority, "http", headers, trace, "source", start, context.peer), planBase);
    const record = exchange.record;
    record.source = state.self;
    record.requestBytes = head.bodyBytes;
    const search = searchOf(head.pathAndQuery);
    if (decision === undefined || route === undefined || action === undefined) {
      const original = context.originalDestination;
      if (original === undefined) return exchange.local(LOCAL_REPLIES.noRoute);
      if (state.config.outboundTrafficPolicy?.mode === "REGISTRY_ONLY") return exchange.local(LOCAL_REPLIES.blackHole);
      const upstream = passthroughCluster(original.address, original.port);
      record.upstreamCluster = upstream.cluster.name;
      const options = routerOptions(undefined, undefined, new RequestHashInput(headers, search, context.peer?.sourceIp), "outbound");
      return exchange.forward({ upstream, options }, head.method, head.pathAndQuery, headers);
    }
    record.routeName = route.name;
    const destination = pickDestination(action.destinations, random);
    const upstream = state.targets.get(destination)?.state;
    if (upstream === undefined) return exchange.local(LOCAL_REPLIES.noHealthyUpstream);
    exchange.describeDestination(upstream.cluster);
    const pathAndQuery = toUpstream(headers, decision, action, destination, head.pathAndQuery, authority, "http");
    const retry = route.retries !== undefined && route.retries.attempts > 0 ? retryConditions(route.retries) : undefined;
    const options = routerOptions(retry, route.timeoutMs, new RequestHashInput(headers, search, context.peer?.sourceIp), "outbound");
    return exchange.forward({ upstream, options, route, destination }, head.method, pathAndQuery, headers);
  };

  const planInbound = (head: RequestHead, context: InboundContext): Plan | undefined => {
    const state = current;
    if (!targetIsCanonical(head.pathAndQuery)) return undefined;
    const start = now();
    const headers = head.headers;
    const authority = headers.get("host");
    if (authority === null) return undefined;
    const peer = context.peer;
    const trace = propagateTrace(headers, randomBytes);
    const query = head.pathAndQuery.indexOf("?");
    const allowed = state.security.checkAllowed(peer, (principal) => {
      const attributes: AuthorizationAttributes = { method: head.method, host: authority, path: query === -1 ? head.pathAndQuery : head.pathAndQuery.slice(0, query), port: peer.port, headers, sourceIp: peer.sourceIp };
      if (peer.remoteIp !== undefined) attributes.remoteIp = peer.remoteIp;
      if (peer.destinationIp !== undefined) attributes.destinationIp = peer.destinationIp;
      if (peer.sni !== undefined) attributes.sni = peer.sni;
      if (principal !== undefined) attributes.principal = principal;
      return attributes;
    });
    if (allowed === undefined) return undefined;
    const exchange = new HeadExchange(newRecord(head.method, head.pathAndQuery, authority, "http", headers, trace, "destination", start, peer), planBase);
    const record = exchange.record;
    record.destination = state.self;
    record.source = peerWorkload(peer);
    record.connectionSecurityPolicy = peer.mtls ? "mutual_tls" : "none";
    record.requestBytes = head.bodyBytes;
    const mapping = state.config.inbound?.ports.find((p) => p.port === peer.port);
    const upstream = inboundCluster(mapping?.targetPort ?? peer.port);
    record.upstreamCluster = upstream.cluster.name;
    const options = routerOptions(undefined, undefined, new RequestHashInput(headers, searchOf(head.pathAndQuery), peer.sourceIp), "inbound");
    return exchange.forward({ upstream, options }, head.method, head.pathAndQuery, headers);
  };

  return {
    get config() {
      return current.config;
    },
    planOutbound,
    planInbound,
    metrics,
    outbound: (request, context = {}) => outbound(new Exchange(request, now(), randomBytes, "source", context.peer), context),
    inbound,
    gateway,
    update(config: ProxyConfig) {
      current = compile(config, current);
    },
    upstream: (name) => current.upstreams.get(name)?.state,
  };
}

type Base = {
  now: () => number;
  random: () => number;
  emit: (record: RequestRecord) => void;
};

/**
 * One request passing through: its parsed URL and mutable headers (trace headers set on arrival), the
 * telemetry record being filled in, and how the response is finished and metered.
 */
class Exchange {
  readonly url: URL;
  readonly headers: Headers;
  readonly authority: string;
  readonly record: RequestRecord;
  request: Request;

  constructor(request: Request, start: number, randomBytes: (n: number) => Uint8Array, reporter: RequestRecord["reporter"], peer: PeerInfo | undefined) {
    this.request = request;
    this.url = new URL(request.url);
    this.headers = new Headers(request.headers);
    this.authority = this.headers.get("host") ?? this.url.host;
    const trace = propagateTrace(this.headers, randomBytes);
    const record = newRecord(request.method, this.url.pathname + this.url.search, this.authority, this.url.protocol.slice(0, -1), this.headers, trace, reporter, start, peer);
    this.record = record;
  }

  /** The request as security sees it: the received one with trace headers added. */
  requestWithHeaders(): Request {
    return new Request(this.request, { headers: this.headers });
  }

  /** Continues with the request security passed on (JWT removed, claim headers added). */
  adopt(request: Request): void {
    this.request = request;
    const headers = request.headers;
    for (const name of [...this.headers.keys()]) if (!headers.has(name)) this.headers.delete(name);
    headers.forEach((value, name) => this.headers.set(name, value));
  }

  describeDestination(cluster: Cluster): void {
    describeDestination(this.record, cluster);
  }

  /** The body to send upstream: buffered when it may be sent again (retries, mirrors) and small enough, else streamed once. */
  async upstreamBody(replays: boolean): Promise<ArrayBuffer | ReadableStream<Uint8Array> | null> {
    const body = this.request.body;
    if (body === null) return null;
    const length = Number(this.request.headers.get("content-length") ?? Number.NaN);
    if (replays && (Number.isNaN(length) || length <= REPLAY_BUFFER_LIMIT)) {
      const buffer = await this.request.arrayBuffer();
      this.record.requestBytes = buffer.byteLength;
      return buffer;
    }
    return meterBody(body, (bytes) => {
      this.record.requestBytes = bytes;
    });
  }

  /** Answers with one of Envoy's local replies. */
  reply(reply: LocalReply, base: Base, status?: number, flags?: ResponseFlag[]): Response {
    return this.finish(localResponse(reply, status), flags ?? (reply.flag ? [reply.flag] : []), base, undefined, undefined, reply.details);
  }

  upstreamResult(result: ForwardResult, flags: ResponseFlag[], base: Base, route?: Route, destination?: WeightedDestination): Response {
    const record = this.record;
    if (result.endpoint !== undefined) {
      record.upstreamHost = `${result.endpoint.address}:${result.endpoint.port}`;
      record.destination = endpointWorkload(result.endpoint);
    }
    if (result.retries > 0) record.retries = result.retries;
    if (result.upstreamServiceTimeMs !== undefined) record.upstreamServiceTimeMs = result.upstreamServiceTimeMs;
    if (result.response === undefined) {
      const reply = result.reply ?? LOCAL_REPLIES.reset;
      return this.finish(localResponse(reply), flags, base, route, destination, reply.details, result.setCookie);
    }
    // Upstream responses have immutable headers in some runtimes: finish works on this one copy.
    const headers = new Headers(result.response.headers);
    if (result.upstreamServiceTimeMs !== undefined) headers.set("x-envoy-upstream-service-time", String(result.upstreamServiceTimeMs));
    return this.finish(result.response, flags, base, route, destination, "via_upstream", result.setCookie, headers);
  }

  /**
   * Applies response header operations and CORS, then meters the body; the record is emitted when it ends.
   * `ownHeaders` is a copy of the response's headers the caller already made, edited in place.
   */
  finish(response: Response, flags: ResponseFlag[], base: Base, route?: Route, destination?: WeightedDestination, details?: string, setCookie?: string, ownHeaders?: Headers): Response {
    const record = this.record;
    record.responseFlags = flags;
    if (details !== undefined) record.responseCodeDetails = details;
    let headers: Headers = ownHeaders ?? response.headers;
    if ((route !== undefined && (route.cors !== undefined || hasResponseOperations(destination?.headers, route.headers))) || setCookie !== undefined) {
      headers = ownHeaders ?? new Headers(response.headers);
      applyResponseHeaders(headers, destination?.headers, route?.headers);
      if (route?.cors !== undefined) decorateCorsResponse(route.cors, this.request, headers);
      if (setCookie !== undefined) headers.append("set-cookie", setCookie);
    }
    const status = response.status;
    record.responseCode = status;
    const body = meterBody(response.body, (bytes, end) => {
      record.responseBytes = bytes;
      if (end === "cancelled" && !record.responseFlags.includes("DC")) record.responseFlags = [...record.responseFlags, "DC"];
      record.durationMs = Math.max(0, base.now() - record.startTime);
      base.emit(record);
    });
    return new Response(body, { status, statusText: response.statusText, headers });
  }
}

type RouteToClusters = Extract<RouteAction, { kind: "route" }>;

/**
 * Edits a routed request's headers into the upstream request's (the destination's then the route's header
 * operations, Host after an authority rewrite, x-forwarded-proto) and returns its target after any uri
 * rewrite. Both pipelines (outbound's web Request, planOutbound's head) make the upstream request here.
 */
function toUpstream(headers: HeaderMap, decision: RouteDecision, action: RouteToClusters, destination: WeightedDestination, pathAndQuery: string, authority: string, scheme: string): string {
  const route = decision.route;
  applyRequestHeaders(headers, destination.headers, route.headers);
  let target = pathAndQuery;
  let upstreamAuthority = authority;
  if (action.rewrite !== undefined) {
    const match = decision.matchIndex >= 0 ? route.match[decision.matchIndex] : undefined;
    target = rewritePath(action.rewrite, pathAndQuery, match);
    if (action.rewrite.authority !== undefined) upstreamAuthority = action.rewrite.authority;
  }
  headers.set("host", upstreamAuthority);
  headers.set("x-forwarded-proto", scheme);
  return target;
}

/** A request's telemetry record as it arrives: what its head and trace context tell. */
function newRecord(method: string, path: string, authority: string, scheme: string, headers: HeaderMap, trace: TraceContext, reporter: RequestRecord["reporter"], start: number, peer: PeerInfo | undefined): RequestRecord {
  const record: RequestRecord = {
    reporter,
    startTime: start,
    durationMs: 0,
    method,
    path,
    authority,
    protocol: "HTTP/1.1",
    scheme,
    responseCode: 0,
    responseFlags: [],
    requestBytes: 0,
    responseBytes: 0,
    source: {},
    destination: {},
    connectionSecurityPolicy: "unknown",
  };
  const userAgent = headers.get("user-agent");
  if (userAgent !== null) record.userAgent = userAgent;
  const forwardedFor = headers.get("x-forwarded-for");
  if (forwardedFor !== null) record.xForwardedFor = forwardedFor;
  record.requestId = trace.requestId;
  record.traceId = trace.traceId;
  record.spanId = trace.spanId;
  if (peer !== undefined) record.downstreamRemoteAddress = peer.sourceIp;
  return record;
}

/** The query of an origin-form target, `?` included ("" without one). */
function searchOf(pathAndQuery: string): string {
  const query = pathAndQuery.indexOf("?");
  return query === -1 ? "" : pathAndQuery.slice(query);
}

/** Envoy's shadow authority: `-shadow` after the host name, before any port (`ratings:9080` → `ratings-shadow:9080`). */
export function shadowHost(authority: string): string {
  const port = /:\d+$/.exec(authority);
  return port === null ? `${authority}-shadow` : `${authority.slice(0, port.index)}-shadow${port[0]}`;
}

function chance(percentage: number, random: () => number): boolean {
  return percentage >= 100 || (percentage > 0 && random() * 100 < percentage);
}

function selfInfo(config: ProxyConfig): WorkloadInfo {
  const proxy = config.proxy;
  const info: WorkloadInfo = { namespace: proxy.namespace };
  if (proxy.workload !== undefined) info.workload = proxy.workload;
  if (proxy.serviceAccount !== undefined) info.principal = `${config.trust?.trustDomain ?? "cluster.local"}/ns/${proxy.namespace}/sa/${proxy.serviceAccount}`;
  return withAppAndVersion(info, proxy.labels);
}

/** Adds `app` and `version` as Istio reads them from labels (`app` / `version`, else the app.kubernetes.io ones). */
function withAppAndVersion(info: WorkloadInfo, labels: Record<string, string>): WorkloadInfo {
  const app = labels.app ?? labels["app.kubernetes.io/name"];
  if (app !== undefined) info.app = app;
  const version = labels.version ?? labels["app.kubernetes.io/version"];
  if (version !== undefined) info.version = version;
  return info;
}

const ENDPOINT_WORKLOADS = new WeakMap<Endpoint, WorkloadInfo>();

/** An endpoint's workload as its labels tell it; one frozen object per endpoint (telemetry caches by identity). */
function endpointWorkload(endpoint: Endpoint): WorkloadInfo {
  let info = ENDPOINT_WORKLOADS.get(endpoint);
  if (info === undefined) {
    info = Object.freeze(withAppAndVersion({}, endpoint.labels));
    ENDPOINT_WORKLOADS.set(endpoint, info);
  }
  return info;
}

const PEER_WORKLOADS = new Map<string, WorkloadInfo>();
const NO_PEER: WorkloadInfo = Object.freeze({});

/** The calling workload as its SPIFFE ID tells it. */
function peerWorkload(peer: PeerInfo): WorkloadInfo {
  const spiffeId = peer.spiffeId;
  if (spiffeId === undefined) return NO_PEER;
  let info = PEER_WORKLOADS.get(spiffeId);
  if (info === undefined) {
    const principal = spiffeId.replace(/^spiffe:\/\//, "");
    const parts = parsePrincipal(principal);
    info = Object.freeze(parts ? { principal, namespace: parts.namespace } : { principal });
    if (PEER_WORKLOADS.size >= 4096) PEER_WORKLOADS.clear();
    PEER_WORKLOADS.set(spiffeId, info);
  }
  return info;
}

/**
 * Random bytes (trace, span and request ids) cut from a pool that crypto.getRandomValues refills: one
 * call per a hundred or so requests instead of one per request. Each caller gets its own copy.
 */
function pooledRandomBytes(): (n: number) => Uint8Array {
  const pool = new Uint8Array(4096);
  let offset = pool.length;
  return (n) => {
    if (n > pool.length) return crypto.getRandomValues(new Uint8Array(n));
    if (offset + n > pool.length) {
      crypto.getRandomValues(pool);
      offset = 0;
    }
    const bytes = pool.slice(offset, offset + n);
    offset += n;
    return bytes;
  };
}

function defaultSleep(ms: number, signal?: CancelSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function defaultFetchJwks(uri: string): Promise<unknown> {
  const response = await fetch(uri);
  if (!response.ok) throw new Error(`JWKS ${uri}: HTTP ${response.status}`);
  return response.json();
}
