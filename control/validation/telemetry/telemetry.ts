/**
 * @module validation/telemetry/telemetry
 * Istio's admission rules for Telemetry (telemetry.istio.io): the strict shape of `tracing`,
 * `metrics` and `accessLogging`, named providers, sampling percentages 0-100, custom tags with one
 * value source each, metric overrides (a known metric or a non-empty custom one, tag overrides
 * whose value matches the UPSERT/REMOVE operation), reporting intervals of at least 1ms, and
 * attachment through selector or targetRef(s).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { checkSchema } from "../primitives.js";
import type { SpecContext, SpecValidator } from "../types.js";
import { durationAtLeast1ms, entries, fieldError, has, isRecord, items, neverThrows, nonEmpty, type Path } from "../security/fields.js";
import { checkPolicyAttachment, selectorSchema, targetRefFields } from "../security/target-ref.js";

const MODES = ["CLIENT_AND_SERVER", "CLIENT", "SERVER"] as const;
const METRICS = [
  "ALL_METRICS",
  "REQUEST_COUNT",
  "REQUEST_DURATION",
  "REQUEST_SIZE",
  "RESPONSE_SIZE",
  "TCP_OPENED_CONNECTIONS",
  "TCP_CLOSED_CONNECTIONS",
  "TCP_SENT_BYTES",
  "TCP_RECEIVED_BYTES",
  "GRPC_REQUEST_MESSAGES",
  "GRPC_RESPONSE_MESSAGES",
] as const;
const TAG_SOURCES = ["literal", "environment", "header", "formatter"] as const;

const providers = z.array(z.strictObject({ name: nonEmpty("provider name") })).optional();
const match = z.strictObject({ mode: z.enum(MODES).optional() }).optional();
/** Booleans Istio wraps (`google.protobuf.BoolValue`): null means unset. */
const optionalBool = z.boolean().nullable().optional();

const customTag = z.strictObject({
  literal: z.strictObject({ value: nonEmpty("literal tag value") }).optional(),
  environment: z.strictObject({ name: nonEmpty("environment variable name"), defaultValue: z.string().optional() }).optional(),
  header: z.strictObject({ name: nonEmpty("header name"), defaultValue: z.string().optional() }).optional(),
  formatter: z.strictObject({ value: nonEmpty("formatter value") }).optional(),
});

const tracing = z.strictObject({
  match,
  providers,
  randomSamplingPercentage: z
    .number()
    .min(0, "randomSamplingPercentage must be in range 0..100")
    .max(100, "randomSamplingPercentage must be in range 0..100")
    .nullable()
    .optional(),
  disableSpanReporting: optionalBool,
  customTags: z.record(z.string(), customTag).optional(),
  useRequestIdForTraceSampling: optionalBool,
  enableIstioTags: optionalBool,
});

const metricsOverride = z.strictObject({
  match: z
    .strictObject({
      metric: z.enum(METRICS).optional(),
      customMetric: nonEmpty("customMetric").optional(),
      mode: z.enum(MODES).optional(),
    })
    .optional(),
  disabled: optionalBool,
  tagOverrides: z
    .record(z.string(), z.strictObject({ operation: z.enum(["UPSERT", "REMOVE"]).optional(), value: z.string().optional() }))
    .optional(),
});

const metrics = z.strictObject({
  providers,
  overrides: z.array(metricsOverride).optional(),
  reportingInterval: durationAtLeast1ms.optional(),
});

const accessLogging = z.strictObject({
  match,
  providers,
  disabled: optionalBool,
  filter: z.strictObject({ expression: z.string().optional() }).optional(),
});

const telemetrySpec = z.strictObject({
  selector: selectorSchema.optional(),
  ...targetRefFields,
  tracing: z.array(tracing).optional(),
  metrics: z.array(metrics).optional(),
  accessLogging: z.array(accessLogging).optional(),
});

function checkCustomTags(tags: unknown, path: Path): FieldError[] {
  const out: FieldError[] = [];
  for (const [name, tag] of entries(tags)) {
    const at = [...path, name];
    if (name === "") out.push(fieldError(at, "key must not be empty: custom tags need a tag name"));
    if (!isRecord(tag)) continue;
    const sources = TAG_SOURCES.filter((s) => has(tag, s));
    if (sources.length > 1) {
      out.push(fieldError(at, `custom tag "${name}" must set only one of literal, environment, header or formatter, found ${sources.join(", ")}`));
    }
  }
  return out;
}

function checkTagOverrides(overrides: unknown, path: Path): FieldError[] {
  const out: FieldError[] = [];
  for (const [name, override] of entries(overrides)) {
    const at = [...path, name];
    if (name === "") out.push(fieldError(at, "key must not be empty: tag overrides need a tag name"));
    if (!isRecord(override)) continue;
    const operation = override.operation === undefined ? "UPSERT" : override.operation;
    if (operation === "UPSERT" && (override.value === undefined || override.value === "")) {
      const implied = override.operation === undefined ? " (the default operation)" : "";
      out.push(fieldError([...at, "value"], `value must be set when operation is UPSERT${implied}: give the expression of tag "${name}"`));
    }
    if (operation === "REMOVE" && has(override, "value")) {
      out.push(fieldError([...at, "value"], `value must not be set when operation is REMOVE: tag "${name}" is dropped, not computed`));
    }
  }
  return out;
}

function checkMetrics(metric: unknown, path: Path): FieldError[] {
  if (!isRecord(metric)) return [];
  const out: FieldError[] = [];
  items(metric.overrides).forEach((override, i) => {
    if (!isRecord(override)) return;
    const at = [...path, "overrides", i];
    const m = override.match;
    if (isRecord(m) && has(m, "metric") && has(m, "customMetric")) {
      out.push(fieldError([...at, "match"], "only one of metric or customMetric can be set"));
    }
    out.push(...checkTagOverrides(override.tagOverrides, [...at, "tagOverrides"]));
  });
  return out;
}

export const validateTelemetry: SpecValidator = neverThrows((spec: unknown, ctx: SpecContext) => {
  const errors = checkSchema(telemetrySpec, spec, ["spec"]);
  if (!isRecord(spec)) return errors;
  errors.push(...checkPolicyAttachment(spec, ctx));
  items(spec.tracing).forEach((t, i) => {
    if (isRecord(t)) errors.push(...checkCustomTags(t.customTags, ["spec", "tracing", i, "customTags"]));
  });
  items(spec.metrics).forEach((m, i) => errors.push(...checkMetrics(m, ["spec", "metrics", i])));
  return errors;
});
