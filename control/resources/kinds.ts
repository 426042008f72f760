/**
 * @module kinds
 * The Istio kinds Weft serves: group, versions, plural and short names as Istio's CRDs declare them,
 * and the validator of each. Kinds Istio has but Weft does not support are listed too, so they can
 * be refused by name.
 */
import type { SpecValidator } from "../validation/types.js";
import { validateVirtualService } from "../validation/networking/virtual-service.js";
import { validateGateway } from "../validation/networking/gateway.js";
import { validateDestinationRule } from "../validation/networking/destination-rule.js";
import { validateServiceEntry } from "../validation/networking/service-entry.js";
import { validateSidecar } from "../validation/networking/sidecar.js";
import { validateWorkloadEntry } from "../validation/networking/workload-entry.js";
import { validateWorkloadGroup } from "../validation/networking/workload-group.js";
import { validatePeerAuthentication } from "../validation/security/peer-authentication.js";
import { validateAuthorizationPolicy } from "../validation/security/authorization-policy.js";
import { validateRequestAuthentication } from "../validation/security/request-authentication.js";
import { validateTelemetry } from "../validation/telemetry/telemetry.js";

export interface KindInfo {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  /** Served versions, the preferred (storage) one first. */
  versions: string[];
  validate: SpecValidator;
}

const NETWORKING = ["v1", "v1beta1", "v1alpha3"];
const SECURITY = ["v1", "v1beta1"];
const TELEMETRY = ["v1", "v1alpha1"];

function kind(group: string, kindName: string, plural: string, shortNames: string[], versions: string[], validate: SpecValidator): KindInfo {
  return { group, kind: kindName, plural, singular: kindName.toLowerCase(), shortNames, versions, validate };
}

/** Every kind Weft stores and serves. */
export const KINDS: readonly KindInfo[] = [
  kind("networking.istio.io", "VirtualService", "virtualservices", ["vs"], NETWORKING, validateVirtualService),
  kind("networking.istio.io", "DestinationRule", "destinationrules", ["dr"], NETWORKING, validateDestinationRule),
  kind("networking.istio.io", "Gateway", "gateways", ["gw"], NETWORKING, validateGateway),
  kind("networking.istio.io", "ServiceEntry", "serviceentries", ["se"], NETWORKING, validateServiceEntry),
  kind("networking.istio.io", "Sidecar", "sidecars", [], NETWORKING, validateSidecar),
  kind("networking.istio.io", "WorkloadEntry", "workloadentries", ["we"], NETWORKING, validateWorkloadEntry),
  kind("networking.istio.io", "WorkloadGroup", "workloadgroups", ["wg"], NETWORKING, validateWorkloadGroup),
  kind("security.istio.io", "PeerAuthentication", "peerauthentications", ["pa"], SECURITY, validatePeerAuthentication),
  kind("security.istio.io", "AuthorizationPolicy", "authorizationpolicies", ["ap"], SECURITY, validateAuthorizationPolicy),
  kind("security.istio.io", "RequestAuthentication", "requestauthentications", ["ra"], SECURITY, validateRequestAuthentication),
  kind("telemetry.istio.io", "Telemetry", "telemetries", ["telemetry"], TELEMETRY, validateTelemetry),
];

/** Istio kinds that Weft refuses by name rather than storing as if they worked. */
export const UNSUPPORTED_KINDS: Readonly<Record<string, string>> = {
  EnvoyFilter: "EnvoyFilter patches Envoy's own configuration, and Weft's proxy is not Envoy",
  WasmPlugin: "Weft's proxy does not run Wasm extensions",
  TrafficExtension: "Weft's proxy does not run Wasm or Lua extensions",
  ProxyConfig: "proxy settings are given to Weft's sidecar by its own flags and annotations",
};

const byGroupPlural = new Map<string, KindInfo>(KINDS.map((k) => [`${k.group}/${k.plural}`, k]));
const byGroupKind = new Map<string, KindInfo>(KINDS.map((k) => [`${k.group}/${k.kind}`, k]));

/** Finds a kind by URL segments (`networking.istio.io`, `virtualservices`). */
export function kindByPlural(group: string, plural: string): KindInfo | undefined {
  return byGroupPlural.get(`${group}/${plural}`);
}

/** Finds a kind by `apiVersion` group and `kind`. */
export function kindByName(group: string, kindName: string): KindInfo | undefined {
  return byGroupKind.get(`${group}/${kindName}`);
}

/** Resolves what a person types on the command line: `vs`, `virtualservice`, `VirtualServices`, `virtualservice.networking.istio.io`. */
export function kindByAlias(alias: string): KindInfo | undefined {
  const lower = alias.toLowerCase();
  const [name, ...groupParts] = lower.split(".");
  const group = groupParts.join(".");
  return KINDS.find(
    (k) =>
      (group === "" || k.group === group) &&
      (k.plural === name || k.singular === name || k.shortNames.includes(name ?? "")),
  );
}

/** `virtualservice.networking.istio.io`, the prefix kubectl prints before `/name`. */
export function qualifiedName(k: KindInfo): string {
  return `${k.singular}.${k.group}`;
}
