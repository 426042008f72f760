/**
 * @module routing
 * The proxy core's request router: compile a ProxyConfig into a RouteTable once, route each request to a
 * virtual host and route, and pick a weighted destination with host-supplied randomness.
 */
export { createRouteTable, DEFAULT_CLUSTER_DOMAIN, type RouteTable, type RouteTableOptions, type CompiledVirtualHost, type HostIndex } from "./route-table.js";
export { routeRequest, type RoutableRequest, type RouteDecision, type LookupProbe } from "./match-request.js";
export { findVirtualHost } from "./find-virtual-host.js";
export { pickDestination, prepareDestinations } from "./pick-destination.js";
export { seededRandom } from "./seeded-random.js";
export { RouteTableError, type RouteTableErrorCode } from "./routing-error.js";
