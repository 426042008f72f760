/**
 * @module registry/registration
 * What a proxy sends to register its workload (and to heartbeat), checked field by field, and who may
 * register what: a workload credential only its own namespace and service account, an admin anything.
 */
import type { WorkloadRecord } from "./registry-store.js";
import { z } from "zod";
import { RegistrationIdentityMismatch, RegistrationInvalid, ResourceInvalid } from "../errors.js";
import { isDns1123Label, isDns1123Subdomain, type Caller } from "../ca/authenticate/identity.js";
import { readRequestObject } from "../http/read-body.js";
import { ipVersion, labelMap, parseDurationMs, port } from "../validation/primitives.js";
import type { WorkloadPort } from "../store/schema.js";

/** A registration lives this long without a heartbeat unless the request names a ttl. */
export const DEFAULT_REGISTRATION_TTL = "90s";
export const MIN_REGISTRATION_TTL_MS = 10_000;
export const MAX_REGISTRATION_TTL_MS = 3_600_000;

/** Istio's port protocol names (case-insensitive), stored in this spelling. */
const PROTOCOLS = ["HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-Web", "HTTP_PROXY", "Mongo", "MySQL", "Redis", "TCP", "TLS", "UDP"];
const PROTOCOL_BY_LOWER = new Map(PROTOCOLS.map((p) => [p.toLowerCase(), p]));
/** An IANA service name, as Kubernetes port names are: lowercase alphanumerics and '-', at most 15. */
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A checked registration request; `ttlMs` is resolved from `ttl`. */
export type RegistrationRequest = Omit<WorkloadRecord, "registeredBy"> & { ttlMs: number };

const dnsLabel = z.string().refine(isDns1123Label, "must be an RFC 1123 label: lowercase alphanumerics and '-', at most 63 characters");
const dnsSubdomain = z.string().refine(isDns1123Subdomain, "must be an RFC 1123 subdomain: dot-separated lowercase labels, at most 253 characters");

const ttl = z.string().superRefine((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) ctx.addIssue({ code: "custom", message: `invalid duration "${text}": use a number with a unit such as 90s or 5m` });
  else if (ms < MIN_REGISTRATION_TTL_MS || ms > MAX_REGISTRATION_TTL_MS) ctx.addIssue({ code: "custom", message: `must be between 10s and 1h, got "${text}"` });
});

const workloadPort = z.strictObject({
  port,
  name: z
    .string()
    .refine((n) => n.length <= 15 && PORT_NAME.test(n), "must be an IANA service name: lowercase alphanumerics and '-', at most 15 characters")
    .optional(),
  protocol: z
    .string()
    .refine((p) => PROTOCOL_BY_LOWER.has(p.toLowerCase()), `must be one of ${PROTOCOLS.join(", ")}`)
    .transform((p) => PROTOCOL_BY_LOWER.get(p.toLowerCase())!)
    .optional(),
});

const gatewayRef = z.string().refine((text) => {
  const [ns, name, extra] = text.split("/");
  return extra === undefined && isDns1123Label(ns) && isDns1123Subdomain(name);
}, "must name a Gateway as namespace/name");

const registrationSchema = z
  .strictObject({
    name: dnsSubdomain,
    namespace: dnsLabel,
    serviceAccount: dnsSubdomain,
    address: z.string().refine((a) => ipVersion(a) !== undefined, "must be an IPv4 or IPv6 address"),
    labels: labelMap.default({}),
    ports: z.array(workloadPort).max(128, "at most 128 ports").default([]),
    node: z.string().min(1, "must not be empty").max(253, "at most 253 characters").optional(),
    kind: z.enum(["sidecar", "gateway"]).default("sidecar"),
    gateways: z.array(gatewayRef).max(64, "at most 64 gateways").default([]),
    ttl: ttl.default(DEFAULT_REGISTRATION_TTL),
  })
  .superRefine((r, ctx) => {
    const seen = new Map<number, number>();
    r.ports.forEach((p, i) => {
      if (seen.has(p.port)) ctx.addIssue({ code: "custom", path: ["ports", i, "port"], message: `port ${p.port} is listed twice (also ports[${seen.get(p.port)}])` });
      seen.set(p.port, i);
    });
    if (r.kind === "sidecar" && r.gateways.length > 0) ctx.addIssue({ code: "custom", path: ["gateways"], message: 'only a proxy of kind "gateway" serves gateways' });
  });

const heartbeatSchema = z.strictObject({ ttl: ttl.optional() });

/** Reads and checks a registration body; RegistrationInvalid (400) names every bad field. */
export async function readRegistrationRequest(request: Request): Promise<RegistrationRequest> {
  const { ttl: ttlText, ...fields } = await readChecked(request, registrationSchema, "workload registration");
  return { ...fields, ttlMs: parseDurationMs(ttlText)! };
}

/** Reads a heartbeat body (`{}` or `{"ttl": "90s"}`); the ttl in ms when one is given. */
export async function readHeartbeatRequest(request: Request): Promise<{ ttlMs?: number }> {
  if (request.body === null) return {};
  const { ttl: ttlText } = await readChecked(request, heartbeatSchema, "heartbeat");
  return ttlText === undefined ? {} : { ttlMs: parseDurationMs(ttlText)! };
}

async function readChecked<T>(request: Request, schema: z.ZodType<T>, what: string): Promise<T> {
  try {
    return await readRequestObject(request, schema, what);
  } catch (error) {
    // Bad registrations are the proxy's bad request (400), not an invalid stored object (422).
    if (error instanceof ResourceInvalid) throw new RegistrationInvalid(error.message, error.causes);
    throw error;
  }
}

/**
 * Throws RegistrationIdentityMismatch unless `caller` may act for a workload of `namespace` and
 * `serviceAccount`: an admin always, a workload credential only for its own identity.
 */
export function assertMayActFor(caller: Caller, target: { namespace: string; serviceAccount: string }, action: string): void {
  if (caller.kind === "admin") return;
  const { namespace, serviceAccount } = caller.identity;
  if (namespace !== target.namespace || serviceAccount !== target.serviceAccount) {
    throw new RegistrationIdentityMismatch(
      `the credential is for ${namespace}/${serviceAccount} but the workload is ${target.namespace}/${target.serviceAccount}: a workload may ${action} only its own namespace and service account`,
    );
  }
}

/** What the audit field `registeredBy` records for a caller. */
export function registeredBy(caller: Caller): string {
  if (caller.kind === "admin") return caller.subject;
  return caller.via === "join-token" ? `join-token:${caller.subject}` : caller.subject;
}
