// Sidecar validation: each rule on its own (exact field path, message naming the rule),
// robustness against arbitrary input, then every Sidecar in Istio's corpus.
import { describe, expect, it } from "vitest";
import { validateSidecar } from "../../../control/validation/networking/sidecar.js";
import { corpusObjects } from "../../corpus.js";
import { expectError, expectNeverThrows, shapedSpec } from "./support.js";

const validate = (spec: unknown) => validateSidecar(spec, { namespace: "default", name: "sidecar" });

const egress = (...listeners: Array<Record<string, unknown>>) => validate({ egress: listeners });
const ingress = (...listeners: Array<Record<string, unknown>>) => validate({ ingress: listeners });
const HTTP_9080 = { number: 9080, protocol: "HTTP", name: "http" };

describe("Sidecar: valid specs", () => {
  it("accepts every field of the v1 API", () => {
    const spec = {
      workloadSelector: { labels: { app: "productpage" } },
      ingress: [
        { port: HTTP_9080, bind: "172.16.1.32", captureMode: "NONE", defaultEndpoint: "127.0.0.1:8080", connectionPool: { http: { http1MaxPendingRequests: 1024, maxRetries: 100 }, tcp: { maxConnections: 100 } } },
        { port: { number: 9443, protocol: "HTTPS", name: "https" }, defaultEndpoint: "unix:///var/run/someuds.sock", tls: { mode: "SIMPLE", serverCertificate: "/etc/cert.pem", privateKey: "/etc/key.pem", minProtocolVersion: "TLSV1_2", maxProtocolVersion: "TLSV1_3" } },
        { port: { number: 9444, protocol: "TLS", name: "mtls" }, defaultEndpoint: "[::1]:9444", tls: { mode: "MUTUAL", serverCertificate: "/c.pem", privateKey: "/k.pem", caCertificates: "/ca.pem" } },
      ],
      egress: [
        { port: { number: 3306, protocol: "MYSQL", name: "egressmysql" }, bind: "127.0.0.1", captureMode: "NONE", hosts: ["*/mysql.foo.com"] },
        { port: { number: 0, protocol: "HTTP" }, bind: "unix:///var/run/egress.sock", hosts: ["./*"] },
        { captureMode: "IPTABLES", hosts: ["istio-system/*", "~/*", "prod/*.example.com", "*/*"] },
      ],
      inboundConnectionPool: { http: { http2MaxRequests: 1024 } },
      outboundTrafficPolicy: { mode: "ALLOW_ANY", egressProxy: { host: "egress.istio-system.svc.cluster.local", subset: "v1", port: { number: 80 } } },
    };
    expect(validate(spec)).toEqual([]);
  });

  it.each([[{ outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } }], [{ inboundConnectionPool: { tcp: { maxConnections: 1 } } }], [{ ingress: [{ port: HTTP_9080 }] }]])(
    "does not require egress: %j",
    (spec) => {
      expect(validate(spec)).toEqual([]);
    },
  );
});

describe("Sidecar: structure", () => {
  it.each([
    [undefined, "Required value"],
    [null, "must be of type object, got null"],
    ["egress", "must be of type object, got string"],
  ])("refuses spec %j", (spec, message) => {
    expectError(validate(spec), "spec", message);
  });

  it("refuses an empty configuration", () => {
    expectError(validate({}), "spec", "empty configuration provided");
    expectError(validate({ workloadSelector: { labels: { app: "a" } } }), "spec", "empty configuration provided");
  });

  it("names unknown fields", () => {
    expectError(validate({ egres: [] }), "spec.egres", 'unknown field "egres"');
    expectError(egress({ hosts: ["./*"], prot: 1 }), "spec.egress[0].prot", "unknown field");
    expectError(ingress({ port: { ...HTTP_9080, nmae: "x" } }), "spec.ingress[0].port.nmae", "unknown field");
  });

  it("refuses unknown enum values", () => {
    expectError(egress({ hosts: ["./*"], captureMode: "TPROXY" }), "spec.egress[0].captureMode", "Unsupported value");
    expectError(validate({ outboundTrafficPolicy: { mode: "DENY" } }), "spec.outboundTrafficPolicy.mode", "Unsupported value");
  });

  it("reports every problem, not just the first", () => {
    const errors = validate({ egress: [{ hosts: ["bad"] }, { hosts: [] }], ingress: [{ bind: "x" }], extra: 1 });
    expect(errors.map((e) => e.field).sort()).toEqual(
      // egress[0]: a port-less listener that is not last; egress[1]: a second port-less listener
      ["spec.egress[0]", "spec.egress[0].hosts[0]", "spec.egress[1]", "spec.egress[1].hosts", "spec.extra", "spec.ingress[0].bind", "spec.ingress[0].port"].sort(),
    );
  });

  it("never throws, whatever the input", () => {
    const keys = ["workloadSelector", "labels", "ingress", "egress", "port", "number", "bind", "captureMode", "defaultEndpoint", "tls", "mode", "hosts",
      "connectionPool", "outboundTrafficPolicy", "egressProxy", "host", "inboundConnectionPool", "unix:///a", "./*"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "value", maxKeys: 5 }), { numRuns: 300 });
  });
});

