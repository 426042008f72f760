/**
 * @module traffic-policy
 * The TrafficPolicy of a DestinationRule (top level and per subset): its strict schema, assembled
 * from the load-balancer, connection-pool, outlier-detection and client-TLS pieces, plus
 * portLevelSettings, tunnel, proxyProtocol and retryBudget; and its rules: a policy (and each
 * port-level policy) must set something, port-level policies name a port, tunnels target an FQDN or
 * IP on a valid port with protocol CONNECT or POST.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { port } from "../primitives.js";
import { checkLoadBalancer, loadBalancerSchema } from "./traffic-policy-lb.js";
import { checkConnectionPool, connectionPoolSchema, outlierDetectionSchema } from "./traffic-policy-pool.js";
import { checkClientTls, clientTlsSchema } from "./traffic-policy-tls.js";
import { arr, fieldError, fqdnProblem, isIp, isSet, msDuration, num, numRange, obj, str, uint32, type Path } from "./we-common.js";

export { checkConnectionPool, connectionPoolSchema } from "./traffic-policy-pool.js";

const portTrafficPolicySchema = z.strictObject({
  port: z.strictObject({ number: port.optional() }).optional(),
  loadBalancer: loadBalancerSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  tls: clientTlsSchema.optional(),
});

const tunnelSchema = z.strictObject({
  protocol: z.string().optional(),
  targetHost: z.string(),
  targetPort: z.number(),
});

export const trafficPolicySchema = z.strictObject({
  loadBalancer: loadBalancerSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  tls: clientTlsSchema.optional(),
  portLevelSettings: z.array(portTrafficPolicySchema).max(4096, "at most 4096 portLevelSettings are allowed").optional(),
  tunnel: tunnelSchema.optional(),
  proxyProtocol: z.strictObject({ version: z.enum(["V1", "V2"]).optional() }).optional(),
  retryBudget: z
    .strictObject({
      percent: numRange(0, 100, "retry budget percent").nullable().optional(),
      minRetryConcurrency: uint32("minRetryConcurrency").optional(),
      budgetInterval: msDuration(0).optional(),
    })
    .optional(),
});

const POLICY_FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget"];
const PORT_POLICY_FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls"];

/** The rules of a TrafficPolicy at `path` (structure is checked by {@link trafficPolicySchema}). */
export function checkTrafficPolicy(raw: unknown, path: Path): FieldError[] {
  const policy = obj(raw);
  if (!policy) return [];
  const out: FieldError[] = [];
  if (!POLICY_FIELDS.some((f) => isSet(policy, f))) {
    out.push(fieldError(path, `traffic policy must set at least one of ${POLICY_FIELDS.join(", ")}`));
  }
  out.push(...checkPolicyParts(policy, path));
  arr(policy.portLevelSettings)?.forEach((entry, i) => {
    const at = [...path, "portLevelSettings", i];
    const pl = obj(entry);
    if (!pl) return;
    if (!isSet(pl, "port") || !isSet(obj(pl.port), "number")) {
      out.push(fieldError([...at, "port"], "Required value: a port-level traffic policy must set port.number"));
    }
    if (!PORT_POLICY_FIELDS.some((f) => isSet(pl, f))) {
      out.push(fieldError(at, `port traffic policy must set at least one of ${PORT_POLICY_FIELDS.join(", ")}`));
    }
    out.push(...checkPolicyParts(pl, at));
  });
  out.push(...checkTunnel(policy.tunnel, [...path, "tunnel"]));
  return out;
}

function checkPolicyParts(policy: Record<string, unknown>, path: Path): FieldError[] {
  return [
    ...checkLoadBalancer(policy.loadBalancer, [...path, "loadBalancer"]),
    ...checkConnectionPool(policy.connectionPool, [...path, "connectionPool"]),
    ...checkClientTls(policy.tls, [...path, "tls"]),
  ];
}

function checkTunnel(raw: unknown, path: Path): FieldError[] {
  const tunnel = obj(raw);
  if (!tunnel) return [];
  const out: FieldError[] = [];
  const protocol = str(tunnel.protocol);
  if (protocol !== undefined && protocol !== "" && protocol !== "CONNECT" && protocol !== "POST") {
    out.push(fieldError([...path, "protocol"], `Unsupported value: "${protocol}": tunnel protocol must be "CONNECT" or "POST"`));
  }
  const host = str(tunnel.targetHost);
  if (host !== undefined && !isIp(host) && fqdnProblem(host)) {
    out.push(fieldError([...path, "targetHost"], `tunnel target host "${host}" must be a valid FQDN or IP address: ${fqdnProblem(host)}`));
  }
  const targetPort = num(tunnel.targetPort);
  if (targetPort !== undefined && (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535)) {
    out.push(fieldError([...path, "targetPort"], `tunnel target port is invalid: port must be between 1-65535, got ${targetPort}`));
  }
  return out;
}
