// Gateway validation: every rule on its own, then Istio's own corpus documents.
import { describe, expect, it } from "vitest";
import { validateGateway } from "../../../control/validation/networking/gateway.js";
import { corpusObjects } from "../../corpus.js";
import { expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "default", name: "gw" };
const validate = (spec: unknown) => validateGateway(spec, ctx);

const httpPort = { number: 80, name: "http", protocol: "HTTP" };
const httpsPort = { number: 443, name: "https", protocol: "HTTPS" };
const simpleTls = { mode: "SIMPLE", credentialName: "bookinfo-cert" };

/** A Gateway with one server; `server` fields are merged into a plain HTTP server. */
function gw(server: Record<string, unknown> = {}) {
  return { selector: { istio: "ingressgateway" }, servers: [{ port: httpPort, hosts: ["bookinfo.com"], ...server }] };
}
const server = (s: Record<string, unknown>) => validate(gw(s));

describe("Gateway: valid specs", () => {
  it("accepts HTTP, HTTPS, TLS passthrough and mutual TLS servers", () => {
    const spec = {
      selector: { istio: "ingressgateway" },
      servers: [
        { port: httpPort, hosts: ["bookinfo.com", "*.example.com", "ns1/api.example.com", "*/shop.example.com", "./*.local.io"], tls: { httpsRedirect: true }, name: "plain" },
        { port: httpsPort, hosts: ["bookinfo.com"], tls: simpleTls, name: "secure" },
        { port: { number: 8443, name: "tls", protocol: "TLS" }, hosts: ["*"], tls: { mode: "PASSTHROUGH" } },
        { port: { number: 9443, name: "mtls", protocol: "https" }, hosts: ["*"], tls: { mode: "MUTUAL", serverCertificate: "/c.pem", privateKey: "/k.pem", caCertificates: "/ca.pem", caCrl: "/crl.pem", minProtocolVersion: "TLSV1_2", maxProtocolVersion: "TLSV1_3", cipherSuites: ["ECDHE-RSA-AES256-GCM-SHA384"], subjectAltNames: ["spiffe://x"] } },
        { port: { number: 15443, name: "auto", protocol: "TLS" }, hosts: ["*.local"], tls: { mode: "AUTO_PASSTHROUGH" } },
        { port: { number: 15012, name: "istio-mtls", protocol: "TLS" }, hosts: ["*"], tls: { mode: "ISTIO_MUTUAL" } },
        { port: { number: 10443, name: "optional", protocol: "HTTPS" }, hosts: ["*"], tls: { mode: "OPTIONAL_MUTUAL", credentialNames: ["rsa", "ecdsa"] } },
        { port: { number: 11443, name: "certs", protocol: "HTTPS" }, hosts: ["*"], tls: { mode: "SIMPLE", tlsCertificates: [{ serverCertificate: "/c", privateKey: "/k" }] } },
        { port: { number: 31400, name: "tcp", protocol: "TCP" }, hosts: ["*"], bind: "10.0.0.1" },
        { port: { number: 0, name: "uds", protocol: "GRPC-WEB" }, hosts: ["1.2.3.4"], bind: "unix:///var/run/gw.sock" },
      ],
    };
    expect(validate(spec)).toEqual([]);
  });

  it("accepts every protocol Istio knows, in any case", () => {
    for (const protocol of ["HTTP", "http2", "GRPC", "grpc-web", "Mongo", "TCP", "REDIS", "MySQL", "UDP", "HTTP_PROXY"]) {
      expect(server({ port: { number: 80, name: "p", protocol } }), protocol).toEqual([]);
    }
  });
});

describe("Gateway: structure", () => {
  it("refuses a spec that is not an object", () => {
    for (const spec of [null, "gw", [], 3]) expectError(validate(spec), "spec", "must be of type object");
  });

  it("refuses unknown fields, naming the typo", () => {
    const errors = validate({ servers: [{ port: httpPort, hosts: ["a.com"], tls: { httpsRedirect: true, mdoe: "SIMPLE" }, hots: [] }], selektor: {} });
    expectError(errors, "spec.selektor", 'unknown field "selektor"');
    expectError(errors, "spec.servers[0].hots", 'unknown field "hots"');
    expectError(errors, "spec.servers[0].tls.mdoe", 'unknown field "mdoe"');
  });

  it("refuses bad enum values", () => {
    expectError(server({ port: httpsPort, tls: { mode: "STRICT" } }), "spec.servers[0].tls.mode", 'Unsupported value: "STRICT"');
    expectError(server({ port: httpsPort, tls: { ...simpleTls, minProtocolVersion: "TLSV1_4" } }), "spec.servers[0].tls.minProtocolVersion", 'Unsupported value: "TLSV1_4"');
  });

  it("checks the selector labels", () => {
    expectError(validate({ ...gw(), selector: { istio: "ingress*" } }), "spec.selector.istio", "wildcard not allowed in label value");
  });

  it("reports every problem at once", () => {
    const errors = validate({ servers: [{ port: { number: 0, name: "", protocol: "FTP" }, hosts: ["foo"] }] });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ["spec.servers[0].hosts[0]", "spec.servers[0].port.name", "spec.servers[0].port.number", "spec.servers[0].port.protocol"].sort(),
    );
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    const keys = ["servers", "selector", "port", "number", "name", "protocol", "hosts", "tls", "mode", "bind", "credentialName",
      "serverCertificate", "privateKey", "caCertificates", "tlsCertificates", "HTTPS", "TLS", "SIMPLE", "MUTUAL", "unix://", "*", "a.com"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "obj", maxKeys: 5 }), { numRuns: 500, checkArray: true, notMessage: /internal validation error/ });
  });
});