describe("Sidecar: workload selector", () => {
  it("refuses wildcards and empty labels", () => {
    const base = { egress: [{ hosts: ["./*"] }] };
    expectError(validate({ ...base, workloadSelector: { labels: { app: "*" } } }), "spec.workloadSelector.labels.app", "wildcard is not supported in selector");
    expectError(validate({ ...base, workloadSelector: {} }), "spec.workloadSelector.labels", "workloadSelector cannot have empty labels");
    expectError(validate({ ...base, workloadSelector: { labels: { app: "a b" } } }), "spec.workloadSelector.labels.app", "invalid label value");
  });
});

describe("Sidecar: egress", () => {
  it("requires hosts in namespace/dnsName form", () => {
    expectError(egress({}), "spec.egress[0].hosts", "Required value");
    expectError(egress({ hosts: [] }), "spec.egress[0].hosts", "egress listener must contain at least one host");
    expectError(egress({ hosts: ["reviews"] }), "spec.egress[0].hosts[0]", "host must be of form namespace/dnsName");
    expectError(egress({ hosts: ["/reviews"] }), "spec.egress[0].hosts[0]", "namespace and dnsName in host entry cannot be empty");
    expectError(egress({ hosts: ["Bad_NS/*"] }), "spec.egress[0].hosts[0]", 'invalid namespace value "Bad_NS"');
    expectError(egress({ hosts: ["prod/foo*.com"] }), "spec.egress[0].hosts[0]", 'invalid egress host "prod/foo*.com"');
  });

  it("allows one port-less listener, and only last", () => {
    expectError(egress({ hosts: ["./*"] }, { port: HTTP_9080, hosts: ["./*"] }), "spec.egress[0]", "the egress listener with empty port should be the last listener");
    expectError(egress({ port: HTTP_9080, hosts: ["a/*"] }, { hosts: ["./*"] }, { hosts: ["b/*"] }), "spec.egress[2]", "egress can have only one listener with empty port");
  });

  it("requires unique ports and unix sockets", () => {
    expectError(egress({ port: HTTP_9080, hosts: ["a/*"] }, { port: HTTP_9080, hosts: ["b/*"] }), "spec.egress[1].port.number", "ports on IP bound listeners must be unique");
    const uds = { port: { number: 0, protocol: "HTTP" }, bind: "unix:///sock", hosts: ["./*"] };
    expectError(egress(uds, uds), "spec.egress[1].bind", "unix domain socket values for listeners must be unique");
  });

  it("needs a unix socket bind for port 0, and DEFAULT/NONE capture there", () => {
    expectError(egress({ port: { number: 0, protocol: "HTTP" }, hosts: ["./*"] }), "spec.egress[0].bind", "ports with 0 value must have a unix domain socket bind address");
    expectError(egress({ port: { number: 0, protocol: "HTTP" }, bind: "unix://relative", hosts: ["./*"] }), "spec.egress[0].bind", "UDS must be an absolute path");
    expectError(egress({ port: { number: 0 }, bind: "unix:///s", captureMode: "IPTABLES", hosts: ["./*"] }), "spec.egress[0].captureMode", "captureMode must be DEFAULT/NONE for unix domain socket listeners");
  });

  it("checks port names, protocols, numbers and IP binds", () => {
    expectError(egress({ port: { number: 80, name: "Not_Valid" }, hosts: ["./*"] }), "spec.egress[0].port.name", 'invalid port name "Not_Valid"');
    expectError(egress({ port: { number: 80, protocol: "SMTP" }, hosts: ["./*"] }), "spec.egress[0].port.protocol", 'unrecognized protocol "SMTP"');
    expectError(egress({ port: { number: 70000 }, hosts: ["./*"] }), "spec.egress[0].port.number", "port number must be in range 0..65535");
    expectError(egress({ port: HTTP_9080, bind: "localhost", hosts: ["./*"] }), "spec.egress[0].bind", 'bind "localhost" must be an IPv4 or IPv6 address');
    expectError(egress({ bind: "127.0.0.1", hosts: ["./*"] }), "spec.egress[0].bind", "port must be specified when bind is set");
  });
});

