// ServiceEntry validation: each rule on its own (exact field path, message naming the rule),
// robustness against arbitrary input, then every ServiceEntry in Istio's corpus.
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { validateServiceEntry } from "../../../control/validation/networking/service-entry.js";
import { corpusObjects } from "../../corpus.js";
import { type ExpectedErrors, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const validate = (spec: unknown, namespace = "default") => validateServiceEntry(spec, { namespace, name: "se" });

const HTTP = [{ number: 80, name: "http", protocol: "HTTP" }];
/** A ServiceEntry for api.example.com on HTTP port 80, with `extra` merged in. */
const se = (extra: Record<string, unknown>) => validate({ hosts: ["api.example.com"], ports: HTTP, ...extra });

describe("ServiceEntry: valid specs", () => {
  it("accepts every field of the v1 API", () => {
    const spec = {
      hosts: ["api.example.com", "*.api.example.com"],
      addresses: ["240.0.0.1", "2001:db8::1"],
      ports: [
        { number: 443, name: "https", protocol: "HTTPS", targetPort: 8443 },
        { number: 80, name: "http", protocol: "http" },
      ],
      location: "MESH_INTERNAL",
      resolution: "STATIC",
      endpoints: [
        { address: "10.0.0.1", ports: { https: 8443, http: 8080 }, labels: { app: "api" }, network: "net1", locality: "us-west/zone1", weight: 2, serviceAccount: "api" },
        { address: "10.0.0.2" },
      ],
      exportTo: [".", "other"],
      subjectAltNames: ["spiffe://cluster.local/ns/default/sa/api"],
    };
    expect(validate(spec)).toEqual([]);
  });

  it("accepts a DNS entry with FQDN endpoints, and a unix socket endpoint with STATIC", () => {
    expect(se({ resolution: "DNS", endpoints: [{ address: "us.example.com", ports: { http: 8080 } }, { address: "10.1.1.1" }] })).toEqual([]);
    expect(se({ resolution: "STATIC", endpoints: [{ address: "unix:///var/run/example/socket" }] })).toEqual([]);
  });

  it("accepts DYNAMIC_DNS with wildcard hosts and \"~\" exportTo alone", () => {
    expect(validate({ hosts: ["*.example.com"], resolution: "DYNAMIC_DNS", ports: HTTP, exportTo: ["~"] })).toEqual([]);
  });

  it("accepts the address the yaml package cannot read when it is quoted", () => {
    const [doc] = parseAllDocuments('hosts: ["example.com"]\naddresses: [1.2.3.4, "001:db8::"]\nresolution: DNS\nports: [{name: foo, protocol: HTTP, number: 1234}]');
    expect(validate(doc!.toJS())).toEqual([]);
  });
});

describe("ServiceEntry: structure", () => {
  it.each([
    [undefined, "Required value"],
    [null, "must be of type object, got null"],
    [42, "must be of type object, got number"],
  ])("refuses spec %j", (spec, message) => {
    expectError(validate(spec), "spec", message);
  });

  it("names unknown fields", () => {
    expectError(se({ resolutoin: "DNS" }), "spec.resolutoin", 'unknown field "resolutoin"');
    expectError(se({ ports: [{ number: 80, name: "http", protcol: "HTTP" }] }), "spec.ports[0].protcol", "unknown field");
    expectError(se({ resolution: "STATIC", endpoints: [{ address: "1.1.1.1", weigth: 1 }] }), "spec.endpoints[0].weigth", "unknown field");
  });

  it("refuses unknown location and resolution values", () => {
    expectError(se({ location: "MESH_OUTSIDE" }), "spec.location", "Unsupported value");
    expectError(se({ resolution: "LOOKUP" }), "spec.resolution", "Unsupported value");
  });

  it("skips resolution-dependent rules when the resolution is invalid, and still reports the rest", () => {
    const errors = validate({ hosts: ["*"], resolution: "LOOKUP", endpoints: [{ address: "a.example.com" }], ports: [{ number: 1, name: "a", protocol: "SMTP" }] });
    expect(errors.map((e) => e.field).sort()).toEqual(["spec.ports[0].protocol", "spec.resolution"]);
  });

  it("reports every problem, not just the first", () => {
    const errors = validate({ hosts: ["*"], addresses: ["10.0.0.0/8"], resolution: "DNS", ports: [{ number: 0, name: "a" }], extra: 1 });
    expect(errors.map((e) => e.field).sort()).toEqual(["spec.addresses[0]", "spec.extra", "spec.hosts[0]", "spec.ports[0].number"]);
  });

  it("never throws, whatever the input", () => {
    const keys = ["hosts", "addresses", "ports", "number", "name", "protocol", "targetPort", "resolution", "location", "endpoints", "address",
      "network", "workloadSelector", "labels", "exportTo", "DNS", "STATIC", "NONE", "unix:///a"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "value", maxKeys: 5 }), { numRuns: 300 });
  });
});