describe("Gateway: servers", () => {
  it("needs at least one server", () => {
    expectError(validate({ selector: { istio: "ingress" } }), "spec.servers", "at least one server");
    expectError(validate({ servers: [] }), "spec.servers", "at least one server");
  });

  it("needs a port with number, protocol and name", () => {
    expectError(validate({ servers: [{ hosts: ["a.com"] }] }), "spec.servers[0].port", "Required value");
    expectError(server({ port: { number: 80, name: "http" } }), "spec.servers[0].port.protocol", "Required value");
    expectError(server({ port: { ...httpPort, name: "" } }), "spec.servers[0].port.name", "port name must be set");
  });

  it("checks the port number and protocol", () => {
    expectError(server({ port: { ...httpPort, number: 0 } }), "spec.servers[0].port.number", "port must be between 1-65535, got 0");
    expectError(server({ port: { ...httpPort, number: 65536 } }), "spec.servers[0].port.number", "port must be between 1-65535, got 65536");
    expectError(server({ port: { ...httpPort, number: 80.5 } }), "spec.servers[0].port.number", "port number must be an integer");
    expectError(server({ port: { ...httpPort, protocol: "FTP" } }), "spec.servers[0].port.protocol", 'unsupported protocol "FTP"');
    expectError(server({ port: { ...httpPort, targetPort: 8080 } }), "spec.servers[0].port.targetPort", "targetPort has no effect on Gateways");
  });

  it("needs port names unique across servers, and server names unique", () => {
    const spec = { servers: [{ port: httpPort, hosts: ["a.com"], name: "s" }, { port: { ...httpPort, number: 8080 }, hosts: ["b.com"], name: "s" }] };
    const errors = validate(spec);
    expectError(errors, "spec.servers[1].port.name", 'duplicate port name "http"');
    expectError(errors, "spec.servers[1].name", 'duplicate server name "s"');
  });

  it("checks bind addresses", () => {
    expectError(server({ bind: "not-an-ip" }), "spec.servers[0].bind", 'invalid bind "not-an-ip"');
    expectError(server({ bind: "unix://relative.sock", port: { ...httpPort, number: 0 } }), "spec.servers[0].bind", "not an absolute path");
    expectError(server({ bind: "unix:///run/gw.sock" }), "spec.servers[0].port.number", "port number must be 0 for a server bound to a unix domain socket, got 80");
  });
});

describe("Gateway: hosts", () => {
  it("needs at least one host", () => {
    expectError(server({ hosts: undefined }), "spec.servers[0].hosts", "at least one host");
    expectError(server({ hosts: [] }), "spec.servers[0].hosts", "at least one host");
  });

  it("refuses short names and partial wildcards", () => {
    expectError(server({ hosts: ["reviews"] }), "spec.servers[0].hosts[0]", 'short name "reviews" is not allowed in a Gateway');
    expectError(server({ hosts: ["*foo.com"] }), "spec.servers[0].hosts[0]", 'partial wildcard "*foo.com" is not allowed');
    expectError(server({ hosts: ["ns/foo.*.com"] }), "spec.servers[0].hosts[0]", "invalid host");
  });

  it("checks the namespace part of namespace/host", () => {
    expectError(server({ hosts: ["Bad_NS/a.com"] }), "spec.servers[0].hosts[0]", 'namespace "Bad_NS" must be "*", "." or a namespace name');
    expectError(server({ hosts: ["/a.com"] }), "spec.servers[0].hosts[0]", "must both be non-empty");
    expectError(server({ hosts: ["ns/"] }), "spec.servers[0].hosts[0]", "must both be non-empty");
    expectError(server({ hosts: ["~/a.com"] }), "spec.servers[0].hosts[0]", 'namespace "~"');
  });
});

