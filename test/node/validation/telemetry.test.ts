/**
 * @module test/node/validation/telemetry
 * Telemetry validation: every rule on its own, then Istio's own corpus documents.
 */
import { describe, expect, it } from "vitest";
import { validateTelemetry } from "../../../control/validation/telemetry/telemetry.js";
import { describeCorpusMatchingErr, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "istio-system", name: "mesh-default" };
const validate = (spec: unknown) => validateTelemetry(spec, ctx);
const override = (o: Record<string, unknown>) => ({ metrics: [{ overrides: [o] }] });
const O = "spec.metrics[0].overrides[0]";

/** Random objects built from this kind's own field names, so the fuzzing reaches nested rules. */
const VOCABULARY = [
  "selector", "matchLabels", "targetRef", "targetRefs", "kind", "name", "tracing", "metrics", "accessLogging", "match",
  "mode", "providers", "randomSamplingPercentage", "customTags", "literal", "environment", "header", "formatter", "value",
  "overrides", "metric", "customMetric", "tagOverrides", "operation", "UPSERT", "REMOVE", "reportingInterval", "filter",
  "expression", "disabled",
];

describe("Telemetry: valid specs", () => {
  it("accepts an empty spec and simple sampling", () => {
    expect(validate({})).toEqual([]);
    expect(validate({ tracing: [{ randomSamplingPercentage: 0 }, { randomSamplingPercentage: 100 }] })).toEqual([]);
  });

  it("accepts every section with every field", () => {
    const spec = {
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint" }],
      tracing: [
        {
          match: { mode: "SERVER" },
          providers: [{ name: "otel" }],
          randomSamplingPercentage: 12.5,
          disableSpanReporting: null,
          useRequestIdForTraceSampling: true,
          enableIstioTags: false,
          customTags: {
            a: { literal: { value: "x" } },
            b: { environment: { name: "POD_NAME", defaultValue: "unknown" } },
            c: { header: { name: "x-user" } },
            d: { formatter: { value: "%REQ(:PATH)%" } },
          },
        },
      ],
      metrics: [
        {
          providers: [{ name: "prometheus" }],
          reportingInterval: "15s",
          overrides: [
            { match: { metric: "REQUEST_COUNT", mode: "CLIENT" }, disabled: true },
            { match: { customMetric: "my_metric" }, tagOverrides: { a: { operation: "UPSERT", value: "request.host" }, b: { operation: "REMOVE" } } },
          ],
        },
      ],
      accessLogging: [{ match: { mode: "CLIENT_AND_SERVER" }, providers: [{ name: "envoy" }], disabled: false, filter: { expression: "response.code >= 400" } }],
    };
    expect(validate(spec)).toEqual([]);
  });
});

