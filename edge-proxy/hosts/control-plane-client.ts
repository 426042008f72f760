/**
 * @module hosts/control-plane-client
 * The calls a proxy (the edge gateway, a Kubernetes sidecar) makes to the Weft control plane with its
 * own credential (docs/api.md "Registry", "Config distribution", and the CA): register, heartbeat and
 * deregister; fetch the config by version, also as a long-poll (`?wait=`); read the push stream (SSE,
 * resumed with Last-Event-ID); ACK or NACK a version; trade a CSR for a certificate and read the CA's
 * trust bundle. Transport is a fetch-like function, so a service binding and a public URL work the
 * same; the token is read on every call, since a projected service-account token rotates.
 */
import { readServerSentEvents } from "./server-sent-events.js";

/** Calls the control plane (a service binding's fetch, or the global fetch on the control plane's URL). */
export type ControlPlaneFetch = (request: Request) => Promise<Response>;

/** The bearer credential: a fixed token, or a function read before every call. */
export type TokenSource = string | (() => string | Promise<string>);

/** A port of the registered workload; `protocol` is Istio's (HTTP, GRPC, TCP, ...). */
export interface RegisteredPort {
  port: number;
  name?: string;
  protocol?: string;
}

/** What a proxy registers as (POST /v1/registry/workloads). */
export interface ProxyRegistration {
  kind: "sidecar" | "gateway";
  name: string;
  namespace: string;
  serviceAccount: string;
  address: string;
  labels: Record<string, string>;
  ports: RegisteredPort[];
  /** `namespace/name` of the Gateway objects served; only for kind "gateway". */
  gateways?: string[];
  node?: string;
  /** How long the registration lives without a heartbeat (10s–1h, default 90s). */
  ttl?: string;
}

/** The answer to a config fetch. */
export type ConfigAnswer =
  | { kind: "config"; body: unknown; version: string }
  | { kind: "not-modified" }
  | { kind: "not-registered" };

/** One thing read from the push stream. */
export type ConfigStreamItem =
  | { kind: "config"; body: unknown; version: string }
  /** A `config` event whose data is not JSON: NACK it. */
  | { kind: "malformed"; version: string; error: string }
  /** A comment (the preamble, a heartbeat) or an event of another type: the stream is alive. */
  | { kind: "heartbeat" };

export type ConfigStreamOpen = { kind: "stream"; items: AsyncIterable<ConfigStreamItem> } | { kind: "not-registered" };

/** What POST /v1/certificates answers. */
export interface IssuedCertificate {
  /** PEM certificates, leaf first; the CA's answer ends with the root. */
  certChain: string[];
  serial: string;
  expiresAt: string;
}

