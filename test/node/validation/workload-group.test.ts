// WorkloadGroup validation: each rule on its own (exact field path, message naming the rule),
// robustness against arbitrary input, then every WorkloadGroup in Istio's corpus.
import { describe, expect, it } from "vitest";
import { validateWorkloadGroup } from "../../../control/validation/networking/workload-group.js";
import { type ExpectedErrors, describeCorpusExpecting, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const validate = (spec: unknown) => validateWorkloadGroup(spec, { namespace: "default", name: "wg" });

/** A WorkloadGroup with an empty template and the given probe. */
const withProbe = (probe: Record<string, unknown>) => validate({ template: {}, probe });

describe("WorkloadGroup: valid specs", () => {
  it("accepts every field of the v1 API", () => {
    const spec = {
      metadata: { labels: { app: "ratings", "app.kubernetes.io/version": "1.3.4" }, annotations: { "example.com/owner": "team a" } },
      template: { serviceAccount: "ratings", network: "vm-net", labels: { tier: "backend" }, ports: { http: 8080, grpc: 3550 }, weight: 2, locality: "us/east", address: "1.2.3.4" },
      probe: { initialDelaySeconds: 5, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: "/ready", port: 8080, host: "localhost", scheme: "HTTP", httpHeaders: [{ name: "X-Probe_1", value: "yes" }] } },
    };
    expect(validate(spec)).toEqual([]);
  });

  it.each([
    [{ tcpSocket: { host: "localhost", port: 3306 } }],
    [{ exec: { command: ["/bin/check", "--ready"] } }],
    [{ grpc: { port: 9090, service: "grpc.health.v1.Health" } }],
  ])("accepts probe %j", (probe) => {
    expect(withProbe(probe)).toEqual([]);
  });
});

describe("WorkloadGroup: structure", () => {
  it.each([
    [undefined, "Required value"],
    [null, "must be of type object, got null"],
    [true, "must be of type object, got boolean"],
  ])("refuses spec %j", (spec, message) => {
    expectError(validate(spec), "spec", message);
  });

  it("requires a template", () => {
    expectError(validate({ probe: { tcpSocket: { port: 80 } } }), "spec.template", "Required value");
  });

  it("names unknown fields", () => {
    expectError(validate({ template: {}, metadata: { label: {} } }), "spec.metadata.label", 'unknown field "label"');
    expectError(withProbe({ tcpSocket: { port: 80, timeout: 1 } }), "spec.probe.tcpSocket.timeout", "unknown field");
    expectError(validate({ template: { adress: "1.1.1.1" } }), "spec.template.adress", "unknown field");
  });

  it("reports every problem, not just the first", () => {
    const errors = validate({ template: { ports: { http: 0 } }, probe: { periodSeconds: -1, tcpSocket: { port: 70000 } }, metadata: { labels: { "bad key!": "v" } } });
    expect(errors.map((e) => e.field).sort()).toEqual(["spec.metadata.labels[bad key!]", "spec.probe.periodSeconds", "spec.probe.tcpSocket.port", "spec.template.ports.http"]);
  });

  it("never throws, whatever the input", () => {
    const keys = ["metadata", "labels", "annotations", "template", "address", "ports", "probe", "httpGet", "tcpSocket", "exec", "grpc", "command", "port", "httpHeaders", "name"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "value", maxKeys: 5 }), { numRuns: 300 });
  });
});

describe("WorkloadGroup: template and metadata", () => {
  it("does not require an address in the template", () => {
    expect(validate({ template: { serviceAccount: "sa" } })).toEqual([]);
  });

  it("applies the other WorkloadEntry rules to the template", () => {
    expectError(validate({ template: { address: "unix://relative" } }), "spec.template.address", "UDS must be an absolute path or abstract socket");
    expectError(validate({ template: { address: "unix:///sock", ports: { http: 80 } } }), "spec.template.ports", "UDS may not include ports");
    expectError(validate({ template: { ports: { "@": 80 } } }), "spec.template.ports[@]", "port name must be valid");
    expectError(validate({ template: { labels: { app: "a b" } } }), "spec.template.labels.app", "invalid label value");
  });

  it("checks metadata labels", () => {
    expectError(validate({ template: {}, metadata: { labels: { app: "-x" } } }), "spec.metadata.labels.app", 'invalid label value "-x"');
  });
});

describe("WorkloadGroup: probe", () => {
  it("requires exactly one health check method", () => {
    expectError(withProbe({ periodSeconds: 5 }), "spec.probe", "probe must set exactly one health check method: httpGet, tcpSocket, exec, grpc");
    expectError(withProbe({ tcpSocket: { port: 80 }, exec: { command: ["x"] } }), "spec.probe", "exactly one health check method, got tcpSocket, exec");
  });

  it.each(["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"])("refuses a negative %s", (field) => {
    expectError(withProbe({ [field]: -1, tcpSocket: { port: 80 } }), `spec.probe.${field}`, `Invalid value: -1: ${field} must be in range 0..2147483647`);
  });

  it.each([
    [{ tcpSocket: { port: 65536 } }, "spec.probe.tcpSocket.port"],
    [{ httpGet: { port: 0 } }, "spec.probe.httpGet.port"],
    [{ grpc: { port: -1 } }, "spec.probe.grpc.port"],
  ])("checks probe ports: %j", (probe, field) => {
    expectError(withProbe(probe), field, "port must be between 1-65535");
  });

  it("requires probe ports", () => {
    expectError(withProbe({ httpGet: { path: "/" } }), "spec.probe.httpGet.port", "Required value");
    expectError(withProbe({ tcpSocket: {} }), "spec.probe.tcpSocket.port", "Required value");
  });

  it("checks httpGet scheme and header names", () => {
    expectError(withProbe({ httpGet: { port: 80, scheme: "FTP" } }), "spec.probe.httpGet.scheme", "scheme must be one of [HTTP, HTTPS]");
    expectError(withProbe({ httpGet: { port: 80, httpHeaders: [{ name: "**" }] } }), "spec.probe.httpGet.httpHeaders[0].name", "header name should match '^[-_A-Za-z0-9]+$'");
    expectError(withProbe({ httpGet: { port: 80, httpHeaders: [{ value: "v" }] } }), "spec.probe.httpGet.httpHeaders[0].name", "Required value");
  });

  it("requires an exec command", () => {
    expectError(withProbe({ exec: {} }), "spec.probe.exec.command", "Required value");
    expectError(withProbe({ exec: { command: [] } }), "spec.probe.exec.command", "exec.command must have at least one entry");
    expectError(withProbe({ exec: { command: [""] } }), "spec.probe.exec.command[0]", "exec command entries must not be empty");
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** What each `_err` document must yield: the field and (a substring of) the message. */
const EXPECTED: ExpectedErrors = {
  "spec: Required value": { field: "spec", message: "Required value" },
  "port must be between 1-65535": { field: "spec.probe.tcpSocket.port", message: "port must be between 1-65535" },
  // Kubernetes words a pattern failure "<field> in body should match '<pattern>'".
  "spec.probe.httpGet.httpHeaders[0].name in body should match": { field: "spec.probe.httpGet.httpHeaders[0].name", message: "should match" },
};

describeCorpusExpecting("WorkloadGroup", 8, validate, EXPECTED);
