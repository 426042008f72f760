/**
 * @module vs-l4-route
 * Semantic rules for the TLS (SNI) and TCP routes of a VirtualService: TLS routes need at least
 * one match, every TLS match needs SNI hosts that fall within the VirtualService's hosts, subnets
 * must be IPs or CIDRs, gateway references and namespaces must be well-formed, and every route
 * needs destinations.
 */
import { cidrProblem } from "../primitives.js";
import {
  type Obj,
  type Path,
  type Problems,
  asString,
  gatewayBoundHostProblem,
  gatewayRefProblem,
  hostSubsetOf,
  isDns1123Label,
  isIpAddress,
  nonEmptyList,
  objectEntries,
  stringEntries,
  wildcardDomainProblem,
} from "./vs-common.js";
import { checkRouteDestinations } from "./vs-destination.js";

export interface L4Context {
  /** The VirtualService's own hosts (SNI hosts must be subsets of one of them). */
  hosts: string[];
  /** Bound to gateways only (no `mesh`): generated AUTO_PASSTHROUGH SNI names are allowed. */
  gatewayOnly: boolean;
}

/** Fields common to TLSMatchAttributes and L4MatchAttributes. */
function checkL4MatchCommon(problems: Problems, path: Path, match: Obj): void {
  for (const [i, subnet] of stringEntries(match.destinationSubnets)) {
    problems.addIf([...path, "destinationSubnets", i], cidrProblem(subnet));
  }
  for (const [i, ref] of stringEntries(match.gateways)) problems.addIf([...path, "gateways", i], gatewayRefProblem(ref));
  const ns = asString(match.sourceNamespace);
  if (ns !== undefined && ns !== "" && !isDns1123Label(ns)) {
    problems.add([...path, "sourceNamespace"], `invalid sourceNamespace "${ns}": must be a namespace name (DNS-1123 label)`);
  }
}

function checkSniHost(problems: Problems, path: Path, sni: string, ctx: L4Context): void {
  const problem = ctx.gatewayOnly ? gatewayBoundHostProblem(sni, true) : wildcardDomainProblem(sni);
  if (problem) {
    // Istio only warns about IP addresses here (they go against the SNI spec but some clients send them).
    if (!isIpAddress(sni)) problems.add(path, problem);
    return;
  }
  if (!ctx.hosts.some((host) => hostSubsetOf(sni, host))) {
    problems.add(path, `SNI host "${sni}" is not a subset of any of the VirtualService hosts [${ctx.hosts.join(", ")}]`);
  }
}

/** `spec.tls[i]`. */
export function checkTlsRoute(problems: Problems, path: Path, route: Obj, ctx: L4Context): void {
  if (!nonEmptyList(route.match)) problems.add([...path, "match"], "TLS route must have at least one match (with sniHosts)");
  for (const [i, match] of objectEntries(route.match)) {
    const matchPath = [...path, "match", i];
    if (!nonEmptyList(match.sniHosts)) problems.add([...matchPath, "sniHosts"], "TLS match must have at least one SNI host");
    for (const [j, sni] of stringEntries(match.sniHosts)) checkSniHost(problems, [...matchPath, "sniHosts", j], sni, ctx);
    checkL4MatchCommon(problems, matchPath, match);
  }
  if (!nonEmptyList(route.route)) problems.add([...path, "route"], "TLS route must have at least one destination in route");
  checkRouteDestinations(problems, [...path, "route"], route.route, false);
}

/** `spec.tcp[i]`. */
export function checkTcpRoute(problems: Problems, path: Path, route: Obj): void {
  for (const [i, match] of objectEntries(route.match)) {
    const matchPath = [...path, "match", i];
    checkL4MatchCommon(problems, matchPath, match);
    const source = asString(match.sourceSubnet);
    if (source !== undefined && source !== "") problems.addIf([...matchPath, "sourceSubnet"], cidrProblem(source));
  }
  if (!nonEmptyList(route.route)) problems.add([...path, "route"], "TCP route must have at least one destination in route");
  checkRouteDestinations(problems, [...path, "route"], route.route, false);
}
