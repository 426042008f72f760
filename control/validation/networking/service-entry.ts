/**
 * @module service-entry
 * Validator of ServiceEntry specs (networking.istio.io): hosts (required; `*` only with
 * DYNAMIC_DNS; FQDNs when DNS resolution has no endpoints), addresses (IPs or CIDRs, CIDRs only for
 * NONE/STATIC), ports (unique names and numbers, known protocols, valid target ports), location,
 * resolution and what each mode allows of endpoints, endpoints (WorkloadEntries, see
 * {@link ./we-entry.ts}) or a workload selector but not both, exportTo and subjectAltNames.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import type { SpecValidator } from "../types.js";
import { checkSchema, cidrProblem, hostProblem, port } from "../primitives.js";
import { checkExportTo } from "./se-export-to.js";
import { checkWorkloadEntry, workloadEntrySchema } from "./we-entry.js";
import {
  arr,
  checkSelectorLabels,
  dnsLabelProblem,
  fieldError,
  fqdnProblem,
  isHttpProtocol,
  isIp,
  isSet,
  isTlsProtocol,
  labelsSelectorSchema,
  num,
  obj,
  protocolProblem,
  str,
  UNIX_PREFIX,
  type Path,
} from "./we-common.js";

/** An address must be a string; a YAML flow-sequence quirk can turn `[..., 001:db8::]` into a mapping. */
const addressSchema = z.unknown().superRefine((value, ctx) => {
  if (typeof value === "string") return;
  const asMap = obj(value);
  const keys = asMap ? Object.keys(asMap) : [];
  const hint =
    asMap && keys.length === 1 && asMap[keys[0]!] === null
      ? `; it parsed as the mapping {"${keys[0]}": null}: a plain YAML scalar ending in ':' inside [...] becomes a key, so quote the address ("${keys[0]}:")`
      : "";
  ctx.addIssue({ code: "custom", message: `must be of type string, got ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}${hint}` });
});

const servicePortSchema = z.strictObject({
  number: port,
  protocol: z.string().max(256, "protocol must be at most 256 characters").optional(),
  name: z.string().max(256, "port name must be at most 256 characters"),
  targetPort: port.optional(),
});

const RESOLUTIONS = ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"] as const;
type Resolution = (typeof RESOLUTIONS)[number];

const serviceEntrySchema = z.strictObject({
  hosts: z.array(z.string()).max(256, "at most 256 hosts are allowed"),
  addresses: z.array(addressSchema).max(256, "at most 256 addresses are allowed").optional(),
  ports: z.array(servicePortSchema).max(256, "at most 256 ports are allowed").optional(),
  location: z.enum(["MESH_EXTERNAL", "MESH_INTERNAL"]).optional(),
  resolution: z.enum(RESOLUTIONS).optional(),
  endpoints: z.array(workloadEntrySchema).max(4096, "at most 4096 endpoints are allowed").optional(),
  workloadSelector: labelsSelectorSchema.optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});

export const validateServiceEntry: SpecValidator = (spec, ctx) => {
  const out = checkSchema(serviceEntrySchema, spec, ["spec"]);
  const se = obj(spec);
  if (!se) return out;
  // Undefined when the resolution itself is invalid (the schema reports it): resolution-dependent rules are then skipped.
  const resolution: Resolution | undefined = se.resolution === undefined ? "NONE" : RESOLUTIONS.find((r) => r === se.resolution);
  const endpoints = arr(se.endpoints);

  out.push(...checkHosts(se, resolution, endpoints));
  out.push(...checkAddresses(se.addresses, resolution));
  const portNames = new Set<string>();
  out.push(...checkPorts(se.ports, portNames));

  if (isSet(se, "workloadSelector") && isSet(se, "endpoints")) {
    out.push(fieldError(["spec", "workloadSelector"], "only one of WorkloadSelector or Endpoints can be set"));
  }
  out.push(...checkSelectorLabels(obj(se.workloadSelector)?.labels, ["spec", "workloadSelector", "labels"]));
  out.push(...checkEndpoints(se, resolution, endpoints, portNames));

  // Plain TCP cannot tell hosts apart, so several hosts need HTTP or TLS ports unless resolution is NONE.
  const hostCount = arr(se.hosts)?.length ?? 0;
  if (resolution !== undefined && resolution !== "NONE" && hostCount > 1) {
    arr(se.ports)?.forEach((p, i) => {
      const protocol = str(obj(p)?.protocol) ?? "";
      if (obj(p) && !isHttpProtocol(protocol) && !isTlsProtocol(protocol)) {
        out.push(
          fieldError(["spec", "ports", i, "protocol"], `multiple hosts provided with non-HTTP, non-TLS port (protocol "${protocol}") and resolution ${resolution}`),
        );
      }
    });
  }
  out.push(...checkExportTo(se.exportTo, ["spec", "exportTo"], { namespace: ctx.namespace, serviceEntry: true }));
  return out;
};

