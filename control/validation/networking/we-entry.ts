/**
 * @module we-entry
 * The WorkloadEntry message, wherever it appears: a WorkloadEntry's spec, a ServiceEntry's
 * `endpoints[]`, a WorkloadGroup's `template`. Holds its strict schema and the rules Istio applies to
 * it: an address unless a network is given, Unix-domain-socket addresses (absolute path or abstract
 * socket, not a directory, no ports), an IP or FQDN otherwise, valid port names and 1–65535 port
 * values, and Kubernetes label syntax.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { port } from "../primitives.js";
import {
  checkLabels,
  fieldError,
  fqdnProblem,
  isIp,
  isSet,
  obj,
  str,
  uint32,
  unixAddressProblem,
  UNIX_PREFIX,
  type Path,
} from "./we-common.js";

export const workloadEntrySchema = z.strictObject({
  address: z.string().max(256, "address must be at most 256 characters").optional(),
  ports: z.record(z.string(), port).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  network: z.string().max(2048, "network must be at most 2048 characters").optional(),
  locality: z.string().max(2048, "locality must be at most 2048 characters").optional(),
  weight: uint32("weight").optional(),
  serviceAccount: z.string().max(253, "serviceAccount must be at most 253 characters").optional(),
});

export interface WorkloadEntryOptions {
  /** A standalone WorkloadEntry (and a ServiceEntry endpoint) needs an address unless network is set; a WorkloadGroup template does not. */
  requireAddress: boolean;
  /**
   * How a non-UDS address is checked: `ip-or-fqdn` (a WorkloadEntry, a DNS ServiceEntry's endpoint),
   * or `none` when the caller checks it itself.
   */
  address: "ip-or-fqdn" | "none";
  /** For ServiceEntry endpoints: the names of the entry's ports, which endpoint port names must be among. */
  servicePortNames?: ReadonlySet<string>;
}

const PORT_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** The rules of a WorkloadEntry at `path` (structure is checked by {@link workloadEntrySchema}). */
export function checkWorkloadEntry(raw: unknown, path: Path, opts: WorkloadEntryOptions): FieldError[] {
  const we = obj(raw);
  if (!we) return [];
  const out: FieldError[] = [];
  const address = str(we.address);

  if (address === undefined || address === "") {
    if (opts.requireAddress && !(typeof we.network === "string" && we.network !== "")) {
      out.push(fieldError([...path, "address"], "Address is required unless network is set"));
    }
  } else if (address.startsWith(UNIX_PREFIX)) {
    const problem = unixAddressProblem(address);
    if (problem) out.push(fieldError([...path, "address"], problem));
    if (isSet(we, "ports")) out.push(fieldError([...path, "ports"], `UDS may not include ports: address "${address}" is a Unix domain socket`));
  } else if (opts.address === "ip-or-fqdn" && !isIp(address) && fqdnProblem(address)) {
    out.push(fieldError([...path, "address"], `address "${address}" is not a valid IP address or FQDN: ${fqdnProblem(address)}`));
  }

  const ports = obj(we.ports);
  if (ports) {
    for (const name of Object.keys(ports)) {
      if (name.length >= 63 || !PORT_NAME.test(name)) {
        out.push(
          fieldError(
            [...path, "ports", name],
            `Invalid value: "${name}": port name must be valid: under 63 alphanumeric characters or '-', starting and ending alphanumeric`,
          ),
        );
      } else if (opts.servicePortNames && !opts.servicePortNames.has(name)) {
        out.push(fieldError([...path, "ports", name], `endpoint port "${name}" is not defined by the service entry's ports`));
      }
    }
  }
  out.push(...checkLabels(we.labels, [...path, "labels"]));
  return out;
}
