/**
 * @module validation/security/authorization-policy
 * Istio's admission rules for AuthorizationPolicy (security.istio.io): the strict shape of
 * rules/from/to/when, the action enum and the CUSTOM action's provider, non-empty match values,
 * IP blocks, ports and path templates, service accounts (never with namespaces or principals),
 * supported `when` keys, and attachment through selector or targetRef(s).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { checkSchema } from "../primitives.js";
import type { SpecContext, SpecValidator } from "../types.js";
import {
  NOT_WITH_CUSTOM_SOURCE_FIELDS,
  checkCondition,
  ipProblem,
  pathProblem,
  portStringProblem,
  serviceAccountProblem,
} from "./authz-conditions.js";
import { checkMaxItems, fieldError, has, isRecord, items, listIsSet, neverThrows, nonEmptyList, nonEmptyStrings, type Path } from "./fields.js";
import { checkPolicyAttachment, selectorSchema, targetRefFields } from "./target-ref.js";

const ACTIONS = ["ALLOW", "DENY", "AUDIT", "CUSTOM"] as const;
const MAX_RULES = 512;
const MAX_FROM = 512;
const MAX_SERVICE_ACCOUNTS = 16;

/** A list of strings, each checked by `problem`. */
function checkedList(problem: (value: string) => string | undefined) {
  return z
    .array(
      z.string().superRefine((value, ctx) => {
        const p = problem(value);
        if (p) ctx.addIssue({ code: "custom", message: p });
      }),
    )
    .optional();
}

const SOURCE_FIELDS = {
  principals: nonEmptyStrings("principal").optional(),
  notPrincipals: nonEmptyStrings("principal").optional(),
  requestPrincipals: nonEmptyStrings("request principal").optional(),
  notRequestPrincipals: nonEmptyStrings("request principal").optional(),
  namespaces: nonEmptyStrings("namespace").optional(),
  notNamespaces: nonEmptyStrings("namespace").optional(),
  serviceAccounts: checkedList(serviceAccountProblem),
  notServiceAccounts: checkedList(serviceAccountProblem),
  trustDomains: nonEmptyStrings("trust domain").optional(),
  notTrustDomains: nonEmptyStrings("trust domain").optional(),
  ipBlocks: checkedList(ipProblem),
  notIpBlocks: checkedList(ipProblem),
  remoteIpBlocks: checkedList(ipProblem),
  notRemoteIpBlocks: checkedList(ipProblem),
};

const OPERATION_FIELDS = {
  hosts: nonEmptyStrings("host").optional(),
  notHosts: nonEmptyStrings("host").optional(),
  ports: checkedList((v) => portStringProblem(v)),
  notPorts: checkedList((v) => portStringProblem(v)),
  methods: nonEmptyStrings("method").optional(),
  notMethods: nonEmptyStrings("method").optional(),
  paths: checkedList(pathProblem),
  notPaths: checkedList(pathProblem),
};

const rule = z.strictObject({
  from: z.array(z.strictObject({ source: z.strictObject(SOURCE_FIELDS) })).optional(),
  to: z.array(z.strictObject({ operation: z.strictObject(OPERATION_FIELDS) })).optional(),
  when: z
    .array(
      z.strictObject({
        key: z.string(),
        values: z.array(z.string()).optional(),
        notValues: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const authorizationPolicySpec = z.strictObject({
  selector: selectorSchema.optional(),
  ...targetRefFields,
  action: z.enum(ACTIONS).optional(),
  provider: z.strictObject({ name: z.string().optional() }).optional(),
  rules: z.array(rule).optional(),
});

function checkAction(spec: Record<string, unknown>): FieldError[] {
  const action = typeof spec.action === "string" ? spec.action : "ALLOW";
  const provider = spec.provider;
  if (action === "CUSTOM") {
    if (provider === undefined) {
      return [fieldError(["spec", "provider"], "Required value: action CUSTOM requires provider naming the extension provider to call")];
    }
    if (isRecord(provider) && (provider.name === undefined || provider.name === "")) {
      return [fieldError(["spec", "provider", "name"], "provider name must not be empty with action CUSTOM: name an extension provider from the mesh config")];
    }
    return [];
  }
  if (provider !== undefined) {
    return [fieldError(["spec", "provider"], `provider can only be set with action CUSTOM, got action ${action}`)];
  }
  return [];
}

function checkSource(source: Record<string, unknown>, path: Path, custom: boolean): FieldError[] {
  const out: FieldError[] = [];
  if (!Object.keys(SOURCE_FIELDS).some((k) => listIsSet(source[k]))) {
    out.push(fieldError(path, "from.source must not be empty: set at least one of its fields, or leave out `from` to match any source"));
  }
  if (
    (has(source, "serviceAccounts") || has(source, "notServiceAccounts")) &&
    ["principals", "notPrincipals", "namespaces", "notNamespaces"].some((k) => has(source, k))
  ) {
    out.push(fieldError(path, "Cannot set serviceAccounts with namespaces or principals: use one way of naming the source identity"));
  }
  out.push(...checkMaxItems(source.serviceAccounts, MAX_SERVICE_ACCOUNTS, [...path, "serviceAccounts"]));
  out.push(...checkMaxItems(source.notServiceAccounts, MAX_SERVICE_ACCOUNTS, [...path, "notServiceAccounts"]));
  if (custom) {
    for (const field of NOT_WITH_CUSTOM_SOURCE_FIELDS) {
      if (nonEmptyList(source[field])) {
        out.push(fieldError([...path, field], `${field} is currently not supported with action CUSTOM`));
      }
    }
  }
  return out;
}

function checkRule(r: unknown, path: Path, custom: boolean): FieldError[] {
  if (!isRecord(r)) return [];
  const out: FieldError[] = [];
  if (Array.isArray(r.from) && r.from.length === 0) {
    out.push(fieldError([...path, "from"], "`from` must not be empty when set: leave it out to match any source"));
  }
  out.push(...checkMaxItems(r.from, MAX_FROM, [...path, "from"]));
  items(r.from).forEach((f, j) => {
    if (isRecord(f) && isRecord(f.source)) out.push(...checkSource(f.source, [...path, "from", j, "source"], custom));
  });

  if (Array.isArray(r.to) && r.to.length === 0) {
    out.push(fieldError([...path, "to"], "`to` must not be empty when set: leave it out to match any operation"));
  }
  items(r.to).forEach((t, j) => {
    if (!isRecord(t) || !isRecord(t.operation)) return;
    const op = t.operation;
    if (!Object.keys(OPERATION_FIELDS).some((k) => listIsSet(op[k]))) {
      out.push(fieldError([...path, "to", j, "operation"], "to.operation must not be empty: set at least one of its fields, or leave out `to` to match any operation"));
    }
  });

  items(r.when).forEach((cond, j) => out.push(...checkCondition(cond, [...path, "when", j], custom)));
  return out;
}

export const validateAuthorizationPolicy: SpecValidator = neverThrows((spec: unknown, ctx: SpecContext) => {
  const errors = checkSchema(authorizationPolicySpec, spec, ["spec"]);
  if (!isRecord(spec)) return errors;
  errors.push(...checkPolicyAttachment(spec, ctx));
  errors.push(...checkAction(spec));
  const custom = spec.action === "CUSTOM";
  errors.push(...checkMaxItems(spec.rules, MAX_RULES, ["spec", "rules"]));
  items(spec.rules).forEach((r, i) => errors.push(...checkRule(r, ["spec", "rules", i], custom)));
  return errors;
});
