/**
 * @module validation/security/authz-conditions
 * The value rules of AuthorizationPolicy: which `when` keys Istio supports and what their values
 * must look like (IPs/CIDRs, ports, service accounts), `[name]`-style map keys, HTTP path templates
 * (`{*}`, `{**}`), and which fields and keys the CUSTOM action cannot use.
 */
import type { FieldError } from "../../errors.js";
import { cidrProblem } from "../primitives.js";
import { emptyMessage, fieldError, isRecord, listIsSet, strings, type Path } from "./fields.js";

/** An IP address or CIDR block, as in `ipBlocks` and the `source.ip`-style keys. */
export function ipProblem(value: string): string | undefined {
  if (value === "") return emptyMessage("IP address or CIDR");
  return cidrProblem(value);
}

/** A port written as a decimal string, between `min` and 65535. */
export function portStringProblem(value: string, min = 1): string | undefined {
  if (value === "") return emptyMessage("port");
  if (!/^\d+$/.test(value)) return `invalid port "${value}": ports are decimal numbers between ${min}-65535 written as strings`;
  const n = Number(value);
  if (n < min || n > 65535) return `invalid port "${value}": port must be between ${min}-65535`;
  return undefined;
}

/** A service account as `name` (same namespace as the policy) or `namespace/name`, without wildcards. */
export function serviceAccountProblem(value: string): string | undefined {
  if (value === "") return emptyMessage("service account");
  if (value.includes("*")) return `wildcard not allowed in service account "${value}": use an exact name`;
  if (value.length > 320) return `service account "${value.slice(0, 40)}..." must be at most 320 characters long`;
  const parts = value.split("/");
  if (parts.length > 2 || parts.some((p) => p === "")) {
    return `invalid service account "${value}": expected format 'serviceAccount' or 'namespace/serviceAccount'`;
  }
  return undefined;
}

const MATCH_ONE = "{*}";
const MATCH_ANY = "{**}";
/** Literal path segments allowed beside a template: RFC 3986 pchar. */
const PCHAR = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** An operation path; path templates use whole-segment `{*}` and `{**}`, `{**}` last. */
export function pathProblem(path: string): string | undefined {
  if (path === "") return emptyMessage("path");
  const templated = path.includes(MATCH_ONE) || path.includes(MATCH_ANY);
  let seenMatchAny = false;
  for (const segment of path.replace(/^\/+|\/+$/g, "").split("/")) {
    if (segment === MATCH_ONE || segment === MATCH_ANY) {
      if (seenMatchAny) return `invalid path template "${path}": {**} must be the last template operator`;
      if (segment === MATCH_ANY) seenMatchAny = true;
      continue;
    }
    if (/[{}]/.test(segment)) {
      return `invalid path "${path}": '{' and '}' may only appear as a whole path segment {*} or {**}`;
    }
    if (templated && !PCHAR.test(segment)) {
      return `invalid path template "${path}": segment "${segment}" is not a valid literal (RFC 3986 pchar; wildcards '*' cannot be mixed with {*} or {**})`;
    }
  }
  return undefined;
}

type ValueRule = (value: string) => string | undefined;

interface KeyRule {
  /** Checks the values of `values` and `notValues`, if this key constrains them. */
  values?: ValueRule;
  /** Not usable with the CUSTOM action (its identity is not known when the external check runs). */
  notWithCustom?: boolean;
}

const EXACT_KEYS: Readonly<Record<string, KeyRule>> = {
  "source.ip": { values: ipProblem },
  "remote.ip": { values: ipProblem },
  "source.namespace": { notWithCustom: true },
  "source.serviceAccount": { values: serviceAccountProblem },
  "source.principal": { notWithCustom: true },
  "source.trustDomain": {},
  "request.auth.principal": { notWithCustom: true },
  "request.auth.audiences": { notWithCustom: true },
  "request.auth.presenter": { notWithCustom: true },
  "destination.ip": { values: ipProblem },
  "destination.port": { values: (v) => portStringProblem(v, 0) },
  "connection.sni": {},
};