describe("ServiceEntry: hosts", () => {
  it("requires at least one host", () => {
    expectError(validate({}), "spec.hosts", "Required value");
    expectError(validate({ hosts: [] }), "spec.hosts", "at least one host");
  });

  it("refuses the \"*\" host except with DYNAMIC_DNS", () => {
    expectError(validate({ hosts: ["*"] }), "spec.hosts[0]", "hostname cannot be wildcard");
    expectError(validate({ hosts: ["*"], resolution: "STATIC" }), "spec.hosts[0]", "hostname cannot be wildcard");
  });

  it("refuses malformed hosts", () => {
    expectError(validate({ hosts: ["foo*.com"] }), "spec.hosts[0]", 'invalid host name "foo*.com"');
    expectError(validate({ hosts: ["a..b"] }), "spec.hosts[0]", "invalid host name");
  });

  it("requires FQDN hosts for DNS resolution without endpoints", () => {
    expectError(se({ hosts: ["*.example.com"], resolution: "DNS" }), "spec.hosts[0]", "hosts must be FQDN if no endpoints are provided for resolution mode DNS");
    expect(se({ hosts: ["*.example.com"], resolution: "DNS", endpoints: [{ address: "lb.example.com" }] })).toEqual([]);
  });

  it("requires wildcard hosts and MESH_EXTERNAL for DYNAMIC_DNS", () => {
    expectError(se({ resolution: "DYNAMIC_DNS" }), "spec.hosts[0]", "DYNAMIC_DNS resolution must be used with wildcard hosts");
    expectError(se({ hosts: ["*.example.com"], resolution: "DYNAMIC_DNS", location: "MESH_INTERNAL" }), "spec.location", "only supported for MESH_EXTERNAL");
  });

  it("refuses several hosts on a plain TCP port unless resolution is NONE", () => {
    const tcp = [{ number: 5432, name: "tcp", protocol: "TCP" }];
    expectError(validate({ hosts: ["a.example.com", "b.example.com"], ports: tcp, resolution: "DNS" }), "spec.ports[0].protocol", "multiple hosts provided with non-HTTP, non-TLS port");
    expect(validate({ hosts: ["a.example.com", "b.example.com"], ports: tcp, resolution: "NONE" })).toEqual([]);
  });
});

describe("ServiceEntry: addresses", () => {
  it("requires IPs or CIDRs", () => {
    expectError(se({ addresses: ["1.2.3.4/99"] }), "spec.addresses[0]", "prefix length must be 0..32");
    expectError(se({ addresses: ["example.com"] }), "spec.addresses[0]", 'invalid IP address or CIDR "example.com"');
    expectError(se({ addresses: ["unix:///sock"] }), "spec.addresses[0]", "Unix domain socket addresses are not supported");
  });

  it.each(["DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"])("allows CIDRs only for NONE/STATIC, not %s", (resolution) => {
    expectError(se({ hosts: ["*.example.com"], addresses: ["10.0.0.0/24"], resolution, endpoints: resolution === "DYNAMIC_DNS" ? undefined : [{ address: "a.example.com" }] }),
      "spec.addresses[0]", "CIDR addresses are allowed only for NONE/STATIC resolution types");
  });

  it("explains a YAML mapping where an address was meant", () => {
    expectError(se({ addresses: [{ "001:db8:": null }] }), "spec.addresses[0]", 'quote the address ("001:db8::")');
  });
});

