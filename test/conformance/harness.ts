/**
 * @module conformance/harness
 * What a runtime gives the conformance suite: real upstream endpoints (loopback Node servers, or a second
 * Worker reached through a service binding), an address nothing listens on, and the host's `send`.
 * Also the suite's tools: Istio YAML → ProxyConfig for the harness's endpoints, a frozen clock, a sink
 * collecting access-log records, and a `send` wrapper that counts attempts per endpoint.
 */
import { parseAllDocuments } from "yaml";
import { buildProxyConfig, type IstioObject, type ServiceEndpoints } from "../../edge-proxy/core/config/build/build-proxy-config.js";
import type { ProxyConfig, ProxyIdentity, TrustConfig } from "../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../edge-proxy/core/config/validate-proxy-config.js";
import type { UpstreamTarget } from "../../edge-proxy/core/proxy/host.js";
import type { Proxy } from "../../edge-proxy/core/proxy/proxy.js";
import type { RequestRecord, TelemetrySink } from "../../edge-proxy/core/telemetry/types.js";
import type { Echo } from "./upstream-app.js";

export interface EndpointAddress {
  address: string;
  port: number;
}

export interface ConformanceHarness {
  runtime: "node" | "workerd";
  /** Started once before the suite; `count` live endpoints, named e0, e1, ... in echoes. */
  start(count: number): Promise<void>;
  stop(): Promise<void>;
  /** Live endpoint i (its upstream app names itself `e<i>`). */
  endpoint(i: number): EndpointAddress;
  /** An address where a connection is refused. */
  deadEndpoint(): EndpointAddress;
  send(request: Request, target: UpstreamTarget): Promise<Response>;
  /** Wraps each proxy the suite makes (plan-adapter's viaPlans: the head pipelines instead of the web ones). */
  adapt?(proxy: Proxy, send: (request: Request, target: UpstreamTarget) => Promise<Response>): Proxy;
}

/** `send` that records every attempt: which endpoint, the request as sent. */
export function countingSend(harness: ConformanceHarness) {
  const attempts: { endpoint: string; host: string | null; path: string; shadow: boolean }[] = [];
  const send = (request: Request, target: UpstreamTarget) => {
    const host = request.headers.get("host");
    attempts.push({ endpoint: `${target.endpoint.address}:${target.endpoint.port}`, host, path: new URL(request.url).pathname, shadow: /-shadow(:\d+)?$/.test(host ?? "") });
    return harness.send(request, target);
  };
  return { send, attempts };
}

/** A clock tests move by hand (outlier ejection times). */
export function manualClock(start = Date.UTC(2026, 10, 25)) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

export function recordSink(): TelemetrySink & { records: RequestRecord[] } {
  const records: RequestRecord[] = [];
  return { records, record: (r) => void records.push(structuredClone(r)) };
}

export function parseObjects(yaml: string): IstioObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as IstioObject | null)
    .filter((o): o is IstioObject => o !== null)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? "default" } }));
}

export interface ConfigOptions {
  proxy?: Partial<ProxyIdentity>;
  trust?: TrustConfig;
}

/** Builds (and validates) the config of a sidecar in `default` from Istio YAML, with the given endpoints per `host:port`. */
export function configFrom(yaml: string, endpoints: Record<string, (EndpointAddress & { labels?: Record<string, string> })[]>, options: ConfigOptions = {}): ProxyConfig {
  const serviceEndpoints: ServiceEndpoints[] = Object.entries(endpoints).map(([hostPort, list]) => {
    const colon = hostPort.lastIndexOf(":");
    return { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)), endpoints: list.map((e) => ({ address: e.address, port: e.port, labels: e.labels ?? {} })) };
  });
  const config = buildProxyConfig({
    resources: parseObjects(yaml),
    proxy: { kind: "sidecar", namespace: "default", labels: { app: "sleep" }, gateways: ["mesh"], workload: "sleep", serviceAccount: "sleep", ...options.proxy },
    endpoints: serviceEndpoints,
    ...(options.trust ? { trust: options.trust } : {}),
  });
  const checked = validateProxyConfig(config);
  if (!checked.ok) throw new Error(`built config is invalid: ${JSON.stringify(checked.errors)}`);
  return checked.config;
}

export async function echoOf(response: Response): Promise<Echo> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Echo;
  } catch {
    throw new Error(`expected an echo, got ${response.status}: ${text.slice(0, 200)}`);
  }
}
