/**
 * @module proxy/host
 * What a host (the Node sidecar, the edge Worker, a test) gives the proxy engine: how to send a request to
 * an upstream endpoint, the clock, randomness, where telemetry goes, and how to keep background work
 * (mirrors) alive. The engine imports no host; hosts import this contract.
 */
import type { CancelSignal } from "./cancellation.js";
import type { Cluster, Endpoint } from "../config/proxy-config.js";
import type { CustomAuthorizer } from "../security/types.js";
import type { TelemetrySink } from "../telemetry/types.js";

/** Where one attempt goes. */
export interface UpstreamTarget {
  cluster: Cluster;
  endpoint: Endpoint;
  /** connectionPool.http.maxRequestsPerConnection (0 = unlimited): the host's connection reuse should honour it. */
  maxRequestsPerConnection: number;
  /** connectionPool.tcp.connectTimeout, ms, when set. */
  connectTimeoutMs?: number;
  /** "inbound" when the engine hands a request to the local application. */
  direction: "outbound" | "inbound";
}

/** Why an attempt produced no response. Hosts reject `send` with this; any other error reads as a reset. */
export type UpstreamFailureKind = "connect-failure" | "reset" | "refused-stream";

export class UpstreamFailure extends Error {
  readonly kind: UpstreamFailureKind;
  constructor(kind: UpstreamFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UpstreamFailure";
    this.kind = kind;
  }
}

export interface ProxyHost {
  /**
   * Sends `request` (its URL names the upstream authority and path; its signal aborts the attempt) to
   * `target.endpoint` and resolves with the upstream's response headers. Rejects with UpstreamFailure.
   */
  send(request: Request, target: UpstreamTarget): Promise<Response>;
  /** Epoch milliseconds. Default Date.now. */
  now?(): number;
  /** [0, 1). Default Math.random. Tests pass a seeded generator. */
  random?(): number;
  /** Random bytes for trace and request ids. Default crypto.getRandomValues. */
  randomBytes?(length: number): Uint8Array;
  /** Waits `ms` (fault delays, retry back-off); resolves early, without error, when `signal` aborts. Default setTimeout. */
  sleep?(ms: number, signal?: CancelSignal): Promise<void>;
  /** Keeps background work (mirrored requests) alive after the response is returned (a Worker's ctx.waitUntil). */
  waitUntil?(work: Promise<unknown>): void;
  /** Every request's record goes to each sink (the engine always feeds its own metrics registry too). */
  telemetry?: TelemetrySink[];
  /** Fetches a JWKS document for RequestAuthentication's jwksUri. Default: fetch(). */
  fetchJwks?(uri: string): Promise<unknown>;
  /** External authorizers for CUSTOM AuthorizationPolicies, by provider name. */
  customAuthorizers?: Record<string, CustomAuthorizer>;
}
