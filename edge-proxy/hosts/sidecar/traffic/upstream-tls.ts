/**
 * @module hosts/sidecar/traffic/upstream-tls
 * Which TLS an upstream attempt gets, as Istio decides it for a sidecar's clusters:
 *
 * - the local application (`direction: "inbound"`) and the PassthroughCluster: plain text;
 * - DestinationRule `tls.mode: ISTIO_MUTUAL`: the mesh's mutual TLS;
 * - no TLS mode and an endpoint labelled `security.istio.io/tlsMode: istio` (it has a sidecar): mutual
 *   TLS too, Istio's auto mTLS; without the label, plain text;
 * - `DISABLE`: plain text; `SIMPLE`: TLS origination against the system's CAs;
 * - `MUTUAL` (TLS origination with the user's own client certificate): the config carries no such
 *   credentials, so the attempt is refused rather than sent in plain text.
 *
 * Also Istio's SNI for mesh connections, `outbound_.<port>_.<subset>_.<host>` (the cluster name with
 * `|` written `_.`), unless the DestinationRule names one.
 */
import { isIP } from "node:net";
import type { Cluster, Endpoint } from "../../../core/config/proxy-config.js";
import type { UpstreamTarget } from "../../../core/proxy/host.js";

export const TLS_MODE_LABEL = "security.istio.io/tlsMode";
export const PASSTHROUGH_CLUSTER = "PassthroughCluster";

export type UpstreamTls =
  | { kind: "plain" }
  | { kind: "mesh"; servername: string | undefined; expected: readonly string[] | undefined }
  | { kind: "simple"; servername: string | undefined; expected: readonly string[] | undefined }
  | { kind: "unsupported"; reason: string };

const PLAIN: UpstreamTls = Object.freeze({ kind: "plain" });
const DECISIONS = new WeakMap<Cluster, WeakMap<Endpoint, UpstreamTls>>();

/** Istio's SNI for a cluster (`outbound|9080|v1|reviews...` → `outbound_.9080_.v1_.reviews...`). */
export function istioSni(cluster: Cluster): string | undefined {
  if (cluster.name.startsWith("outbound|")) return cluster.name.replaceAll("|", "_.");
  return isIP(cluster.host) === 0 ? cluster.host : undefined;
}

function decide(target: UpstreamTarget): UpstreamTls {
  const { cluster, endpoint } = target;
  if (cluster.name === PASSTHROUGH_CLUSTER) return PLAIN;
  const tls = cluster.policy.tls;
  const expected = tls?.subjectAltNames !== undefined && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : undefined;
  switch (tls?.mode) {
    case "ISTIO_MUTUAL":
      return { kind: "mesh", servername: tls.sni ?? istioSni(cluster), expected };
    case "SIMPLE":
      return { kind: "simple", servername: tls.sni ?? (isIP(cluster.host) === 0 ? cluster.host : undefined), expected };
    case "MUTUAL":
      return { kind: "unsupported", reason: `${cluster.name}: tls mode MUTUAL needs client credentials the config does not carry` };
    case "DISABLE":
      return PLAIN;
    default:
      return endpoint.labels[TLS_MODE_LABEL] === "istio" ? { kind: "mesh", servername: istioSni(cluster), expected } : PLAIN;
  }
}

/** The TLS for one attempt; computed once per (cluster, endpoint) of a config. */
export function upstreamTls(target: UpstreamTarget): UpstreamTls {
  if (target.direction === "inbound") return PLAIN;
  let byEndpoint = DECISIONS.get(target.cluster);
  if (byEndpoint === undefined) {
    byEndpoint = new WeakMap();
    DECISIONS.set(target.cluster, byEndpoint);
  }
  let decision = byEndpoint.get(target.endpoint);
  if (decision === undefined) {
    decision = decide(target);
    byEndpoint.set(target.endpoint, decision);
  }
  return decision;
}