describe("Telemetry: rules", () => {
  it("refuses a spec that is not an object, and unknown fields", () => {
    expectError(validate(42), "spec", "must be of type object");
    const errors = validate({ tracing: [{ sampling: 10 }], logging: [] });
    expectError(errors, "spec.tracing[0].sampling", 'unknown field "sampling"');
    expectError(errors, "spec.logging", 'unknown field "logging"');
  });

  it("requires provider names", () => {
    expectError(validate({ tracing: [{ providers: [{ name: "" }] }] }), "spec.tracing[0].providers[0].name", "provider name must not be empty");
    expectError(validate({ accessLogging: [{ providers: [{}] }] }), "spec.accessLogging[0].providers[0].name", "Required value");
  });

  it("keeps randomSamplingPercentage within 0-100", () => {
    expectError(validate({ tracing: [{ randomSamplingPercentage: 100.5 }] }), "spec.tracing[0].randomSamplingPercentage", "must be in range 0..100");
    expectError(validate({ tracing: [{ randomSamplingPercentage: -1 }] }), "spec.tracing[0].randomSamplingPercentage", "must be in range 0..100");
  });

  it("refuses unknown modes and metrics", () => {
    expectError(validate({ accessLogging: [{ match: { mode: "BOTH" } }] }), "spec.accessLogging[0].match.mode", 'Unsupported value: "BOTH"');
    expectError(validate(override({ match: { metric: "REQUESTS" } })), `${O}.match.metric`, 'Unsupported value: "REQUESTS"');
  });

  it("checks custom tags: one value source, non-empty values and names", () => {
    const errors = validate({
      tracing: [{ customTags: { two: { literal: { value: "a" }, header: { name: "h" } }, empty: { literal: { value: "" } }, env: { environment: {} }, "": {} } }],
    });
    expectError(errors, "spec.tracing[0].customTags.two", 'custom tag "two" must set only one of literal, environment, header or formatter');
    expectError(errors, "spec.tracing[0].customTags.empty.literal.value", "literal tag value must not be empty");
    expectError(errors, "spec.tracing[0].customTags.env.environment.name", "Required value");
    expectError(errors, "spec.tracing[0].customTags[]", "key must not be empty");
  });

  it("checks metric overrides: customMetric non-empty, not both metric and customMetric", () => {
    expectError(validate(override({ match: { customMetric: "" } })), `${O}.match.customMetric`, "customMetric must not be empty");
    expectError(validate(override({ match: { metric: "REQUEST_COUNT", customMetric: "x" } })), `${O}.match`, "only one of metric or customMetric can be set");
  });

  it("requires a value for UPSERT, explicit or default, and none for REMOVE", () => {
    expectError(validate(override({ tagOverrides: { t: { operation: "UPSERT" } } })), `${O}.tagOverrides.t.value`, "value must be set when operation is UPSERT");
    expectError(validate(override({ tagOverrides: { t: { value: "" } } })), `${O}.tagOverrides.t.value`, "value must be set when operation is UPSERT (the default operation)");
    expectError(validate(override({ tagOverrides: { t: { operation: "REMOVE", value: "x" } } })), `${O}.tagOverrides.t.value`, "value must not be set when operation is REMOVE");
    expectError(validate(override({ tagOverrides: { t: { operation: "DELETE" } } })), `${O}.tagOverrides.t.operation`, 'Unsupported value: "DELETE"');
    expectError(validate(override({ tagOverrides: { "": { value: "x" } } })), `${O}.tagOverrides[]`, "key must not be empty");
  });

  it("requires reportingInterval to be a duration of at least 1ms", () => {
    expectError(validate({ metrics: [{ reportingInterval: "often" }] }), "spec.metrics[0].reportingInterval", "must be a valid duration greater than 1ms");
    expectError(validate({ metrics: [{ reportingInterval: "0.5ms" }] }), "spec.metrics[0].reportingInterval", "must be a valid duration greater than 1ms");
  });

  it("checks targetRef and that only one of selector, targetRef and targetRefs is set", () => {
    expectError(validate({ targetRef: { kind: "Service" } }), "spec.targetRef.name", "Required value");
    expectError(validate({ targetRef: { group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "r" } }), "spec.targetRef.kind", "targetRef must be to one of");
    expectError(validate({ targetRef: { kind: "Service", name: "a", namespace: "default" } }), "spec.targetRef.namespace", 'differs from the policy\'s own namespace "istio-system"');
    expectError(validate({ selector: { matchLabels: { a: "b" } }, targetRef: { kind: "Service", name: "a" } }), "spec", "only one of targetRefs or selector can be set");
  });

  it("reports every problem at once", () => {
    const errors = validate({ tracing: [{ randomSamplingPercentage: 200 }], metrics: [{ reportingInterval: "x", overrides: [{ tagOverrides: { t: {} } }] }] });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ["spec.metrics[0].overrides[0].tagOverrides.t.value", "spec.metrics[0].reportingInterval", "spec.tracing[0].randomSamplingPercentage"].sort(),
    );
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    expectNeverThrows(validate, shapedSpec(VOCABULARY, { root: "obj", maxKeys: 4 }), { numRuns: 500, notMessage: /^could not be validated/ });
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describeCorpusMatchingErr("Telemetry", validateTelemetry, { documents: 9, invalid: 4 });