describe("Sidecar: ingress", () => {
  it("requires a port in 1..65535, unique", () => {
    expectError(ingress({ defaultEndpoint: "127.0.0.1:8080" }), "spec.ingress[0].port", "port is required for ingress listeners");
    expectError(ingress({ port: { number: 0 } }), "spec.ingress[0].port.number", "port must be between 1-65535");
    expectError(ingress({ port: HTTP_9080 }, { port: HTTP_9080 }), "spec.ingress[1].port.number", "ports on IP bound listeners must be unique");
  });

  it("binds only to an IP", () => {
    expectError(ingress({ port: HTTP_9080, bind: "unix:///sock" }), "spec.ingress[0].bind", "ingress listeners cannot bind a Unix domain socket");
    expectError(ingress({ port: HTTP_9080, bind: "host.local" }), "spec.ingress[0].bind", "must be an IPv4 or IPv6 address");
  });

  it.each([
    ["10.0.0.1:8080", "defaultEndpoint must be of form 127.0.0.1:<port>"],
    ["127.0.0.1", "defaultEndpoint must be of form"],
    ["127.0.0.1:http", 'defaultEndpoint port "http" is not a number'],
    ["0.0.0.0:0", "defaultEndpoint port must be between 1-65535"],
    ["unix://rel", "UDS must be an absolute path or abstract socket"],
  ])("checks defaultEndpoint %s", (defaultEndpoint, message) => {
    expectError(ingress({ port: HTTP_9080, defaultEndpoint }), "spec.ingress[0].defaultEndpoint", message);
  });

  it("checks the per-port and inbound connection pools", () => {
    expectError(ingress({ port: HTTP_9080, connectionPool: {} }), "spec.ingress[0].connectionPool", "connection pool must set at least one of tcp or http");
    expectError(validate({ inboundConnectionPool: { tcp: { maxConnections: -1 } } }), "spec.inboundConnectionPool.tcp.maxConnections", "max connections must be in range");
  });
});

describe("Sidecar: ingress TLS", () => {
  const https = { number: 8443, protocol: "HTTPS", name: "https" };
  const tls = (settings: Record<string, unknown>, port: Record<string, unknown> = https) => ingress({ port, tls: settings });
  const T = "spec.ingress[0].tls";

  it("terminates TLS only on HTTPS/TLS ports", () => {
    expectError(tls({ mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k" }, HTTP_9080), T, "server cannot have TLS settings for non HTTPS/TLS ports");
  });

  it("refuses what a sidecar cannot do", () => {
    const errors = tls({ mode: "ISTIO_MUTUAL", httpsRedirect: true, credentialName: "cred", subjectAltNames: ["a"] });
    expectError(errors, `${T}.mode`, "cannot set mode to ISTIO_MUTUAL in sidecar ingress tls");
    expectError(errors, `${T}.httpsRedirect`, "httpsRedirect is not supported");
    expectError(errors, `${T}.credentialName`, "credentialName is not currently supported");
    expectError(errors, `${T}.subjectAltNames`, "subjectAltNames is not supported");
    expectError(tls({ mode: "AUTO_PASSTHROUGH" }), `${T}.mode`, "cannot set mode to AUTO_PASSTHROUGH");
  });

  it("requires certificates for SIMPLE and MUTUAL", () => {
    expectError(tls({ mode: "SIMPLE" }), `${T}.serverCertificate`, "SIMPLE TLS requires a server certificate");
    expectError(tls({ mode: "SIMPLE", serverCertificate: "/c" }), `${T}.privateKey`, "SIMPLE TLS requires a private key");
    expectError(tls({ mode: "MUTUAL", serverCertificate: "/c", privateKey: "/k" }), `${T}.caCertificates`, "MUTUAL TLS requires a client CA bundle");
  });

  it("orders protocol versions", () => {
    expectError(tls({ mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k", minProtocolVersion: "TLSV1_3", maxProtocolVersion: "TLSV1_2" }), `${T}.minProtocolVersion`, "cannot be greater than maxProtocolVersion");
  });
});

describe("Sidecar: outbound traffic policy", () => {
  const P = "spec.outboundTrafficPolicy.egressProxy";
  const proxy = (egressProxy: Record<string, unknown>, mode = "ALLOW_ANY") => validate({ outboundTrafficPolicy: { mode, egressProxy } });

  it("allows an egress proxy only with ALLOW_ANY", () => {
    expectError(proxy({ host: "egress.example.com", port: { number: 80 } }, "REGISTRY_ONLY"), P, "egressProxy must be set only with ALLOW_ANY");
  });

  it("needs an FQDN host, a non-zero port and a valid subset", () => {
    expectError(proxy({ port: { number: 80 } }), `${P}.host`, "Required value");
    expectError(proxy({ host: "*.example.com", port: { number: 80 } }), `${P}.host`, "hostname cannot be wildcard");
    expectError(proxy({ host: "egress.example.com" }), `${P}.port.number`, "egressProxy port must be non-zero");
    expectError(proxy({ host: "egress.example.com", port: { number: 80 }, subset: "v_1" }), `${P}.subset`, 'invalid subset name "v_1"');
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describe("Sidecar: Istio corpus", () => {
  const docs = corpusObjects("Sidecar");

  it("finds the corpus documents, none of them marked invalid", () => {
    expect(docs.length).toBe(6);
    expect(docs.filter((d) => d.err !== undefined)).toEqual([]);
  });

  for (const doc of docs) {
    it(`accepts ${doc.file} ${doc.name}`, () => {
      expect(validate(doc.spec)).toEqual([]);
    });
  }
});