describe("ServiceEntry: ports", () => {
  it("requires a name and a number in 1..65535", () => {
    expectError(se({ ports: [{ number: 80 }] }), "spec.ports[0].name", "Required value");
    expectError(se({ ports: [{ name: "http" }] }), "spec.ports[0].number", "Required value");
    expectError(se({ ports: [{ number: 99999, name: "a" }] }), "spec.ports[0].number", "port must be between 1-65535");
    expectError(se({ ports: [{ number: 1, name: "a", targetPort: 0 }] }), "spec.ports[0].targetPort", "port must be between 1-65535");
  });

  it("refuses duplicate names and numbers", () => {
    expectError(se({ ports: [{ number: 1, name: "a" }, { number: 2, name: "a" }] }), "spec.ports[1].name", 'Duplicate value: "a"');
    expectError(se({ ports: [{ number: 1, name: "a" }, { number: 1, name: "b" }] }), "spec.ports[1].number", "port number cannot be duplicated");
  });

  it("checks port names and protocols", () => {
    expectError(se({ ports: [{ number: 1, name: "http_1" }] }), "spec.ports[0].name", 'invalid port name "http_1"');
    expectError(se({ ports: [{ number: 1, name: "a", protocol: "SMTP" }] }), "spec.ports[0].protocol", 'unrecognized protocol "SMTP"');
  });
});

describe("ServiceEntry: resolution, endpoints and selector", () => {
  it("refuses endpoints with NONE resolution (the default)", () => {
    expectError(se({ endpoints: [{ address: "1.2.3.4" }] }), "spec.endpoints", "NONE mode cannot set endpoints");
    expectError(se({ resolution: "NONE", endpoints: [] }), "spec.endpoints", "NONE mode cannot set endpoints");
  });

  it("allows at most one endpoint with DNS_ROUND_ROBIN", () => {
    expectError(se({ resolution: "DNS_ROUND_ROBIN", endpoints: [{ address: "a.example.com" }, { address: "b.example.com" }] }), "spec.endpoints", "DNS_ROUND_ROBIN mode cannot have multiple endpoints");
  });

  it("needs IP endpoint addresses with STATIC, IP or FQDN with DNS", () => {
    expectError(se({ resolution: "STATIC", endpoints: [{ address: "a.example.com" }] }), "spec.endpoints[0].address", 'endpoint address "a.example.com" is not a valid IP address');
    expectError(se({ resolution: "DNS", endpoints: [{ address: "*.example.com" }] }), "spec.endpoints[0].address", "is not a valid FQDN or an IP address");
    expectError(se({ resolution: "DNS", endpoints: [{ address: "unix:///sock" }] }), "spec.endpoints[0].address", "requires STATIC resolution");
  });

  it("applies the WorkloadEntry rules to endpoints", () => {
    expectError(se({ resolution: "STATIC", endpoints: [{ labels: { a: "b" } }] }), "spec.endpoints[0].address", "Address is required");
    expectError(se({ resolution: "STATIC", endpoints: [{ address: "1.1.1.1", ports: { http: 0 } }] }), "spec.endpoints[0].ports.http", "port must be between 1-65535");
    expectError(se({ resolution: "STATIC", endpoints: [{ address: "1.1.1.1", ports: { grpc: 9090 } }] }), "spec.endpoints[0].ports.grpc", 'endpoint port "grpc" is not defined');
    expectError(validate({ hosts: ["a.example.com"], resolution: "STATIC", endpoints: [{ address: "1.1.1.1", ports: { http: 80 } }] }), "spec.endpoints[0].ports.http", 'endpoint port "http" is not defined');
    expectError(se({ resolution: "STATIC", endpoints: [{ address: "unix://relative" }] }), "spec.endpoints[0].address", "UDS must be an absolute path or abstract socket");
  });

  it("needs exactly one port for unix socket endpoints", () => {
    expectError(se({ resolution: "STATIC", ports: [...HTTP, { number: 81, name: "h2", protocol: "HTTP2" }], endpoints: [{ address: "unix:///sock" }] }), "spec.ports", "exactly 1 service port required for unix domain socket endpoints");
  });

  it("refuses a workload selector together with endpoints", () => {
    expectError(se({ resolution: "STATIC", workloadSelector: { labels: { app: "a" } }, endpoints: [{ address: "1.1.1.1" }] }), "spec.workloadSelector", "only one of WorkloadSelector or Endpoints can be set");
  });

  it("refuses wildcards in the workload selector", () => {
    expectError(se({ workloadSelector: { labels: { app: "*" } } }), "spec.workloadSelector.labels.app", "wildcard is not supported in selector");
    expectError(se({ workloadSelector: { labels: { "*": "a" } } }), "spec.workloadSelector.labels[*]", "wildcard is not supported in selector");
    expectError(se({ workloadSelector: { matchLabels: { app: "a" } } }), "spec.workloadSelector.matchLabels", "unknown field");
  });
});

