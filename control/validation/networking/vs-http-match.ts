/**
 * @module vs-http-match
 * Semantic rules for what an HTTP route matches on and for its CORS policy: StringMatch oneofs
 * (exactly one of exact/prefix/regex, RE2 regexes, non-empty prefixes), header names (RFC 7230
 * tokens, HTTP/2 pseudo-headers, `@request.auth.claims` routing keys), gateway references,
 * source namespaces, and the allowed CORS origins, methods, headers and max age.
 */
import { parseDurationMs } from "../primitives.js";
import {
  type Obj,
  type Path,
  type Problems,
  asObject,
  asString,
  durationPrecisionProblem,
  gatewayRefProblem,
  isDns1123Label,
  isHeaderToken,
  objectEntries,
  stringEntries,
} from "./vs-common.js";
import { re2Problem } from "./vs-re2.js";

const MATCH_KINDS = ["exact", "prefix", "regex"] as const;
const PSEUDO_HEADERS = new Set([":method", ":scheme", ":authority", ":path", ":status"]);
const JWT_CLAIM_PREFIX = "@request.auth.claims";
const CORS_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"]);

export interface StringMatchRules {
  /** `{}` is meaningful (presence check), so no kind is required. */
  allowEmpty: boolean;
  /** An empty `prefix` is meaningful (Envoy accepts `prefix: ""` for paths). */
  allowEmptyPrefix: boolean;
  /** `regex: "*"` is Istio's spelling of "present" in withoutHeaders. */
  allowStarRegex?: boolean;
}

/** Checks one StringMatch value: the oneof, then the value of the kind that is set. */
export function checkStringMatch(problems: Problems, path: Path, value: unknown, rules: StringMatchRules): void {
  const sm = asObject(value);
  if (!sm) return;
  const kinds = MATCH_KINDS.filter((k) => sm[k] !== undefined && sm[k] !== null);
  if (kinds.length > 1) {
    problems.add(path, `only one of exact, prefix or regex may be set, got ${kinds.join(" and ")}`);
    return;
  }
  const kind = kinds[0];
  if (kind === undefined) {
    if (!rules.allowEmpty) problems.add(path, "one of exact, prefix or regex must be set");
    return;
  }
  const text = asString(sm[kind]);
  if (text === undefined) return;
  if (kind === "prefix" && text === "" && !rules.allowEmptyPrefix) problems.add([...path, "prefix"], "prefix match must not be empty");
  if (kind === "regex" && !(rules.allowStarRegex && text === "*")) problems.addIf([...path, "regex"], re2Problem(text));
}

/** True when a header-match key is a JWT-claim routing key (`@request.auth.claims.sub`, `@request.auth.claims[sub]`). */
export function isJwtClaimKey(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return false;
  const rest = name.slice(JWT_CLAIM_PREFIX.length);
  return (rest.startsWith(".") && rest.length > 1) || (rest.startsWith("[") && rest.endsWith("]") && rest.length > 2);
}

function headerMatchNameProblem(name: string): string | undefined {
  if (name === "") return "header name must not be empty";
  if (isJwtClaimKey(name) || PSEUDO_HEADERS.has(name) || isHeaderToken(name)) return undefined;
  return `invalid header name ${JSON.stringify(name)}: must be an HTTP token (letters, digits and !#$%&'*+-.^_\`|~), a pseudo-header such as :authority, or @request.auth.claims.<claim>`;
}

/** Every match request of one HTTP route. */
export function checkHttpMatches(problems: Problems, path: Path, matches: unknown): void {
  for (const [i, match] of objectEntries(matches)) checkHttpMatch(problems, [...path, i], match);
}

