/**
 * @module test/node/proxy-config/support
 * Small builders for the proxy-config tests: Istio objects, proxy identities, and lookups into a
 * built config that fail loudly when what they look for is missing.
 */
import { expect } from "vitest";
import { type BuildProxyConfigInput, type IstioObject, buildProxyConfig } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import type { Cluster, ProxyConfig, ProxyIdentity, Route, VirtualHost } from "../../../edge-proxy/core/config/proxy-config.js";
import { validateProxyConfig } from "../../../edge-proxy/core/config/validate-proxy-config.js";

export function object(kind: string, namespace: string, name: string, spec: unknown, creationTimestamp?: string): IstioObject {
  const metadata: IstioObject["metadata"] = { name, namespace };
  if (creationTimestamp !== undefined) metadata.creationTimestamp = creationTimestamp;
  return { kind, apiVersion: "networking.istio.io/v1", metadata, spec };
}

export const vs = (namespace: string, name: string, spec: unknown, created?: string) => object("VirtualService", namespace, name, spec, created);
export const dr = (namespace: string, name: string, spec: unknown, created?: string) => object("DestinationRule", namespace, name, spec, created);
export const se = (namespace: string, name: string, spec: unknown) => object("ServiceEntry", namespace, name, spec);

export function sidecar(namespace = "default", labels: Record<string, string> = {}): ProxyIdentity {
  return { kind: "sidecar", namespace, labels, gateways: ["mesh"] };
}

export function gatewayProxy(namespace: string, ...gateways: string[]): ProxyIdentity {
  return { kind: "gateway", namespace, labels: { istio: "ingressgateway" }, gateways };
}

/** Builds, and asserts the result passes the proxy's own validation. */
export function build(input: BuildProxyConfigInput): ProxyConfig {
  const config = buildProxyConfig(input);
  const result = validateProxyConfig(config);
  expect(result.ok ? [] : result.errors).toEqual([]);
  return config;
}

export function listener(config: ProxyConfig, port = 0) {
  const found = config.listeners.find((l) => l.port === port);
  if (!found) throw new Error(`no listener for port ${port}: ${config.listeners.map((l) => l.port).join(", ")}`);
  return found;
}

export function virtualHost(config: ProxyConfig, name: string, port = 0): VirtualHost {
  const found = listener(config, port).virtualHosts.find((vh) => vh.name === name);
  if (!found) throw new Error(`no virtual host ${name}: ${listener(config, port).virtualHosts.map((vh) => vh.name).join(", ")}`);
  return found;
}

export function routesOf(config: ProxyConfig, name: string, port = 0): Route[] {
  return virtualHost(config, name, port).routes;
}

export function cluster(config: ProxyConfig, name: string): Cluster {
  const found = config.clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}: ${config.clusters.map((c) => c.name).join(", ")}`);
  return found;
}

/** The clusters a route's destinations name, with their weights. */
export function destinations(route: Route | undefined): [string, number][] {
  if (!route || route.action.kind !== "route") throw new Error(`not a forwarding route: ${JSON.stringify(route)}`);
  return route.action.destinations.map((d) => [d.cluster, d.weight]);
}

/** Every cluster name any route or mirror of `config` names. */
export function referencedClusters(config: ProxyConfig): string[] {
  return config.listeners.flatMap((l) =>
    l.virtualHosts.flatMap((vh) =>
      vh.routes.flatMap((r) => [...(r.action.kind === "route" ? r.action.destinations.map((d) => d.cluster) : []), ...(r.mirrors ?? []).map((m) => m.cluster)]),
    ),
  );
}
