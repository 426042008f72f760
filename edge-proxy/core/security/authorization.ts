/**
 * @module security/authorization
 * AuthorizationPolicy evaluation in Istio's order. Policies are compiled once
 * ({@link compileAuthorization}); each request is then evaluated synchronously
 * ({@link evaluateAuthorization}):
 *
 * 1. CUSTOM policies whose rules match name the external authorizers to ask; each must allow.
 * 2. A matching DENY policy denies (`rbac_access_denied_matched_policy[ns/name]`).
 * 3. With no ALLOW policy the request is allowed; else one ALLOW policy must match, or it is denied
 *    (`rbac_access_denied_matched_policy[none]`).
 *
 * AUDIT policies never change the decision; the first matching one is reported. A policy with no
 * rules matches nothing; a rule `{}` matches every request. Verdicts without CUSTOM or AUDIT policies
 * matching are shared objects, made once.
 */
import type { AuthorizationPolicyConfig } from "../config/proxy-config.js";
import { type Check, compileRule } from "./authorization-rules.js";
import { RequestView } from "./request-view.js";
import type { AuthorizationAttributes } from "./types.js";

interface CompiledPolicy {
  readonly name: string;
  readonly provider: string | undefined;
  readonly matches: Check;
  /** The verdict of a DENY policy that matched when no CUSTOM one did, made once. */
  readonly denial: AuthorizationVerdict;
}

/** Policies compiled into matchers, grouped by action in config order (oldest first). */
export interface CompiledAuthorization {
  /** True when there are no CUSTOM, DENY or ALLOW policies: every request is allowed without looking at it. */
  readonly allowsAll: boolean;
  readonly custom: readonly CompiledPolicy[];
  readonly deny: readonly CompiledPolicy[];
  readonly allow: readonly CompiledPolicy[];
  readonly audit: readonly CompiledPolicy[];
}

/** A CUSTOM policy that matched: its provider must allow the request. */
export interface CustomCheck {
  /** `namespace/name` of the policy. */
  policy: string;
  provider: string;
}

export type AuthorizationVerdict =
  | { allowed: true; custom: readonly CustomCheck[]; audit?: string }
  | {
      allowed: false;
      /** The DENY policy that matched (`namespace/name`), or undefined when no ALLOW policy did. */
      policy: string | undefined;
      custom: readonly CustomCheck[];
      audit?: string;
    };

const NO_CUSTOM: readonly CustomCheck[] = Object.freeze([]);
const ALLOWED: AuthorizationVerdict = Object.freeze({ allowed: true, custom: NO_CUSTOM });
/** No ALLOW policy matched (and no CUSTOM one). */
const NOT_ALLOWED: AuthorizationVerdict = Object.freeze({ allowed: false, policy: undefined, custom: NO_CUSTOM });

function namespaceOf(name: string): string {
  const slash = name.indexOf("/");
  return slash === -1 ? "" : name.slice(0, slash);
}

function compilePolicy(policy: AuthorizationPolicyConfig): CompiledPolicy {
  const ctx = { namespace: namespaceOf(policy.name), unsupported: policy.action !== "ALLOW" };
  const rules = policy.rules.map((rule) => compileRule(rule, ctx));
  const matches: Check =
    rules.length === 0
      ? () => false
      : rules.length === 1
        ? rules[0]!
        : (r) => {
            for (const rule of rules) if (rule(r)) return true;
            return false;
          };
  return { name: policy.name, provider: policy.provider, matches, denial: Object.freeze({ allowed: false, policy: policy.name, custom: NO_CUSTOM }) };
}

/** Compiles policies once; the result is immutable and shared by every request. */
export function compileAuthorization(policies: readonly AuthorizationPolicyConfig[]): CompiledAuthorization {
  const by = (action: AuthorizationPolicyConfig["action"]) => policies.filter((p) => p.action === action).map(compilePolicy);
  const custom = by("CUSTOM");
  const deny = by("DENY");
  const allow = by("ALLOW");
  const audit = by("AUDIT");
  return { allowsAll: custom.length === 0 && deny.length === 0 && allow.length === 0, custom, deny, allow, audit };
}

function firstMatch(policies: readonly CompiledPolicy[], view: RequestView): CompiledPolicy | undefined {
  for (const p of policies) if (p.matches(view)) return p;
  return undefined;
}

/**
 * Evaluates compiled policies against one request's attributes. Synchronous: CUSTOM providers are
 * only named in the verdict; the caller asks them (see inbound-security) before acting on `allowed`.
 */
export function evaluateAuthorization(compiled: CompiledAuthorization, attributes: AuthorizationAttributes): AuthorizationVerdict {
  if (compiled.allowsAll && compiled.audit.length === 0) return ALLOWED;
  const view = new RequestView(attributes);
  let custom = NO_CUSTOM;
  if (compiled.custom.length > 0) {
    const matched: CustomCheck[] = [];
    for (const p of compiled.custom) if (p.matches(view)) matched.push({ policy: p.name, provider: p.provider ?? "" });
    if (matched.length > 0) custom = matched;
  }
  const audited = compiled.audit.length > 0 ? firstMatch(compiled.audit, view)?.name : undefined;
  const denied = firstMatch(compiled.deny, view);
  if (denied) return withAudit(custom === NO_CUSTOM ? denied.denial : { allowed: false, policy: denied.name, custom }, audited);
  if (compiled.allow.length > 0 && firstMatch(compiled.allow, view) === undefined) return withAudit(custom === NO_CUSTOM ? NOT_ALLOWED : { allowed: false, policy: undefined, custom }, audited);
  return custom === NO_CUSTOM && audited === undefined ? ALLOWED : withAudit({ allowed: true, custom }, audited);
}

function withAudit(verdict: AuthorizationVerdict, audited: string | undefined): AuthorizationVerdict {
  return audited === undefined ? verdict : { ...verdict, audit: audited };
}

/** Envoy RBAC's `response_code_details` for a denial. */
export function rbacDetails(policy: string | undefined): string {
  return `rbac_access_denied_matched_policy[${policy ?? "none"}]`;
}

/** Envoy RBAC's denial: 403 `RBAC: access denied`. */
export function rbacDeniedResponse(): Response {
  return new Response("RBAC: access denied", { status: 403, headers: { "content-type": "text/plain" } });
}