function checkHttpMatch(problems: Problems, path: Path, match: Obj): void {
  for (const field of ["headers", "withoutHeaders"] as const) {
    const map = asObject(match[field]);
    if (!map) continue;
    for (const [name, sm] of Object.entries(map)) {
      problems.addIf([...path, field, name], headerMatchNameProblem(name));
      checkStringMatch(problems, [...path, field, name], sm, {
        allowEmpty: true,
        allowEmptyPrefix: false,
        allowStarRegex: field === "withoutHeaders",
      });
    }
  }
  // Envoy takes an empty path prefix; scheme, method and authority need a non-empty one.
  checkStringMatch(problems, [...path, "uri"], match.uri, { allowEmpty: false, allowEmptyPrefix: true });
  for (const field of ["scheme", "method", "authority"] as const) {
    checkStringMatch(problems, [...path, field], match[field], { allowEmpty: false, allowEmptyPrefix: false });
  }
  const query = asObject(match.queryParams);
  if (query) {
    for (const [name, sm] of Object.entries(query)) {
      if (name === "") problems.add([...path, "queryParams", name], "query parameter name must not be empty");
      checkStringMatch(problems, [...path, "queryParams", name], sm, { allowEmpty: true, allowEmptyPrefix: false });
    }
  }
  for (const [i, ref] of stringEntries(match.gateways)) problems.addIf([...path, "gateways", i], gatewayRefProblem(ref));
  const sourceNamespace = asString(match.sourceNamespace);
  if (sourceNamespace !== undefined && sourceNamespace !== "" && !isDns1123Label(sourceNamespace)) {
    problems.add([...path, "sourceNamespace"], `invalid sourceNamespace "${sourceNamespace}": must be a namespace name (DNS-1123 label)`);
  }
}

/** Reports JWT-claim header matches on a VirtualService that is not bound only to gateways. */
export function checkJwtClaimRouting(problems: Problems, httpPath: Path, http: unknown): void {
  for (const [r, route] of objectEntries(http)) {
    for (const [m, match] of objectEntries(route.match)) {
      for (const field of ["headers", "withoutHeaders"] as const) {
        for (const name of Object.keys(asObject(match[field]) ?? {})) {
          if (isJwtClaimKey(name)) {
            problems.add(
              [...httpPath, r, "match", m, field, name],
              `JWT claim based routing ("${name}") is only supported on gateways: list the gateways in spec.gateways and do not include "mesh"`,
            );
          }
        }
      }
    }
  }
}

function corsHeaderNameProblem(name: string): string | undefined {
  if (name === "") return "header name must not be empty";
  if (name === "*" || isHeaderToken(name)) return undefined;
  return `invalid header name ${JSON.stringify(name)}: must be "*" or an HTTP token`;
}

/** CORS policy rules: origins, methods, header names and max age. */
export function checkCorsPolicy(problems: Problems, path: Path, value: unknown): void {
  const cors = asObject(value);
  if (!cors) return;
  for (const [i, origin] of objectEntries(cors.allowOrigins)) {
    const originPath = [...path, "allowOrigins", i];
    const kinds = MATCH_KINDS.filter((k) => origin[k] !== undefined && origin[k] !== null);
    const text = kinds.length === 1 ? asString(origin[kinds[0]!]) : undefined;
    if (kinds.length === 1 && text === "") {
      problems.add([...originPath, kinds[0]!], `allowOrigins ${kinds[0]} match must not be empty`);
      continue;
    }
    checkStringMatch(problems, originPath, origin, { allowEmpty: false, allowEmptyPrefix: false });
  }
  for (const [i, method] of stringEntries(cors.allowMethods)) {
    if (!CORS_METHODS.has(method)) {
      problems.add([...path, "allowMethods", i], `"${method}" is not a supported HTTP method: use one of ${[...CORS_METHODS].join(", ")}`);
    }
  }
  for (const field of ["allowHeaders", "exposeHeaders"] as const) {
    for (const [i, name] of stringEntries(cors[field])) problems.addIf([...path, field, i], corsHeaderNameProblem(name));
  }
  const maxAge = asString(cors.maxAge);
  if (maxAge !== undefined) {
    const ms = parseDurationMs(maxAge);
    const precision = durationPrecisionProblem(maxAge);
    if (precision) problems.add([...path, "maxAge"], precision);
    else if (ms !== undefined && ms >= 1 && ms % 1000 !== 0) {
      problems.add([...path, "maxAge"], `maxAge "${maxAge}" must be a whole number of seconds: CORS max age is accurate only to the second`);
    }
  }
}
