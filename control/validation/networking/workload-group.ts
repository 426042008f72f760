/**
 * @module workload-group
 * Validator of WorkloadGroup specs (networking.istio.io): the metadata (labels, annotations)
 * stamped on generated WorkloadEntries, the required WorkloadEntry `template` (the WorkloadEntry
 * rules apply, except that no address is required: it is filled in per workload), and the
 * readiness `probe`: non-negative timings and exactly one of httpGet, tcpSocket, exec or grpc,
 * each with a valid port, scheme, header names or command.
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import type { SpecValidator } from "../types.js";
import { checkSchema, port } from "../primitives.js";
import { checkWorkloadEntry, workloadEntrySchema } from "./we-entry.js";
import { arr, checkLabels, fieldError, isSet, nonNegativeInt32, obj, type Path } from "./we-common.js";

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

const httpHeaderSchema = z.strictObject({
  name: z.string().superRefine((name, ctx) => {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: "custom", message: `Invalid value: "${name}": header name should match '^[-_A-Za-z0-9]+$'` });
  }),
  value: z.string().optional(),
});

const probeSchema = z.strictObject({
  initialDelaySeconds: nonNegativeInt32("initialDelaySeconds").optional(),
  timeoutSeconds: nonNegativeInt32("timeoutSeconds").optional(),
  periodSeconds: nonNegativeInt32("periodSeconds").optional(),
  successThreshold: nonNegativeInt32("successThreshold").optional(),
  failureThreshold: nonNegativeInt32("failureThreshold").optional(),
  httpGet: z
    .strictObject({
      path: z.string().optional(),
      port,
      host: z.string().optional(),
      scheme: z.string().superRefine((scheme, ctx) => {
        if (scheme !== "" && scheme !== "HTTP" && scheme !== "HTTPS") ctx.addIssue({ code: "custom", message: `Unsupported value: "${scheme}": scheme must be one of [HTTP, HTTPS]` });
      }).optional(),
      httpHeaders: z.array(httpHeaderSchema).optional(),
    })
    .optional(),
  tcpSocket: z.strictObject({ host: z.string().optional(), port }).optional(),
  exec: z
    .strictObject({
      command: z.array(z.string().min(1, "exec command entries must not be empty")),
    })
    .optional(),
  grpc: z.strictObject({ port, service: z.string().optional() }).optional(),
});

const workloadGroupSchema = z.strictObject({
  metadata: z
    .strictObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  template: workloadEntrySchema,
  probe: probeSchema.optional(),
});

const METHODS = ["httpGet", "tcpSocket", "exec", "grpc"] as const;

export const validateWorkloadGroup: SpecValidator = (spec) => {
  const out = checkSchema(workloadGroupSchema, spec, ["spec"]);
  const wg = obj(spec);
  if (!wg) return out;
  out.push(...checkLabels(obj(wg.metadata)?.labels, ["spec", "metadata", "labels"]));
  out.push(...checkWorkloadEntry(wg.template, ["spec", "template"], { requireAddress: false, address: "ip-or-fqdn" }));
  out.push(...checkProbe(wg.probe, ["spec", "probe"]));
  return out;
};

function checkProbe(raw: unknown, path: Path): FieldError[] {
  const probe = obj(raw);
  if (!probe) return [];
  const out: FieldError[] = [];
  const methods = METHODS.filter((m) => isSet(probe, m));
  if (methods.length !== 1) {
    out.push(
      fieldError(
        path,
        methods.length === 0
          ? `probe must set exactly one health check method: ${METHODS.join(", ")}`
          : `probe must set exactly one health check method, got ${methods.join(", ")}`,
      ),
    );
  }
  const exec = obj(probe.exec);
  if (exec && arr(exec.command)?.length === 0) out.push(fieldError([...path, "exec", "command"], "Required value: exec.command must have at least one entry"));
  return out;
}
