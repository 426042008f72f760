/**
 * @module proxy/head-plan
 * The engine's pipelines for a host with its own HTTP/1 codec (the sidecar's fast path): the request
 * arrives as a head (method, target, a HeaderMap) with its body already read, and nothing per request is
 * a web Request, Response or stream. `planOutbound` / `planInbound` (proxy.ts) run the same stages as
 * `outbound` / `inbound` on the head and return a Plan:
 *
 * - `local`: the proxy answers itself (no route, no healthy upstream, ...): the host writes status, headers
 *   and body, then calls `complete`;
 * - `forward`: the upstream request's head (the received headers edited in place: trace, route and
 *   destination operations, rewrite, Host) and `send(sender)`, which runs the router (circuit breaker,
 *   load balancer, retries, timeouts, outlier detection: forwardWith) over the host's attempts. Its
 *   outcome is the upstream response with its headers already edited as the web pipeline edits them, or
 *   a local reply; the host streams the body and calls `complete`.
 *
 * A request that needs what only the web pipeline does (CORS, fault injection, mirroring, redirects and
 * direct responses, https redirects, JWT or CUSTOM authorization, a denial, a target the URL parser would
 * rewrite) gets no plan: the host sends it through `outbound` / `inbound` instead. Planning changes no
 * state before that answer, so both paths see the request the same way.
 */
import type { Cluster, Endpoint, Route, WeightedDestination } from "../config/proxy-config.js";
import type { HeaderMap } from "../http/header-list.js";
import type { RequestRecord, ResponseFlag, WorkloadInfo } from "../telemetry/types.js";
import type { UpstreamCluster } from "../upstream/types.js";
import type { CancelSignal } from "./cancellation.js";
import { forwardWith, type AttemptSender, type ForwardResult, type RouterOptions } from "./forward.js";
import { applyResponseHeaders } from "./header-operations.js";
import type { LocalReply } from "./local-reply.js";

/** A request as a host's HTTP/1 codec read it. */
export interface RequestHead {
  method: string;
  /** The origin-form request target as received (`/reviews/1?x=y`). */
  pathAndQuery: string;
  /** The received headers (names lower-case); the plan edits them into the upstream request's. */
  headers: HeaderMap;
  /** Length of the body, which the host has read in full (so attempts can send it again). */
  bodyBytes: number;
}

/** An upstream response head as the host's codec read it; the plan edits `headers` in place. */
export interface UpstreamResponseHead {
  readonly status: number;
  readonly headers: HeaderMap;
}

/** An answer the proxy makes itself. `headers` are complete but for framing (content-length). */
export interface LocalAnswer {
  kind: "local";
  status: number;
  headers: [string, string][];
  body: string;
}

export type SendOutcome<R extends UpstreamResponseHead> = { kind: "upstream"; response: R } | LocalAnswer;

interface Completion {
  /** The response is over: `bytes` of body went downstream; `disconnected` when the client left first (DC). */
  complete(bytes: number, disconnected: boolean): void;
}

export type LocalPlan = LocalAnswer & Completion;

export interface ForwardPlan extends Completion {
  kind: "forward";
  /** The upstream request's head. */
  readonly method: string;
  readonly pathAndQuery: string;
  readonly headers: HeaderMap;
  /** Runs the router over `sender`'s attempts. `signal`: the downstream went away (DC). */
  send<R extends UpstreamResponseHead>(sender: AttemptSender<R>, signal?: CancelSignal): Promise<SendOutcome<R>>;
}

export type Plan = LocalPlan | ForwardPlan;

/** The engine's parts a plan uses (proxy.ts). */
export interface PlanBase {
  now: () => number;
  emit: (record: RequestRecord) => void;
  endpointWorkload: (endpoint: Endpoint) => WorkloadInfo;
}

/** What `send` forwards through: the cluster, the router options, and the route whose response operations apply. */
export interface PlanTarget {
  upstream: UpstreamCluster;
  options: RouterOptions;
  route?: Route;
  destination?: WeightedDestination;
}

/** One planned request: its telemetry record, completed when the host says the response is over. */
export class HeadExchange implements Completion {
  constructor(
    readonly record: RequestRecord,
    private readonly base: PlanBase,
  ) {}

  /** One of Envoy's local replies (its flag and details into the record). */
  local(reply: LocalReply): LocalPlan {
    const answer = this.answer(reply, reply.flag !== undefined ? [reply.flag] : []);
    return { ...answer, complete: (bytes, disconnected) => this.complete(bytes, disconnected) };
  }

