/**
 * @module vs-http-route
 * Semantic rules for one HTTP route of a VirtualService: which actions may be combined (route,
 * redirect, directResponse, delegate, fault, rewrite, mirror/mirrors), how delegation works
 * between a root and a delegate VirtualService, and dispatch to the match, destination and
 * action rules of the other `vs-*` modules.
 */
import {
  type Obj,
  type Path,
  type Problems,
  asObject,
  asString,
  durationPrecisionProblem,
  isDns1123Label,
  isSet,
  nonEmptyList,
} from "./vs-common.js";
import { checkAuthorityRewrite, checkHeaderOperations, checkRouteDestinations } from "./vs-destination.js";
import { checkDirectResponse, checkFault, checkMirroring, checkRedirect, checkRetries, checkRewrite } from "./vs-http-actions.js";
import { checkCorsPolicy, checkHttpMatches } from "./vs-http-match.js";

/** Where the route lives: a normal VirtualService, or a delegate one (no hosts) that a root delegates to. */
export interface HttpRouteContext {
  inDelegateVirtualService: boolean;
}

/** All rules for `spec.http[i]`. */
export function checkHttpRoute(problems: Problems, path: Path, route: Obj, ctx: HttpRouteContext): void {
  checkActionConflicts(problems, path, route, ctx);
  checkDelegate(problems, [...path, "delegate"], route.delegate);
  checkHttpMatches(problems, [...path, "match"], route.match);
  checkHeaderOperations(problems, [...path, "headers"], route.headers);
  checkCorsPolicy(problems, [...path, "corsPolicy"], route.corsPolicy);
  checkFault(problems, [...path, "fault"], route.fault);
  checkMirroring(problems, path, route);
  checkRedirect(problems, [...path, "redirect"], route.redirect);
  checkDirectResponse(problems, [...path, "directResponse"], route.directResponse);
  checkRetries(problems, [...path, "retries"], route.retries);
  checkRewrite(problems, [...path, "rewrite"], route.rewrite);
  checkAuthorityRewrite(problems, path, route.rewrite, route.headers);
  checkRouteDestinations(problems, [...path, "route"], route.route, true);
  problems.addIf([...path, "timeout"], durationPrecisionProblem(route.timeout));
}

/**
 * A route does exactly one thing: forward (`route`), `redirect`, answer (`directResponse`) or hand
 * over to a delegate VirtualService (`delegate`). Fault injection and rewrites only make sense
 * when forwarding.
 */
function checkActionConflicts(problems: Problems, path: Path, route: Obj, ctx: HttpRouteContext): void {
  const hasRoute = nonEmptyList(route.route);
  const hasRedirect = isSet(route, "redirect");
  const hasDirect = isSet(route, "directResponse");
  const hasDelegate = isSet(route, "delegate");
  const name = asString(route.name);
  const label = name ? `HTTP route "${name}"` : "HTTP route";

  if (hasDelegate) {
    if (ctx.inDelegateVirtualService) {
      problems.add([...path, "delegate"], "a delegate VirtualService (one without hosts) cannot delegate again: remove delegate");
      return;
    }
    for (const [present, field] of [[hasRoute, "route"], [hasRedirect, "redirect"], [hasDirect, "directResponse"]] as const) {
      if (present) problems.add([...path, field], `${label} sets delegate, so it must not also set ${field}: the delegate VirtualService decides where traffic goes`);
    }
    return;
  }

  if (hasRedirect) {
    if (hasRoute) problems.add([...path, "redirect"], `${label} cannot set both route and redirect`);
    if (hasDirect) problems.add([...path, "directResponse"], `${label} cannot set both redirect and directResponse`);
    if (isSet(route, "fault")) problems.add([...path, "fault"], `${label} cannot set both redirect and fault`);
    if (isSet(route, "rewrite")) problems.add([...path, "rewrite"], `${label} cannot set both redirect and rewrite`);
  } else if (hasDirect) {
    if (hasRoute) problems.add([...path, "directResponse"], `${label} cannot set both route and directResponse`);
    if (isSet(route, "fault")) problems.add([...path, "fault"], `${label} cannot set both directResponse and fault`);
    if (isSet(route, "rewrite")) problems.add([...path, "rewrite"], `${label} cannot set both directResponse and rewrite`);
  } else if (!hasRoute) {
    problems.add(path, `${label} must set one of route, redirect, directResponse or delegate`);
  }
}

/** `delegate: {name, namespace}` names the VirtualService that holds the routes. */
function checkDelegate(problems: Problems, path: Path, value: unknown): void {
  const delegate = asObject(value);
  if (!delegate) return;
  const name = asString(delegate.name) ?? "";
  if (name === "") problems.add([...path, "name"], "delegate name is required: the name of the delegate VirtualService");
  else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
    problems.add([...path, "name"], `invalid delegate name "${name}": must be a Kubernetes object name (DNS-1123 subdomain)`);
  }
  const namespace = asString(delegate.namespace);
  if (namespace !== undefined && namespace !== "" && !isDns1123Label(namespace)) {
    problems.add([...path, "namespace"], `invalid delegate namespace "${namespace}": must be a namespace name (DNS-1123 label)`);
  }
}
