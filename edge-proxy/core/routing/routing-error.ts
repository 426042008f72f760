/**
 * @module routing-error
 * The one error the router raises: a compiled config it cannot turn into a route table (an unsupported
 * domain form, a regex that does not compile, a malformed match). Each carries a stable `code` and names the
 * virtual host, route and field at fault, so a proxy can NACK the config version with a useful reason.
 */

export type RouteTableErrorCode =
  | "ERR_ROUTE_DOMAIN_INVALID"
  | "ERR_ROUTE_MATCH_INVALID"
  | "ERR_ROUTE_REGEX_INVALID"
  | "ERR_ROUTE_DESTINATIONS_INVALID";

/** The config cannot be compiled into a route table; `where` names the place, e.g. `default/reviews route[1].match[0].uri`. */
export class RouteTableError extends Error {
  override readonly name = "RouteTableError";
  readonly code: RouteTableErrorCode;
  readonly where: string;
  constructor(code: RouteTableErrorCode, where: string, message: string) {
    super(`${where}: ${message}`);
    this.code = code;
    this.where = where;
  }
}