  /** A forward plan of `target` for the upstream request head. */
  forward(target: PlanTarget, method: string, pathAndQuery: string, headers: HeaderMap): ForwardPlan {
    return {
      kind: "forward",
      method,
      pathAndQuery,
      headers,
      send: (sender, signal) => this.send(target, sender, signal),
      complete: (bytes, disconnected) => this.complete(bytes, disconnected),
    };
  }

  complete(bytes: number, disconnected: boolean): void {
    const record = this.record;
    record.responseBytes = bytes;
    if (disconnected && !record.responseFlags.includes("DC")) record.responseFlags = [...record.responseFlags, "DC"];
    record.durationMs = Math.max(0, this.base.now() - record.startTime);
    this.base.emit(record);
  }

  describeDestination(cluster: Cluster): void {
    describeDestination(this.record, cluster);
  }

  private answer(reply: LocalReply, flags: ResponseFlag[]): LocalAnswer {
    const record = this.record;
    record.responseFlags = flags;
    record.responseCodeDetails = reply.details;
    record.responseCode = reply.status;
    return { kind: "local", status: reply.status, headers: reply.body === "" ? [] : [["content-type", "text/plain"]], body: reply.body };
  }

  private async send<R extends UpstreamResponseHead>(target: PlanTarget, sender: AttemptSender<R>, signal: CancelSignal | undefined): Promise<SendOutcome<R>> {
    const result: ForwardResult<R> = await forwardWith(sender, target.upstream, target.options, signal);
    const record = this.record;
    if (result.endpoint !== undefined) {
      record.upstreamHost = `${result.endpoint.address}:${result.endpoint.port}`;
      record.destination = this.base.endpointWorkload(result.endpoint);
    }
    if (result.retries > 0) record.retries = result.retries;
    if (result.upstreamServiceTimeMs !== undefined) record.upstreamServiceTimeMs = result.upstreamServiceTimeMs;
    const response = result.response;
    if (response === undefined) {
      const reply = result.reply as LocalReply;
      const answer = this.answer(reply, result.flags);
      if (result.setCookie !== undefined) answer.headers.push(["set-cookie", result.setCookie]);
      return answer;
    }
    record.responseFlags = result.flags;
    record.responseCodeDetails = "via_upstream";
    record.responseCode = response.status;
    const headers = response.headers;
    if (result.upstreamServiceTimeMs !== undefined) headers.set("x-envoy-upstream-service-time", String(result.upstreamServiceTimeMs));
    if (target.route !== undefined) applyResponseHeaders(headers, target.destination?.headers, target.route.headers);
    if (result.setCookie !== undefined) headers.append("set-cookie", result.setCookie);
    return { kind: "upstream", response };
  }
}

/** The destination_service labels of a cluster's host (`reviews.default.svc.cluster.local`). */
export function describeDestination(record: RequestRecord, cluster: Cluster): void {
  let service = SERVICES.get(cluster);
  if (service === undefined) {
    const parts = cluster.host.split(".");
    service = parts.length >= 3 && parts[2] === "svc" ? { name: parts[0], namespace: parts[1] } : { name: cluster.host, namespace: undefined };
    SERVICES.set(cluster, service);
  }
  record.upstreamCluster = cluster.name;
  record.destinationService = cluster.host;
  record.destinationServiceName = service.name;
  if (service.namespace !== undefined) record.destinationServiceNamespace = service.namespace;
}

/** A cluster's service name and namespace, read from its host once. */
const SERVICES = new WeakMap<Cluster, { name: string | undefined; namespace: string | undefined }>();

/**
 * Whether a request target reaches the router unchanged through the web pipeline's URL parsing: only
 * characters the parser keeps as they are, and no dot segment (`/./`, `/../`, their %2e forms) to remove.
 */
export function targetIsCanonical(target: string): boolean {
  if (target.charCodeAt(0) !== 47 /* / */) return false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 47 /* / */) {
      const next = target.charCodeAt(i + 1);
      if (next === 46 /* . */ || next === 37 /* % */) return false;
      continue;
    }
    if (!SAFE[c]) return false;
  }
  return true;
}

/** The characters the WHATWG URL parser leaves alone in a special URL's path and query (and `%`, checked after `/`). */
const SAFE: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&()*+,;=:@/?%";
  for (let i = 0; i < allowed.length; i++) table[allowed.charCodeAt(i)] = 1;
  return table;
})();