describe("Gateway: TLS", () => {
  it("requires TLS settings for HTTPS and TLS servers", () => {
    expectError(server({ port: httpsPort }), "spec.servers[0].tls", "server must have TLS settings for HTTPS/TLS protocols");
    expectError(server({ port: { number: 443, name: "tls", protocol: "TLS" } }), "spec.servers[0].tls", "must have TLS settings");
  });

  it("allows only httpsRedirect on plain HTTP servers and no TLS on other protocols", () => {
    expectError(server({ tls: simpleTls }), "spec.servers[0].tls", "server cannot have TLS settings for plain text HTTP ports");
    expectError(server({ tls: { httpsRedirect: true, serverCertificate: "/c.pem" } }), "spec.servers[0].tls", "plain text HTTP ports");
    expectError(server({ port: { number: 27017, name: "mongo", protocol: "MONGO" }, tls: { mode: "PASSTHROUGH" } }), "spec.servers[0].tls", "server cannot have TLS settings for non HTTPS/TLS ports");
  });

  it("needs a credential or a certificate and key for SIMPLE TLS", () => {
    const errors = server({ port: httpsPort, tls: { mode: "SIMPLE" } });
    expectError(errors, "spec.servers[0].tls.serverCertificate", "SIMPLE TLS requires serverCertificate");
    expectError(errors, "spec.servers[0].tls.privateKey", "SIMPLE TLS requires privateKey");
    expectError(server({ port: httpsPort, tls: { mode: "SIMPLE", serverCertificate: "/c.pem" } }), "spec.servers[0].tls.privateKey", "requires privateKey");
    expectError(
      server({ port: httpsPort, tls: { mode: "SIMPLE", tlsCertificates: [{ serverCertificate: "/c.pem" }] } }),
      "spec.servers[0].tls.tlsCertificates[0].privateKey",
      "requires privateKey in every tlsCertificates entry",
    );
  });

  it("needs a client CA for MUTUAL and OPTIONAL_MUTUAL unless a credential is used", () => {
    for (const mode of ["MUTUAL", "OPTIONAL_MUTUAL"]) {
      expectError(server({ port: httpsPort, tls: { mode, serverCertificate: "/c.pem", privateKey: "/k.pem" } }), "spec.servers[0].tls.caCertificates", `${mode} TLS requires a client CA bundle`);
      expect(server({ port: httpsPort, tls: { mode, credentialName: "cred" } })).toEqual([]);
    }
  });

  it("allows only one certificate source", () => {
    expectError(
      server({ port: httpsPort, tls: { mode: "SIMPLE", credentialName: "cred", serverCertificate: "/c.pem", privateKey: "/k.pem" } }),
      "spec.servers[0].tls",
      "only one certificate source may be set, got serverCertificate/privateKey, credentialName",
    );
  });

  it("forbids certificates with ISTIO_MUTUAL", () => {
    const errors = server({ port: httpsPort, tls: { mode: "ISTIO_MUTUAL", serverCertificate: "/c.pem", credentialName: "cred" } });
    expectError(errors, "spec.servers[0].tls.serverCertificate", "ISTIO_MUTUAL TLS uses Istio's own certificates, so serverCertificate must not be set");
    expectError(errors, "spec.servers[0].tls.credentialName", "so credentialName must not be set");
  });

  it("restricts the CRL", () => {
    expectError(server({ port: httpsPort, tls: { ...simpleTls, caCrl: "/crl.pem" } }), "spec.servers[0].tls.caCrl", "caCrl cannot be used with credentialName");
    expectError(
      server({ port: httpsPort, tls: { mode: "SIMPLE", serverCertificate: "/c.pem", privateKey: "/k.pem", caCrl: "/crl.pem" } }),
      "spec.servers[0].tls.caCrl",
      "caCrl is not supported with SIMPLE TLS",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

describe("Gateway: Istio corpus", () => {
  // Istio Gateways only: the corpus also holds a Gateway API (gateway.networking.k8s.io) Gateway.
  const docs = corpusObjects("Gateway", "networking.istio.io");

  it("finds the corpus documents", () => {
    expect(docs.length).toBe(13);
    expect(docs.filter((d) => d.err).length).toBe(0); // no Gateway *-invalid.yaml at this Istio commit
  });

  it.each(docs.filter((d) => !d.err).map((d) => [d.label, d] as const))("valid: %s", (_label, doc) => {
    expect(validateGateway(doc.spec, { namespace: doc.namespace, name: "x" })).toEqual([]);
  });

  it.each(docs.filter((d) => d.err).map((d) => [d.label, d] as const))("invalid: %s", (_label, doc) => {
    const errors = validateGateway(doc.spec, { namespace: doc.namespace, name: "x" });
    expect(errors.some((e) => e.field.startsWith("spec"))).toBe(true);
  });
});
