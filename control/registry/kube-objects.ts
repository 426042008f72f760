/**
 * @module registry/kube-objects
 * The body a cluster sync agent (`weft kube-sync`) sends: a cluster's Services (v1) and EndpointSlices
 * (discovery.k8s.io/v1) in Kubernetes' own JSON shapes. Only the fields the registry relies on are
 * checked; the rest is kept as Kubernetes served it, less `metadata.managedFields`.
 */
import { z } from "zod";
import { KubeObjectsInvalid, ResourceInvalid, type FieldError } from "../errors.js";
import { isDns1123Label, isDns1123Subdomain } from "../ca/authenticate/identity.js";
import { readRequestObject } from "../http/read-body.js";
import { port } from "../validation/primitives.js";
import type { KubeKind } from "./registry-store.js";

/** At most this many objects per cluster and sync (the 1 MiB body limit usually comes first). */
export const MAX_KUBE_OBJECTS = 10_000;

/** A cluster name in the URL: an RFC 1123 subdomain, as kube-sync's `--cluster-name` must be. */
export function isClusterName(name: string): boolean {
  return isDns1123Subdomain(name);
}

/** One object to store, keyed by kind, namespace and name. */
export interface KubeObjectInput {
  kind: KubeKind;
  namespace: string;
  name: string;
  object: Record<string, unknown>;
}

const metadata = z.looseObject({
  name: z.string().refine(isDns1123Subdomain, "must be an RFC 1123 subdomain"),
  namespace: z.string().refine(isDns1123Label, "must be an RFC 1123 label"),
  labels: z.record(z.string(), z.string()).nullish(),
});

const service = z.looseObject({
  apiVersion: z.literal("v1").optional(),
  kind: z.literal("Service").optional(),
  metadata,
  spec: z
    .looseObject({
      ports: z.array(z.looseObject({ port, name: z.string().nullish(), protocol: z.enum(["TCP", "UDP", "SCTP"]).nullish() })).nullish(),
      selector: z.record(z.string(), z.string()).nullish(),
      clusterIP: z.string().nullish(),
    })
    .optional(),
});

const endpointSlice = z.looseObject({
  apiVersion: z.literal("discovery.k8s.io/v1").optional(),
  kind: z.literal("EndpointSlice").optional(),
  metadata,
  addressType: z.enum(["IPv4", "IPv6", "FQDN"]),
  endpoints: z.array(z.looseObject({ addresses: z.array(z.string()).min(1, "an endpoint needs at least one address") })).nullish(),
  ports: z.array(z.looseObject({ port: z.number().int().min(0).max(65535).nullish(), name: z.string().nullish() })).nullish(),
});

const syncBody = z.strictObject({
  services: z.array(service).default([]),
  endpointSlices: z.array(endpointSlice).default([]),
});

/** Reads and checks a kube sync body; KubeObjectsInvalid (400) names every bad field. */
export async function readKubeSync(request: Request): Promise<KubeObjectInput[]> {
  let body: z.infer<typeof syncBody>;
  try {
    body = await readRequestObject(request, syncBody, "kube sync");
  } catch (error) {
    if (error instanceof ResourceInvalid) throw new KubeObjectsInvalid(error.message, error.causes);
    throw error;
  }
  const objects = [
    ...body.services.map((o, i) => input("Service", "services", i, o)),
    ...body.endpointSlices.map((o, i) => input("EndpointSlice", "endpointSlices", i, o)),
  ];
  const causes: FieldError[] = [];
  if (objects.length > MAX_KUBE_OBJECTS) causes.push({ field: "", message: `${objects.length} objects is more than the limit of ${MAX_KUBE_OBJECTS} per sync` });
  const seen = new Map<string, string>();
  for (const o of objects) {
    const key = `${o.kind}/${o.namespace}/${o.name}`;
    const first = seen.get(key);
    if (first !== undefined) causes.push({ field: `${o.field}.metadata.name`, message: `${o.kind} ${o.namespace}/${o.name} is listed twice (also ${first})` });
    else seen.set(key, o.field);
  }
  if (causes.length > 0) throw new KubeObjectsInvalid(`kube sync is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, causes);
  return objects.map(({ field: _field, ...o }) => o);
}

function input(kind: KubeKind, list: string, index: number, raw: z.infer<typeof service> | z.infer<typeof endpointSlice>): KubeObjectInput & { field: string } {
  const { managedFields: _managed, ...meta } = raw.metadata as Record<string, unknown>;
  const apiVersion = kind === "Service" ? "v1" : "discovery.k8s.io/v1";
  return {
    kind,
    namespace: raw.metadata.namespace,
    name: raw.metadata.name,
    object: { ...raw, apiVersion, kind, metadata: meta },
    field: `${list}[${index}]`,
  };
}
