// WorkloadEntry validation: each rule on its own (exact field path, message naming the rule),
// robustness against arbitrary input, then every WorkloadEntry in Istio's corpus.
import { describe, expect, it } from "vitest";
import { formatFieldPath } from "../../../control/validation/field-path.js";
import { validateWorkloadEntry } from "../../../control/validation/networking/workload-entry.js";
import { type ExpectedErrors, describeCorpusExpecting, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const validate = (spec: unknown) => validateWorkloadEntry(spec, { namespace: "default", name: "we" });

describe("WorkloadEntry: valid specs", () => {
  it("accepts every field of the v1 API", () => {
    const spec = {
      address: "2001:db8::10",
      ports: { http: 8080, "grpc-web": 9090, HTTPS: 8443 },
      labels: { app: "ratings", "app.kubernetes.io/version": "v1" },
      network: "vm-network",
      locality: "us-west/zone1/rack7",
      weight: 10,
      serviceAccount: "ratings",
    };
    expect(validate(spec)).toEqual([]);
  });

  it.each(["10.0.0.1", "vm1.example.com", "vm1", "unix:///var/run/app.sock", "unix://@abstract"])("accepts address %s", (address) => {
    expect(validate({ address })).toEqual([]);
  });

  it("accepts a missing address when network is set", () => {
    expect(validate({ network: "remote" })).toEqual([]);
  });
});

describe("WorkloadEntry: structure", () => {
  it.each([
    [undefined, "Required value"],
    [null, "must be of type object, got null"],
    [[{ address: "1.1.1.1" }], "must be of type object, got array"],
  ])("refuses spec %j", (spec, message) => {
    expectError(validate(spec), "spec", message);
  });

  it("names unknown fields", () => {
    expectError(validate({ address: "1.1.1.1", serviceAcount: "x" }), "spec.serviceAcount", 'unknown field "serviceAcount"');
  });

  it.each([
    [{ address: 1 }, "spec.address", "must be of type string, got number"],
    [{ address: "1.1.1.1", weight: -1 }, "spec.weight", "Invalid value: -1: weight must be in range 0..4294967295"],
    [{ address: "1.1.1.1", ports: { http: "80" } }, "spec.ports.http", "must be of type number, got string"],
    [{ address: "a".repeat(257) }, "spec.address", "address must be at most 256 characters"],
    [{ address: "1.1.1.1", serviceAccount: "s".repeat(254) }, "spec.serviceAccount", "serviceAccount must be at most 253 characters"],
  ])("checks field types and sizes: %j", (spec, field, message) => {
    expectError(validate(spec), field, message);
  });

  it("reports every problem, not just the first", () => {
    const errors = validate({ address: "unix:///dir/", ports: { "bad name": 0 }, labels: { "a/b/c": "x" } });
    expect(errors.map((e) => e.field).sort()).toEqual(["spec.address", "spec.labels[a/b/c]", "spec.ports", "spec.ports[bad name]", "spec.ports[bad name]"].sort());
  });

  it("never throws, whatever the input", () => {
    const keys = ["address", "ports", "labels", "network", "locality", "weight", "serviceAccount", "unix://", "unix:///a", "1.1.1.1"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "value", maxKeys: 5 }), { numRuns: 300 });
  });
});

describe("WorkloadEntry: address", () => {
  it("requires an address unless network is set", () => {
    expectError(validate({}), "spec.address", "Address is required unless network is set");
    expectError(validate({ address: "", labels: { app: "a" } }), "spec.address", "Address is required");
  });

  it("refuses an address that is neither an IP nor an FQDN", () => {
    expectError(validate({ address: "*.example.com" }), "spec.address", 'address "*.example.com" is not a valid IP address or FQDN');
    expectError(validate({ address: "10.0.0.1:8080" }), "spec.address", "is not a valid IP address or FQDN");
  });

  it.each([
    ["unix://relative", "UDS must be an absolute path or abstract socket"],
    ["unix://", "UDS must be an absolute path or abstract socket"],
    ["unix:///dir/", "UDS may not be a dir"],
    ["unix://@", "UDS abstract socket must have a name"],
  ])("checks unix socket address %s", (address, message) => {
    expectError(validate({ address }), "spec.address", message);
  });

  it("refuses ports on a unix socket address", () => {
    expectError(validate({ address: "unix://@foo", ports: { http: 80 } }), "spec.ports", "UDS may not include ports");
  });
});

describe("WorkloadEntry: ports and labels", () => {
  it.each([0, 65536, 1.5])("refuses port value %s", (value) => {
    expectError(validate({ address: "1.1.1.1", ports: { http: value } }), "spec.ports.http", "port must be between 1-65535");
  });

  it.each(["@", "-http", "http-", "a".repeat(63)])("refuses port name %j", (name) => {
    expectError(validate({ address: "1.1.1.1", ports: { [name]: 80 } }), formatFieldPath(["spec", "ports", name]), "port name must be valid");
  });

  it("checks labels", () => {
    expectError(validate({ address: "1.1.1.1", labels: { app: "has space" } }), "spec.labels.app", 'invalid label value "has space"');
    expectError(validate({ address: "1.1.1.1", labels: { "-app": "a" } }), "spec.labels[-app]", 'invalid label key "-app"');
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** What each `_err` document must yield: the field and (a substring of) the message. */
const EXPECTED: ExpectedErrors = {
  "spec: Required value": { field: "spec", message: "Required value" },
  "Address is required": { field: "spec.address", message: "Address is required" },
  "UDS may not be a dir": { field: "spec.address", message: "UDS may not be a dir" },
  "UDS must be an absolute path or abstract socket": { field: "spec.address", message: "UDS must be an absolute path or abstract socket" },
  "UDS may not include ports": { field: "spec.ports", message: "UDS may not include ports" },
  "port must be between 1-65535": { field: "spec.ports.http", message: "port must be between 1-65535" },
  // Kubernetes reports the map as a whole; the validator names the offending key.
  "spec.ports: Invalid value": { field: "spec.ports[@]", message: "Invalid value" },
};

describeCorpusExpecting("WorkloadEntry", 15, validate, EXPECTED);
