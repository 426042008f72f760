/**
 * @module validate-inbound
 * The strict schemas of a proxy config's `inbound` and `trust` sections, with the value checks a
 * proxy needs before compiling them: IP blocks and IP conditions parse (IPv4 or IPv6, optional
 * prefix length), ports are decimal 0–65535, `portLevel` keys are ports, inbound ports are unique,
 * CUSTOM policies name a provider and only they do, inline JWKS are JSON key sets, `jwksUri` is an
 * absolute http(s) URL, revoked serials are lower-case hex and roots are PEM certificates. Every
 * problem is reported with its field path, like the rest of the validator.
 */
import { z } from "zod";
import { parseIpBlock } from "../security/ip-block.js";

const port = z.number().int().min(1).max(65535);
const nonEmpty = z.string().min(1);
const mtlsMode = z.enum(["STRICT", "PERMISSIVE", "DISABLE"]);

/** A string checked by `problem` (undefined: fine). */
function checked(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const p = problem(value);
    if (p !== undefined) ctx.addIssue({ code: "custom", message: p });
  });
}

const ipBlockProblem = (v: string) => (parseIpBlock(v) ? undefined : `"${v}" is not an IP address or CIDR block`);
const portProblem = (v: string) => (/^\d{1,5}$/.test(v) && Number(v) <= 65535 ? undefined : `"${v}" is not a port: expected a decimal number 0-65535`);

const strings = z.array(nonEmpty).optional();
const ipBlocks = z.array(checked(ipBlockProblem)).optional();
const ports = z.array(checked(portProblem)).optional();

const source = z.strictObject({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks,
  notIpBlocks: ipBlocks,
  remoteIpBlocks: ipBlocks,
  notRemoteIpBlocks: ipBlocks,
});

const operation = z.strictObject({
  hosts: strings,
  notHosts: strings,
  ports,
  notPorts: ports,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});

const IP_KEYS = new Set(["source.ip", "remote.ip", "destination.ip"]);

const condition = z
  .strictObject({ key: nonEmpty, values: z.array(z.string()).optional(), notValues: z.array(z.string()).optional() })
  .superRefine((c, ctx) => {
    const problem = IP_KEYS.has(c.key) ? ipBlockProblem : c.key === "destination.port" ? portProblem : undefined;
    if (!problem) return;
    for (const list of ["values", "notValues"] as const) {
      c[list]?.forEach((v, i) => {
        const p = problem(v);
        if (p !== undefined) ctx.addIssue({ code: "custom", message: `${c.key}: ${p}`, path: [list, i] });
      });
    }
  });

const rule = z.strictObject({
  from: z.array(z.strictObject({ source })).optional(),
  to: z.array(z.strictObject({ operation })).optional(),
  when: z.array(condition).optional(),
});

const authorizationPolicy = z
  .strictObject({
    name: nonEmpty,
    action: z.enum(["ALLOW", "DENY", "AUDIT", "CUSTOM"]),
    provider: nonEmpty.optional(),
    rules: z.array(rule),
  })
  .superRefine((p, ctx) => {
    if (p.action === "CUSTOM" && p.provider === undefined) {
      ctx.addIssue({ code: "custom", message: "a CUSTOM policy must name its provider", path: ["provider"] });
    }
    if (p.action !== "CUSTOM" && p.provider !== undefined) {
      ctx.addIssue({ code: "custom", message: `provider is only meaningful with action CUSTOM, not ${p.action}`, path: ["provider"] });
    }
  });

function jwksProblem(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys)) return undefined;
  } catch {
    // reported below
  }
  return 'jwks must be a JSON Web Key Set: a JSON object with a "keys" array';
}

function jwksUriProblem(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    if ((u.protocol === "http:" || u.protocol === "https:") && u.host !== "") return undefined;
  } catch {
    // reported below
  }
  return `jwksUri "${uri}" is not an absolute http:// or https:// URL`;
}

const jwtRule = z.strictObject({
  policy: nonEmpty,
  issuer: nonEmpty,
  audiences: strings,
  jwksUri: checked(jwksUriProblem).optional(),
  jwks: checked(jwksProblem).optional(),
  fromHeaders: z.array(z.strictObject({ name: nonEmpty, prefix: z.string().optional() })).optional(),
  fromParams: strings,
  fromCookies: strings,
  outputPayloadToHeader: nonEmpty.optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(z.strictObject({ header: nonEmpty, claim: nonEmpty })).optional(),
});

const peerAuthentication = z
  .strictObject({
    mode: mtlsMode,
    portLevel: z.record(z.string(), mtlsMode).optional(),
    policy: nonEmpty.optional(),
  })
  .superRefine((p, ctx) => {
    for (const key of Object.keys(p.portLevel ?? {})) {
      if (!/^\d{1,5}$/.test(key) || Number(key) < 1 || Number(key) > 65535) {
        ctx.addIssue({ code: "custom", message: `portLevel key "${key}" is not a port 1-65535`, path: ["portLevel", key] });
      }
    }
  });

/** The strict shape of {@link InboundConfig}. */
export const inboundSchema = z
  .strictObject({
    ports: z.array(z.strictObject({ port, targetPort: port, name: nonEmpty.optional() })),
    peerAuthentication,
    jwtRules: z.array(jwtRule),
    authorizationPolicies: z.array(authorizationPolicy),
  })
  .superRefine((inbound, ctx) => {
    const seen = new Set<number>();
    inbound.ports.forEach((p, i) => {
      if (seen.has(p.port)) ctx.addIssue({ code: "custom", message: `duplicate inbound port ${p.port}`, path: ["ports", i, "port"] });
      seen.add(p.port);
    });
  });

const PEM_CERTIFICATE = /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

/** The strict shape of {@link TrustConfig}. */
export const trustSchema = z.strictObject({
  trustDomain: nonEmpty,
  roots: z.array(checked((v) => (PEM_CERTIFICATE.test(v) ? undefined : "a root must be a PEM certificate (-----BEGIN CERTIFICATE-----)"))),
  revokedSerials: z.array(checked((v) => (/^[0-9a-f]+$/.test(v) ? undefined : `revoked serial "${v}" must be lower-case hex`))),
});