/** Keys written `prefix[name]`, e.g. `request.headers[User-Agent]`. */
const MAP_KEYS: ReadonlyArray<{ prefix: string; rule: KeyRule }> = [
  { prefix: "request.headers", rule: {} },
  { prefix: "request.experimental.inline.headers", rule: {} },
  { prefix: "request.auth.claims", rule: { notWithCustom: true } },
];
const EXPERIMENTAL = "experimental.envoy.filters.";

const SUPPORTED_KEYS_TEXT =
  "request.headers[<name>], source.ip, remote.ip, source.namespace, source.serviceAccount, source.principal, source.trustDomain, " +
  "request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[<claim>], destination.ip, " +
  "destination.port, connection.sni, experimental.envoy.filters.<filter>[<key>]";

/** `name[...]` with a non-empty bracketed part after `prefix`. */
function isMapKey(key: string, prefix: string): boolean {
  return key.startsWith(`${prefix}[`) && key.endsWith("]") && key.length > prefix.length + 2;
}

/** Resolves a condition key to its rule, or explains why it is not supported. */
export function conditionKeyRule(key: string): { rule: KeyRule } | { problem: string } {
  const exact = EXACT_KEYS[key];
  if (exact) return { rule: exact };
  for (const { prefix, rule } of MAP_KEYS) {
    if (key === prefix || key.startsWith(`${prefix}[`)) {
      return isMapKey(key, prefix) ? { rule } : { problem: `bad key "${key}": should have format ${prefix}[<name>]` };
    }
  }
  if (key.startsWith(EXPERIMENTAL)) {
    const open = key.indexOf("[");
    return open > EXPERIMENTAL.length && key.endsWith("]") && open < key.length - 2
      ? { rule: {} }
      : { problem: `bad key "${key}": should have format ${EXPERIMENTAL}<filter>[<key>]` };
  }
  if (key === "destination.namespace") return { problem: `attribute ${key} is not supported: it is replaced by the policy's metadata.namespace` };
  if (key === "destination.labels" || key.startsWith("destination.labels[")) {
    return { problem: `attribute ${key} is not supported: it is replaced by the workload selector` };
  }
  if (key === "destination.name" || key === "destination.user") return { problem: `deprecated attribute ${key}: only supported in v1alpha1` };
  return { problem: `unknown attribute "${key}": supported condition keys are ${SUPPORTED_KEYS_TEXT}` };
}

/** Checks one `when` condition: its key, that it has values, and each value. */
export function checkCondition(cond: unknown, path: Path, custom: boolean): FieldError[] {
  if (!isRecord(cond) || typeof cond.key !== "string") return [];
  const out: FieldError[] = [];
  const key = cond.key;
  if (key === "") return [fieldError([...path, "key"], "key must not be empty: name an Istio attribute such as source.ip")];

  const values = strings(cond.values);
  const notValues = strings(cond.notValues);
  if (!listIsSet(cond.values) && !listIsSet(cond.notValues)) {
    out.push(fieldError(path, `at least one of values or notValues must be set for key ${key}`));
  }

  const resolved = conditionKeyRule(key);
  if ("problem" in resolved) {
    out.push(fieldError([...path, "key"], resolved.problem));
  } else if (custom && resolved.rule.notWithCustom) {
    out.push(fieldError([...path, "key"], `condition key ${key} is currently not supported with action CUSTOM`));
  }
  const valueRule = "rule" in resolved ? resolved.rule.values : undefined;

  for (const [field, list] of [["values", values], ["notValues", notValues]] as const) {
    for (const [i, value] of list) {
      const problem = value === "" ? `empty value not allowed in ${field} of key ${key}` : valueRule?.(value);
      if (problem) out.push(fieldError([...path, field, i], problem));
    }
  }
  return out;
}

/** Source fields the CUSTOM action cannot use. */
export const NOT_WITH_CUSTOM_SOURCE_FIELDS = [
  "principals",
  "notPrincipals",
  "requestPrincipals",
  "notRequestPrincipals",
  "namespaces",
  "notNamespaces",
] as const;
