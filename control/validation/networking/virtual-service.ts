/**
 * @module virtual-service
 * Validates a VirtualService spec the way Istio's admission webhook does: the strict structural
 * schema first (unknown fields, types, enums, ranges), then the semantic rules on the raw spec:
 * hosts (or none, for a delegate VirtualService), gateway bindings, exportTo, and every HTTP, TLS
 * and TCP route. Reports every problem found with its full field path; never throws.
 */
import type { FieldError } from "../../errors.js";
import { checkSchema } from "../primitives.js";
import type { SpecContext, SpecValidator } from "../types.js";
import {
  type Obj,
  Problems,
  asObject,
  checkExportTo,
  gatewayBoundHostProblem,
  gatewayRefProblem,
  hostsOverlap,
  isIpAddress,
  nonEmptyList,
  objectEntries,
  stringEntries,
  wildcardDomainProblem,
} from "./vs-common.js";
import { checkJwtClaimRouting } from "./vs-http-match.js";
import { checkHttpRoute } from "./vs-http-route.js";
import { checkTcpRoute, checkTlsRoute } from "./vs-l4-route.js";
import { virtualServiceSchema } from "./vs-schema.js";

const MESH = "mesh";

export const validateVirtualService: SpecValidator = (spec: unknown, ctx: SpecContext): FieldError[] => {
  try {
    const errors = checkSchema(virtualServiceSchema, spec, ["spec"]);
    const obj = asObject(spec);
    if (!obj) return errors;
    const problems = new Problems();
    checkVirtualService(problems, obj, ctx);
    return [...errors, ...problems.list];
  } catch (err) {
    // Defensive: a validator must never throw on bad input.
    return [{ field: "spec", message: `internal validation error: ${(err as Error).message}` }];
  }
};

function checkVirtualService(problems: Problems, spec: Obj, ctx: SpecContext): void {
  const hosts = stringEntries(spec.hosts);
  const gateways = stringEntries(spec.gateways);
  const isDelegate = !nonEmptyList(spec.hosts);

  // A VirtualService without hosts is a delegate: only a root VirtualService's HTTP route can use it.
  if (isDelegate) {
    if (nonEmptyList(spec.gateways)) problems.add(["spec", "gateways"], "a delegate VirtualService (one without hosts) must not set gateways: the root VirtualService binds them");
    if (nonEmptyList(spec.tls)) problems.add(["spec", "tls"], "a delegate VirtualService (one without hosts) must not have tls routes: only HTTP routes can be delegated");
    if (nonEmptyList(spec.tcp)) problems.add(["spec", "tcp"], "a delegate VirtualService (one without hosts) must not have tcp routes: only HTTP routes can be delegated");
  }

  for (const [i, ref] of gateways) problems.addIf(["spec", "gateways", i], gatewayRefProblem(ref));
  const gatewayOnly = gateways.length > 0 && !gateways.some(([, g]) => g === MESH);
  const appliesToMesh = !gatewayOnly;
  if (!gatewayOnly) checkJwtClaimRouting(problems, ["spec", "http"], spec.http);

  checkHosts(problems, spec, hosts, gatewayOnly, appliesToMesh);

  if (!nonEmptyList(spec.http) && !nonEmptyList(spec.tcp) && !nonEmptyList(spec.tls)) {
    problems.add(["spec"], "a VirtualService must have at least one http, tcp or tls route");
  }
  for (const [i, route] of objectEntries(spec.http)) {
    checkHttpRoute(problems, ["spec", "http", i], route, { inDelegateVirtualService: isDelegate });
  }
  const l4 = { hosts: hosts.map(([, h]) => h), gatewayOnly };
  for (const [i, route] of objectEntries(spec.tls)) checkTlsRoute(problems, ["spec", "tls", i], route, l4);
  for (const [i, route] of objectEntries(spec.tcp)) checkTcpRoute(problems, ["spec", "tcp", i], route);

  checkExportTo(problems, ["spec", "exportTo"], spec.exportTo, ctx.namespace);
}

/** Each host a (wildcard) DNS name or an IP; `*` not for the mesh; no two hosts overlapping. */
function checkHosts(problems: Problems, spec: Obj, hosts: Array<[number, string]>, gatewayOnly: boolean, appliesToMesh: boolean): void {
  const routesBySni = objectEntries(spec.tls).some(([, route]) => objectEntries(route.match).some(([, m]) => nonEmptyList(m.sniHosts)));
  let allValid = true;
  for (const [i, host] of hosts) {
    const problem = gatewayOnly ? gatewayBoundHostProblem(host, routesBySni) : wildcardDomainProblem(host);
    if (problem) {
      if (!isIpAddress(host)) {
        problems.add(["spec", "hosts", i], problem);
        allValid = false;
      }
    } else if (appliesToMesh && host === "*") {
      problems.add(
        ["spec", "hosts", i],
        `wildcard host "*" is not allowed for a VirtualService bound to the mesh gateway: list gateways (without "mesh") or use specific hosts`,
      );
      allValid = false;
    }
  }
  if (!allValid) return;
  for (let a = 0; a < hosts.length; a++) {
    for (let b = a + 1; b < hosts.length; b++) {
      const [, hostA] = hosts[a]!;
      const [j, hostB] = hosts[b]!;
      if (hostsOverlap(hostA, hostB)) {
        problems.add(["spec", "hosts", j], `duplicate host "${hostB}": it overlaps "${hostA}" in the same VirtualService`);
      }
    }
  }
}