describe("ServiceEntry: exportTo", () => {
  it.each([
    [["~", "*"], "spec.exportTo", 'cannot export service entry to no one ("~") and someone'],
    [["default", "."], "spec.exportTo[1]", '"." and the current namespace "default" are the same'],
    [["a", "a"], "spec.exportTo[1]", 'Duplicate value: "a"'],
    [["*", "b"], "spec.exportTo", 'cannot have both public ("*")'],
    [["ns/x"], "spec.exportTo[0]", 'invalid exportTo entry "ns/x"'],
  ])("checks %j", (exportTo, field, message) => {
    expectError(se({ exportTo }), field, message);
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** What each `_err` document must yield: the field and (a substring of) the message. */
const EXPECTED: ExpectedErrors = {
  "spec: Required value": { field: "spec", message: "Required value" },
  "spec.hosts: Required value": { field: "spec.hosts", message: "Required value" },
  "wildcard is not supported in selector": { field: "spec.workloadSelector.labels.val", message: "wildcard is not supported in selector" },
  "only one of WorkloadSelector or Endpoints can be set": { field: "spec.workloadSelector", message: "only one of WorkloadSelector or Endpoints can be set" },
  "hostname cannot be wildcard": { field: "spec.hosts[0]", message: "hostname cannot be wildcard" },
  "CIDR addresses are allowed only for NONE/STATIC resolution types": { field: "spec.addresses[0]", message: "CIDR addresses are allowed only for NONE/STATIC resolution types" },
  "Duplicate value": { field: "spec.ports[1].name", message: "Duplicate value" },
  "port number cannot be duplicated": { field: "spec.ports[1].number", message: "port number cannot be duplicated" },
  "NONE mode cannot set endpoints": { field: "spec.endpoints", message: "NONE mode cannot set endpoints" },
  "DNS_ROUND_ROBIN mode cannot have multiple endpoints": { field: "spec.endpoints", message: "DNS_ROUND_ROBIN mode cannot have multiple endpoints" },
};
/** `port must be between 1-65535` is expected of two documents, on different fields. */
const PORT_RANGE: Record<string, string> = { "bad-port": "spec.ports[0].number", "bad-port-target": "spec.ports[0].targetPort" };

/**
 * Documents without `_err` that are nonetheless refused, and why:
 * - serviceentry-valid.yaml `full` has `addresses: [1.2.3.4, 001:db8::]`. The npm `yaml` package (YAML 1.2) reads
 *   the plain scalar `001:db8::` inside a flow sequence as the mapping `{"001:db8:": null}` (Go's yaml reads a string).
 *   A mapping is not an address, so the validator refuses it rather than guess; its message says to quote it.
 *   The quoted form is accepted (see "accepts the address the yaml package cannot read when it is quoted").
 * - virtualservice_destinationhosts.yaml `service-entry-ignore` is analyzer input, never run through validation
 *   in Istio: its `hosts: ["*"]` is exactly what serviceentry-invalid.yaml's `bad-host-wildcard` expects refused.
 */
const REFUSED_WITHOUT_ERR: Record<string, { field: string; message: string }> = {
  full: { field: "spec.addresses[1]", message: 'it parsed as the mapping {"001:db8:": null}' },
  "service-entry-ignore": { field: "spec.hosts[0]", message: "hostname cannot be wildcard" },
};

describe("ServiceEntry: Istio corpus", () => {
  const docs = corpusObjects("ServiceEntry");

  it("finds the corpus documents", () => {
    expect(docs.length).toBe(59);
  });

  for (const doc of docs.filter((d) => d.err === undefined)) {
    const refused = REFUSED_WITHOUT_ERR[doc.name];
    if (refused) {
      it(`refuses ${doc.file} ${doc.name} (parser/analyzer exception, see REFUSED_WITHOUT_ERR)`, () => {
        const errors = validate(doc.spec, doc.namespace);
        expect(errors).toHaveLength(1);
        expectError(errors, refused.field, refused.message);
      });
    } else {
      it(`accepts ${doc.file} ${doc.name}`, () => {
        expect(validate(doc.spec, doc.namespace)).toEqual([]);
      });
    }
  }

  for (const doc of docs.filter((d) => d.err !== undefined)) {
    it(`refuses ${doc.file} ${doc.name}: ${doc.err}`, () => {
      const expected = doc.err === "port must be between 1-65535" ? { field: PORT_RANGE[doc.name]!, message: doc.err } : EXPECTED[doc.err!];
      expect(expected, `no expectation for _err ${doc.err}`).toBeDefined();
      expectError(validate(doc.spec, doc.namespace), expected!.field, expected!.message);
    });
  }
});
