/**
 * @module hosts/sidecar/agent/certificate-agent
 * What pilot-agent's SDS side does for the workload certificate: makes a key in the process, trades a
 * CSR for a certificate (POST /v1/certificates with the proxy's credential) and reads the CA's trust
 * bundle with each issuance; renews at about half the lifetime (45–55%, jittered so replicas spread
 * out), with a new key every time. While the CA cannot be reached it retries with capped exponential
 * backoff and jitter; a failed renewal keeps the current certificate in service until it expires.
 * `start()` resolves once a first certificate is held and only rejects when the agent is stopped.
 */
import { createCertificateAuthorityClient, type ControlPlaneFetch, type TokenSource } from "../../control-plane-client.js";
import type { SidecarLog, WorkloadCertificate } from "../sidecar-contracts.js";
import { deadline, systemClock, type AgentClock, type TimerHandle } from "./agent-clock.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
import { workloadCertificateFrom } from "./issued-certificate.js";
import { createWorkloadKey } from "./workload-key.js";

/** Whose certificate: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export interface CertificateAgentOptions {
  controlPlaneUrl: string;
  /** The proxy's credential (read before every request), or a token. */
  credential: { read(): Promise<string> } | TokenSource;
  identity: WorkloadIdentity;
  /** How requests reach the control plane (default: the global fetch). */
  fetch?: ControlPlaneFetch;
  /** The lifetime asked of the CA (e.g. "24h"); the CA's default when absent. */
  ttl?: string;
  clock?: AgentClock;
  /** [0, 1), for jitter. */
  random?: () => number;
  log?: SidecarLog;
  backoff?: BackoffPolicy;
  /** Share of the lifetime after which to renew, picked uniformly between min and max. */
  renewal?: { min: number; max: number };
  /** How long an issuance may go unanswered before it counts as failed, real time (default 30 s). */
  requestTimeoutMs?: number;
}

export interface CertificateAgent {
  /** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
  readonly spiffeId: string;
  /** Resolves once a certificate is held; rejects only when stopped before that. */
  start(): Promise<void>;
  /** The certificate to present now; undefined before the first one and once it expired unrenewed. */
  current(): WorkloadCertificate | undefined;
  /** The CA's trust bundle, PEM, as read with the latest issuance. */
  roots(): string[];
  /** Called with each new certificate; returns a function that unsubscribes. */
  onChange(listener: (certificate: WorkloadCertificate) => void): () => void;
  /** When the next issuance is due (a renewal, or a retry), epoch ms; undefined when none is scheduled. */
  nextRenewalAt(): number | undefined;
  stop(): Promise<void>;
}

export const DEFAULT_RENEWAL = { min: 0.45, max: 0.55 };

export function createCertificateAgent(options: CertificateAgentOptions): CertificateAgent {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log: SidecarLog = options.log ?? (() => undefined);
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const renewal = options.renewal ?? DEFAULT_RENEWAL;
  const { identity, credential } = options;
  const spiffeId = `spiffe://${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
  const client = createCertificateAuthorityClient({
    fetch: options.fetch ?? ((request) => fetch(request)),
    baseUrl: options.controlPlaneUrl,
    token: typeof credential === "string" || typeof credential === "function" ? credential : () => credential.read(),
  });
  const listeners = new Set<(certificate: WorkloadCertificate) => void>();
  const abort = new AbortController();

  let certificate: WorkloadCertificate | undefined;
  let trustBundle: string[] = [];
  let failures = 0;
  let timer: TimerHandle | undefined;
  let dueAt: number | undefined;
  let stopped = false;
  let started: Promise<void> | undefined;
  let settleStart: { resolve(): void; reject(error: Error): void } | undefined;
  let inflight: Promise<void> | undefined;
  let expiryLogged = false;

  const schedule = (at: number) => {
    if (stopped) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    dueAt = at;
    timer = clock.setTimeout(() => {
      timer = undefined;
      dueAt = undefined;
      inflight = attempt().finally(() => (inflight = undefined));
    }, Math.max(0, at - clock.now()));
  };

  const renewalTime = (issued: WorkloadCertificate) => {
    const share = renewal.min + (renewal.max - renewal.min) * random();
    return Math.round(issued.notBefore + (issued.notAfter - issued.notBefore) * share);
  };

  const attempt = async (): Promise<void> => {
    try {
      const key = await createWorkloadKey(spiffeId);
      const limit = deadline(options.requestTimeoutMs ?? 30_000, abort.signal);
      const signal = limit.signal;
      const [issued, bundle] = await Promise.all([
        client.requestCertificate(key.csrPem, { signal, ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) }),
        client.fetchRoots({ signal }),
      ]).finally(() => limit.clear());
      const next = workloadCertificateFrom(issued, key, spiffeId, clock.now());
      if (stopped) return;
      const renewed = certificate !== undefined;
      certificate = next;
      trustBundle = bundle;
      failures = 0;
      expiryLogged = false;
      const at = renewalTime(next);
      log({
        level: "info",
        event: renewed ? "certificate_renewed" : "certificate_issued",
        spiffeId,
        serial: next.serial,
        notAfter: new Date(next.notAfter).toISOString(),
        renewAt: new Date(at).toISOString(),
        roots: bundle.length,
      });
      schedule(at);
      settleStart?.resolve();
      settleStart = undefined;
      for (const listener of [...listeners]) {
        try {
          listener(next);
        } catch (cause) {
          log({ level: "error", event: "certificate_listener_failed", error: String(cause) });
        }
      }
    } catch (cause) {
      if (stopped) return;
      failures++;
      const delay = backoffDelay(failures, policy, random);
      const now = clock.now();
      const serving = certificate !== undefined && certificate.notAfter > now ? certificate : undefined;
      if (certificate !== undefined && serving === undefined && !expiryLogged) {
        expiryLogged = true;
        log({ level: "error", event: "certificate_expired", spiffeId, serial: certificate.serial, notAfter: new Date(certificate.notAfter).toISOString() });
      }
      log({
        level: serving === undefined ? "error" : "warn",
        event: certificate === undefined ? "certificate_request_failed" : "certificate_renewal_failed",
        spiffeId,
        error: String(cause),
        failures,
        retryInMs: delay,
        ...(serving ? { serving: serving.serial, expiresAt: new Date(serving.notAfter).toISOString() } : {}),
      });
      schedule(now + delay);
    }
  };

  return {
    spiffeId,
    start() {
      if (stopped) return Promise.reject(new Error("certificate agent stopped"));
      started ??= new Promise<void>((resolve, reject) => {
        settleStart = { resolve, reject };
        inflight = attempt().finally(() => (inflight = undefined));
      });
      return started;
    },
    current() {
      return certificate !== undefined && certificate.notAfter > clock.now() ? certificate : undefined;
    },
    roots: () => [...trustBundle],
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    nextRenewalAt: () => dueAt,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      dueAt = undefined;
      abort.abort();
      settleStart?.reject(new Error("certificate agent stopped before a certificate was issued"));
      settleStart = undefined;
      await inflight;
    },
  };
}