/** The control plane answered something the proxy cannot use (an auth failure, a 5xx). */
export class ControlPlaneError extends Error {
  readonly code = "ControlPlaneError";
  readonly status: number;
  constructor(what: string, status: number, detail: string) {
    super(`${what}: control plane answered ${status}${detail ? `: ${detail.slice(0, 300)}` : ""}`);
    this.name = "ControlPlaneError";
    this.status = status;
  }
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** The CA's calls, which need no registration. */
export interface CertificateAuthorityClient {
  /** Sends a PEM PKCS#10 request; `ttl` is a duration the CA bounds (e.g. "24h"). */
  requestCertificate(csrPem: string, options?: CallOptions & { ttl?: string }): Promise<IssuedCertificate>;
  /** The CA's trust bundle (GET /v1/ca/roots, public), one PEM certificate per item. */
  fetchRoots(options?: CallOptions): Promise<string[]>;
}

export interface ControlPlaneClient extends CertificateAuthorityClient {
  /** `<name>.<namespace>`, the registration id. */
  readonly proxyId: string;
  register(options?: CallOptions): Promise<void>;
  /** false when the registration is gone (expired or removed). */
  heartbeat(options?: CallOptions): Promise<boolean>;
  /** false when there was no registration to remove. */
  deregister(options?: CallOptions): Promise<boolean>;
  /**
   * The config unless `etag` (an If-None-Match value) names the current version. With `waitSeconds`
   * (1–60) the control plane holds the request until this proxy's config changes or the wait is over.
   */
  fetchConfig(etag: string | undefined, options?: CallOptions & { waitSeconds?: number }): Promise<ConfigAnswer>;
  /**
   * Opens the push stream. It starts with the current config unless `lastEventId` names it, then one
   * item per new version; it ends when the control plane closes it. Throws ControlPlaneError when the
   * control plane refuses it or answers something that is not an event stream.
   */
  openConfigStream(options?: CallOptions & { lastEventId?: string }): Promise<ConfigStreamOpen>;
  ack(version: string, options?: CallOptions): Promise<void>;
  nack(version: string, error: string, options?: CallOptions): Promise<void>;
}

/** Where the control plane is and how the proxy proves who it is. */
export interface ControlPlaneTransport {
  fetch: ControlPlaneFetch;
  baseUrl: string;
  token: TokenSource;
}

export interface ControlPlaneClientOptions extends ControlPlaneTransport {
  registration: ProxyRegistration;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle into its certificates, each ending in a newline. */
export function splitPemCertificates(bundle: string): string[] {
  return (bundle.match(PEM_CERTIFICATE) ?? []).map((pem) => `${pem}\n`);
}

/** The `message` of a Kubernetes Status body, else the text itself. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === "string") return body.message;
  } catch {
    /* not JSON */
  }
  return text;
}