function checkHosts(se: Record<string, unknown>, resolution: Resolution | undefined, endpoints: unknown[] | undefined): FieldError[] {
  const out: FieldError[] = [];
  const hosts = arr(se.hosts);
  if (hosts && hosts.length === 0) out.push(fieldError(["spec", "hosts"], "Required value: a service entry must have at least one host"));
  const dnsWithoutEndpoints = (resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && (endpoints?.length ?? 0) === 0;
  hosts?.forEach((h, i) => {
    if (typeof h !== "string") return;
    const at = ["spec", "hosts", i];
    if (h === "*") {
      if (resolution !== undefined && resolution !== "DYNAMIC_DNS") out.push(fieldError(at, `hostname cannot be wildcard "*" with resolution ${resolution}`));
      return;
    }
    const problem = hostProblem(h);
    if (problem) out.push(fieldError(at, problem));
    else if (dnsWithoutEndpoints && fqdnProblem(h)) {
      out.push(fieldError(at, `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}, got "${h}"`));
    } else if (resolution === "DYNAMIC_DNS" && !h.startsWith("*.")) {
      out.push(fieldError(at, `DYNAMIC_DNS resolution must be used with wildcard hosts such as "*.example.com", got "${h}"`));
    }
  });
  if (resolution === "DYNAMIC_DNS" && se.location === "MESH_INTERNAL") {
    out.push(fieldError(["spec", "location"], "DYNAMIC_DNS resolution is only supported for MESH_EXTERNAL service entries"));
  }
  return out;
}

function checkAddresses(raw: unknown, resolution: Resolution | undefined): FieldError[] {
  const out: FieldError[] = [];
  arr(raw)?.forEach((a, i) => {
    if (typeof a !== "string") return;
    const at = ["spec", "addresses", i];
    const problem = a.startsWith(UNIX_PREFIX) ? `Unix domain socket addresses are not supported in addresses, got "${a}"` : cidrProblem(a);
    if (problem) out.push(fieldError(at, problem));
    else if (a.includes("/") && resolution !== undefined && resolution !== "NONE" && resolution !== "STATIC") {
      out.push(fieldError(at, `CIDR addresses are allowed only for NONE/STATIC resolution types, got "${a}" with ${resolution}`));
    }
  });
  return out;
}

function checkPorts(raw: unknown, names: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  const numbers = new Set<number>();
  arr(raw)?.forEach((entry, i) => {
    const p = obj(entry);
    if (!p) return;
    const at: Path = ["spec", "ports", i];
    const name = str(p.name);
    if (name !== undefined) {
      if (names.has(name)) out.push(fieldError([...at, "name"], `Duplicate value: "${name}": port names must be unique`));
      else {
        const problem = dnsLabelProblem(name, "port name");
        if (problem) out.push(fieldError([...at, "name"], problem));
      }
      names.add(name);
    }
    const n = num(p.number);
    if (n !== undefined) {
      if (numbers.has(n)) out.push(fieldError([...at, "number"], `Duplicate value: ${n}: port number cannot be duplicated`));
      numbers.add(n);
    }
    const protocol = str(p.protocol);
    const problem = protocol === undefined ? undefined : protocolProblem(protocol);
    if (problem) out.push(fieldError([...at, "protocol"], problem));
  });
  return out;
}

function checkEndpoints(se: Record<string, unknown>, resolution: Resolution | undefined, endpoints: unknown[] | undefined, portNames: Set<string>): FieldError[] {
  const out: FieldError[] = [];
  if (!endpoints) return out;
  if (resolution === "NONE" && isSet(se, "endpoints")) {
    out.push(fieldError(["spec", "endpoints"], "NONE mode cannot set endpoints: the proxy forwards to the address the connection was bound to"));
    return out;
  }
  if (resolution === "DNS_ROUND_ROBIN" && endpoints.length > 1) {
    out.push(fieldError(["spec", "endpoints"], `DNS_ROUND_ROBIN mode cannot have multiple endpoints, got ${endpoints.length}`));
  }
  const ports = arr(se.ports);
  let unix = false;
  endpoints.forEach((entry, i) => {
    const at = ["spec", "endpoints", i];
    const ep = obj(entry);
    if (!ep) return;
    out.push(...checkWorkloadEntry(ep, at, { requireAddress: true, address: "none", servicePortNames: portNames }));
    const address = str(ep.address);
    if (address === undefined || address === "") return;
    if (address.startsWith(UNIX_PREFIX)) {
      unix = true;
      if (resolution !== undefined && resolution !== "STATIC") out.push(fieldError([...at, "address"], `Unix domain socket endpoint "${address}" requires STATIC resolution, got ${resolution}`));
    } else if (resolution === "STATIC" && !isIp(address)) {
      out.push(fieldError([...at, "address"], `endpoint address "${address}" is not a valid IP address (STATIC resolution)`));
    } else if ((resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && !isIp(address) && fqdnProblem(address)) {
      out.push(fieldError([...at, "address"], `endpoint address "${address}" is not a valid FQDN or an IP address: ${fqdnProblem(address)}`));
    }
  });
  if (unix && (ports?.length ?? 0) !== 1) {
    out.push(fieldError(["spec", "ports"], `exactly 1 service port required for unix domain socket endpoints, got ${ports?.length ?? 0}`));
  }
  return out;
}