/** Sends calls with the bearer token, read anew for each call. */
function createCaller(options: ControlPlaneTransport) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const token = async () => (typeof options.token === "string" ? options.token : await options.token());
  return {
    base,
    async call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal | undefined } = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${await token()}`, ...init.headers };
      if (init.body !== undefined) headers["content-type"] = "application/json";
      const request = new Request(`${base}${path}`, {
        method,
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return keepWhileAnswered(request, await options.fetch(request));
    },
  };
}

/**
 * Node's Request follows the caller's AbortSignal only while the Request object lives (undici holds it
 * weakly), so an abort after the Request was collected would not reach a long-poll or a stream. Each
 * Request is kept as long as its Response.
 */
const requestOf = new WeakMap<Response, Request>();
function keepWhileAnswered(request: Request, response: Response): Response {
  requestOf.set(response, request);
  return response;
}

/** Throws ControlPlaneError naming `what` unless `ok(status)`. */
async function expectStatus(what: string, response: Response, ok: (status: number) => boolean): Promise<void> {
  if (ok(response.status)) return;
  throw new ControlPlaneError(what, response.status, errorDetail(await response.text().catch(() => "")));
}

const done = async (response: Response) => void (await response.body?.cancel());

export function createCertificateAuthorityClient(options: ControlPlaneTransport): CertificateAuthorityClient {
  const { base, call } = createCaller(options);
  return {
    async requestCertificate(csrPem, o = {}) {
      const response = await call("POST", "/v1/certificates", { body: { csr: csrPem, ...(o.ttl !== undefined ? { ttl: o.ttl } : {}) }, signal: o.signal });
      await expectStatus("request certificate", response, (s) => s === 200 || s === 201);
      const body = (await response.json()) as Partial<IssuedCertificate>;
      if (!Array.isArray(body.certChain) || body.certChain.length === 0 || !body.certChain.every((c) => typeof c === "string") || typeof body.serial !== "string") {
        throw new ControlPlaneError("request certificate", response.status, "the answer has no certChain and serial");
      }
      return { certChain: body.certChain, serial: body.serial, expiresAt: String(body.expiresAt ?? "") };
    },
    async fetchRoots(o = {}) {
      const request = new Request(`${base}/v1/ca/roots`, { ...(o.signal ? { signal: o.signal } : {}) });
      const response = keepWhileAnswered(request, await options.fetch(request));
      await expectStatus("fetch CA roots", response, (s) => s === 200);
      const roots = splitPemCertificates(await response.text());
      if (roots.length === 0) throw new ControlPlaneError("fetch CA roots", response.status, "the trust bundle holds no PEM certificate");
      return roots;
    },
  };
}

export function createControlPlaneClient(options: ControlPlaneClientOptions): ControlPlaneClient {
  const { registration } = options;
  const proxyId = `${registration.name}.${registration.namespace}`;
  const { call } = createCaller(options);
  const expect = expectStatus;
  const id = encodeURIComponent(proxyId);

  return {
    proxyId,
    ...createCertificateAuthorityClient(options),
    async register(o = {}) {
      const response = await call("POST", "/v1/registry/workloads", { body: registration, signal: o.signal });
      await expect("register", response, (s) => s === 200 || s === 201);
      await done(response);
    },
    async heartbeat(o = {}) {
      const response = await call("PUT", `/v1/registry/workloads/${id}/heartbeat`, { body: {}, signal: o.signal });
      if (response.status === 404) {
        await done(response);
        return false;
      }
      await expect("heartbeat", response, (s) => s === 200);
      await done(response);
      return true;
    },
    async deregister(o = {}) {
      const response = await call("DELETE", `/v1/registry/workloads/${id}`, { signal: o.signal });
      if (response.status === 404) {
        await done(response);
        return false;
      }
      await expect("deregister", response, (s) => s === 200);
      await done(response);
      return true;
    },
    async fetchConfig(etag, o = {}) {
      const wait = o.waitSeconds !== undefined ? `?wait=${Math.min(60, Math.max(1, Math.round(o.waitSeconds)))}s` : "";
      const response = await call("GET", `/v1/proxies/${id}/config${wait}`, { ...(etag !== undefined ? { headers: { "if-none-match": etag } } : {}), signal: o.signal });
      if (response.status === 304) {
        await done(response);
        return { kind: "not-modified" };
      }
      if (response.status === 404) {
        await done(response);
        return { kind: "not-registered" };
      }
      await expect("fetch config", response, (s) => s === 200);
      const tag = response.headers.get("etag") ?? "";
      return { kind: "config", body: await response.json(), version: tag.replace(/^W\//, "").replace(/"/g, "") };
    },
    async openConfigStream(o = {}) {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (o.lastEventId !== undefined) headers["last-event-id"] = o.lastEventId;
      const response = await call("GET", `/v1/proxies/${id}/config/stream`, { headers, signal: o.signal });
      if (response.status === 404) {
        await done(response);
        return { kind: "not-registered" };
      }
      await expect("open config stream", response, (s) => s === 200);
      const type = response.headers.get("content-type") ?? "";
      if (!type.toLowerCase().startsWith("text/event-stream") || response.body === null) {
        await done(response);
        throw new ControlPlaneError("open config stream", response.status, `not an event stream (content-type "${type}")`);
      }
      return { kind: "stream", items: configItems(response.body, o.signal) };
    },
    async ack(version, o = {}) {
      const response = await call("POST", `/v1/proxies/${id}/status`, { body: { version, applied: true }, signal: o.signal });
      await expect("ack", response, (s) => s >= 200 && s < 300);
      await done(response);
    },
    async nack(version, error, o = {}) {
      const response = await call("POST", `/v1/proxies/${id}/status`, { body: { version, error }, signal: o.signal });
      await expect("nack", response, (s) => s >= 200 && s < 300);
      await done(response);
    },
  };
}

/** The config stream's events as items: `config` events by version (their id), everything else as liveness. */
async function* configItems(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<ConfigStreamItem, void, undefined> {
  for await (const item of readServerSentEvents(body, signal)) {
    if (item.kind !== "event" || item.event !== "config") {
      if (item.kind !== "retry") yield { kind: "heartbeat" };
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.data);
    } catch (cause) {
      yield { kind: "malformed", version: item.lastEventId, error: `the config event's data is not JSON: ${String(cause)}` };
      continue;
    }
    yield { kind: "config", body: parsed, version: item.lastEventId };
  }
}
