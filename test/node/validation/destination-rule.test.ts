// DestinationRule validation: each rule on its own (exact field path, message naming the rule),
// robustness against arbitrary input, then every DestinationRule in Istio's corpus.
import { describe, expect, it } from "vitest";
import { validateDestinationRule } from "../../../control/validation/networking/destination-rule.js";
import { type ExpectedErrors, describeCorpusExpecting, expectError, expectNeverThrows, shapedSpec } from "./support.js";

const validate = (spec: unknown, namespace = "default") => validateDestinationRule(spec, { namespace, name: "dr" });

/** A DestinationRule for reviews whose top-level traffic policy is `policy`. */
const withPolicy = (policy: Record<string, unknown>) => validate({ host: "reviews", trafficPolicy: policy });
const withLb = (lb: Record<string, unknown>) => withPolicy({ loadBalancer: lb });
const withPool = (pool: Record<string, unknown>) => withPolicy({ connectionPool: pool });
const withTls = (tls: Record<string, unknown>) => withPolicy({ tls });

const P = "spec.trafficPolicy";

describe("DestinationRule: valid specs", () => {
  it("accepts every field of the v1 API", () => {
    const policy = {
      loadBalancer: {
        consistentHash: { httpCookie: { name: "user", path: "/", ttl: "0s", attributes: [{ name: "SameSite", value: "Strict" }] }, ringHash: { minimumRingSize: 1024 } },
        localityLbSetting: {
          distribute: [{ from: "us-west/zone1/*", to: { "us-west/zone1/*": 80, "us-west/zone2/*": 20 } }],
          failoverPriority: ["topology.istio.io/network"],
          enabled: true,
        },
        warmup: { duration: "60s", minimumPercent: 10, aggression: 1.5 },
      },
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeout: "30ms", tcpKeepalive: { probes: 3, time: "7200s", interval: "75s" }, maxConnectionDuration: "1h", idleTimeout: "0s" },
        http: {
          http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: "5m",
          h2UpgradePolicy: "UPGRADE", useClientProtocol: false, maxConcurrentStreams: 100, http2KeepAlive: { interval: "15s", timeout: "5s" },
        },
      },
      outlierDetection: {
        splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 5, consecutiveGatewayErrors: 3, consecutive5xxErrors: 7,
        interval: "5m", baseEjectionTime: "15m", maxEjectionPercent: 100, minHealthPercent: 0,
      },
      tls: { mode: "MUTUAL", clientCertificate: "/etc/certs/cert.pem", privateKey: "/etc/certs/key.pem", caCertificates: "/etc/certs/ca.pem", subjectAltNames: ["reviews"], sni: "reviews.example.com", caCrl: "/etc/certs/crl.pem" },
      portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: "LEAST_REQUEST" }, tls: { mode: "SIMPLE", credentialName: "client-cred" } }],
      tunnel: { protocol: "CONNECT", targetHost: "egress.example.com", targetPort: 443 },
      retryBudget: { percent: 20, minRetryConcurrency: 3, budgetInterval: "10s" },
    };
    const spec = {
      host: "reviews.prod.svc.cluster.local",
      trafficPolicy: policy,
      subsets: [
        { name: "v1", labels: { version: "v1" }, trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN", warmupDurationSecs: "30s" }, proxyProtocol: { version: "V2" } } },
        { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } } } },
        { name: "v3", trafficPolicy: { loadBalancer: { consistentHash: { httpQueryParameterName: "user", minimumRingSize: 42 } }, tls: { mode: "ISTIO_MUTUAL" } } },
      ],
      exportTo: ["."],
      workloadSelector: { matchLabels: { app: "ratings" } },
    };
    expect(validate(spec)).toEqual([]);
  });

  it.each(["*", "*.foo.com", "reviews", "10.0.0.1"])("accepts host %s", (host) => {
    expect(validate({ host })).toEqual([]);
  });
});

describe("DestinationRule: structure", () => {
  it.each([
    [undefined, "Required value"],
    [null, "must be of type object, got null"],
    ["reviews", "must be of type object, got string"],
    [[], "must be of type object, got array"],
  ])("refuses spec %j", (spec, message) => {
    expectError(validate(spec), "spec", message);
  });

  it("requires host", () => {
    expectError(validate({}), "spec.host", "Required value");
  });

  it.each([
    [{ host: "r", tyop: 1 }, "spec.tyop"],
    [{ host: "r", trafficPolicy: { loadBalancer: { warmup: { duration: "1s", tyop: 1 } } } }, `${P}.loadBalancer.warmup.tyop`],
    [{ host: "r", subsets: [{ name: "v1", lables: {} }] }, "spec.subsets[0].lables"],
    [{ host: "r", trafficPolicy: { connectionPool: { tcp: { maxConnection: 1 } } } }, `${P}.connectionPool.tcp.maxConnection`],
  ])("names unknown fields: %j", (spec, field) => {
    expectError(validate(spec), field, "unknown field");
  });

  it.each([
    ["simple", { simple: "FASTEST" }, `${P}.loadBalancer.simple`],
    ["h2UpgradePolicy", { connectionPool: { http: { h2UpgradePolicy: "ALWAYS" } } }, `${P}.connectionPool.http.h2UpgradePolicy`],
    ["tls mode", { tls: { mode: "OPTIONAL" } }, `${P}.tls.mode`],
    ["proxyProtocol version", { proxyProtocol: { version: "V3" } }, `${P}.proxyProtocol.version`],
  ])("refuses an unknown %s enum value", (_name, policy, field) => {
    const p = "simple" in policy ? { loadBalancer: policy } : policy;
    expectError(withPolicy(p), field, "Unsupported value");
  });

  it("reports every problem, not just the first", () => {
    const errors = validate({ host: "bad host", trafficPolicy: { outlierDetection: { maxEjectionPercent: 101 } }, subsets: [{ name: "a" }, { name: "a" }], tyop: true });
    expect(errors.map((e) => e.field).sort()).toEqual(["spec.host", `${P}.outlierDetection.maxEjectionPercent`, "spec.subsets[1].name", "spec.tyop"].sort());
  });

  it("never throws, whatever the input", () => {
    const keys = ["host", "trafficPolicy", "loadBalancer", "consistentHash", "maglev", "tableSize", "localityLbSetting", "distribute", "failover", "to", "from",
      "connectionPool", "http", "tcp", "tls", "mode", "portLevelSettings", "port", "number", "tunnel", "subsets", "name", "labels", "exportTo", "workloadSelector", "matchLabels"];
    expectNeverThrows(validate, shapedSpec(keys, { root: "value", maxKeys: 5 }), { numRuns: 300, checkArray: true });
  });
});

describe("DestinationRule: host, subsets, exportTo, workloadSelector", () => {
  it("refuses an invalid host", () => {
    expectError(validate({ host: "reviews_v1.default" }), "spec.host", 'invalid host name "reviews_v1.default"');
  });

  it("requires subset names, unique, DNS-1123 labels", () => {
    expectError(validate({ host: "r", subsets: [{ labels: { version: "v1" } }] }), "spec.subsets[0].name", "Required value");
    expectError(validate({ host: "r", subsets: [{ name: "" }] }), "spec.subsets[0].name", "subset name cannot be empty");
    expectError(validate({ host: "r", subsets: [{ name: "v1" }, { name: "v1" }] }), "spec.subsets[1].name", 'Duplicate value: "v1"');
    expectError(validate({ host: "r", subsets: [{ name: "v_1" }] }), "spec.subsets[0].name", 'invalid subset name "v_1"');
  });

  it("checks subset labels and subset traffic policies", () => {
    expectError(validate({ host: "r", subsets: [{ name: "v1", labels: { version: "v1!" } }] }), "spec.subsets[0].labels.version", "invalid label value");
    expectError(validate({ host: "r", subsets: [{ name: "v1", trafficPolicy: { loadBalancer: { simple: "RANDOM", consistentHash: { useSourceIp: true } } } }] }),
      "spec.subsets[0].trafficPolicy.loadBalancer", "only one of simple or consistentHash");
  });

  it.each([
    [[".", "default"], "spec.exportTo[1]", '"." and the current namespace "default" are the same'],
    [["ns1", "ns1"], "spec.exportTo[1]", 'Duplicate value: "ns1"'],
    [["*", "ns1"], "spec.exportTo", 'cannot have both public ("*") and non-public'],
    [["Not_A_Namespace"], "spec.exportTo[0]", 'invalid exportTo entry "Not_A_Namespace"'],
    [["~"], "spec.exportTo[0]", 'invalid exportTo entry "~"'],
  ])("checks exportTo %j", (exportTo, field, message) => {
    expectError(validate({ host: "r", exportTo }), field, message);
  });

  it("refuses wildcards in the workload selector", () => {
    expectError(validate({ host: "r", workloadSelector: { matchLabels: { app: "*" } } }), "spec.workloadSelector.matchLabels.app", "wildcard is not supported in selector");
  });

  it("keeps a rule with a workload selector in its own namespace", () => {
    const selector = { matchLabels: { app: "ratings" } };
    expectError(validate({ host: "r", workloadSelector: selector, exportTo: ["other"] }), "spec.exportTo", "cannot have exportTo beyond current namespace");
    expectError(validate({ host: "r", workloadSelector: selector, exportTo: [".", "other"] }), "spec.exportTo", "cannot have multiple entries in exportTo");
    expect(validate({ host: "r", workloadSelector: selector, exportTo: ["prod"] }, "prod")).toEqual([]);
  });
});

describe("DestinationRule: traffic policy shape", () => {
  it("refuses an empty traffic policy", () => {
    expectError(withPolicy({}), P, "traffic policy must set at least one of");
  });

  it("requires port-level settings to name a port and set something", () => {
    expectError(withPolicy({ portLevelSettings: [{ loadBalancer: { simple: "RANDOM" } }] }), `${P}.portLevelSettings[0].port`, "a port-level traffic policy must set port.number");
    expectError(withPolicy({ portLevelSettings: [{ port: { number: 80 } }] }), `${P}.portLevelSettings[0]`, "port traffic policy must set at least one of");
    expectError(withPolicy({ portLevelSettings: [{ port: { number: 70000 }, tls: { mode: "SIMPLE" } }] }), `${P}.portLevelSettings[0].port.number`, "port must be between 1-65535");
    expectError(withPolicy({ portLevelSettings: [{ port: { number: 80 }, tls: { mode: "MUTUAL" } }] }), `${P}.portLevelSettings[0].tls.clientCertificate`, "client certificate required");
  });

  it("checks tunnel settings", () => {
    expectError(withPolicy({ tunnel: { protocol: "GET", targetHost: "a.example.com", targetPort: 80 } }), `${P}.tunnel.protocol`, 'tunnel protocol must be "CONNECT" or "POST"');
    expectError(withPolicy({ tunnel: { targetHost: "not a host", targetPort: 80 } }), `${P}.tunnel.targetHost`, "must be a valid FQDN or IP address");
    expectError(withPolicy({ tunnel: { targetHost: "10.0.0.1", targetPort: 0 } }), `${P}.tunnel.targetPort`, "port must be between 1-65535");
    expectError(withPolicy({ tunnel: { targetPort: 80 } }), `${P}.tunnel.targetHost`, "Required value");
  });

  it("keeps the retry budget percentage in 0..100", () => {
    expectError(withPolicy({ retryBudget: { percent: 120 } }), `${P}.retryBudget.percent`, "retry budget percent must be in range 0..100");
  });
});

describe("DestinationRule: load balancer", () => {
  it("refuses simple together with consistentHash", () => {
    expectError(withLb({ simple: "ROUND_ROBIN", consistentHash: { useSourceIp: true } }), `${P}.loadBalancer`, "only one of simple or consistentHash");
  });

  it("requires exactly one consistent-hash key", () => {
    expectError(withLb({ consistentHash: {} }), `${P}.loadBalancer.consistentHash`, "must set exactly one hash key");
    expectError(withLb({ consistentHash: { httpHeaderName: "x-user", useSourceIp: true } }), `${P}.loadBalancer.consistentHash`, "exactly one hash key, got httpHeaderName, useSourceIp");
  });

  it("requires a cookie name", () => {
    expectError(withLb({ consistentHash: { httpCookie: { ttl: "10s" } } }), `${P}.loadBalancer.consistentHash.httpCookie.name`, "Required value");
    expectError(withLb({ consistentHash: { httpCookie: { name: "" } } }), `${P}.loadBalancer.consistentHash.httpCookie.name`, "name required for httpCookie");
  });

  it("allows ringHash or maglev, not both, and not with minimumRingSize", () => {
    const C = `${P}.loadBalancer.consistentHash`;
    expectError(withLb({ consistentHash: { useSourceIp: true, ringHash: {}, maglev: { tableSize: 7 } } }), C, "only one of ringHash or maglev");
    expectError(withLb({ consistentHash: { useSourceIp: true, minimumRingSize: 10, ringHash: { minimumRingSize: 10 } } }), `${C}.minimumRingSize`, "only one of minimumRingSize or maglev/ringHash");
  });

  it.each([
    [undefined, "tableSize must be set for maglev"],
    [65536, "tableSize must be a prime number"],
    [5000011, "tableSize must be less than 5000011"],
  ])("checks the maglev table size %s", (tableSize, message) => {
    expectError(withLb({ consistentHash: { useSourceIp: true, maglev: tableSize === undefined ? {} : { tableSize } } }), `${P}.loadBalancer.consistentHash.maglev.tableSize`, message);
  });

  it("checks warmup", () => {
    const W = `${P}.loadBalancer.warmup`;
    expectError(withLb({ warmup: { minimumPercent: 5 } }), `${W}.duration`, "Required value");
    expectError(withLb({ warmup: { duration: "300s", minimumPercent: 150 } }), `${W}.minimumPercent`, "Invalid value: 150: minimumPercent must be in range 0..100");
    expectError(withLb({ warmup: { duration: "300s", aggression: -0.1 } }), `${W}.aggression`, "Invalid value: -0.1: aggression must be >= 0");
    expectError(withLb({ warmup: { duration: "0s" } }), `${W}.duration`, "duration must be at least 1ms");
    expectError(withLb({ warmupDurationSecs: "soon" }), `${P}.loadBalancer.warmupDurationSecs`, 'invalid duration "soon"');
  });
});

describe("DestinationRule: locality load balancing", () => {
  const L = `${P}.loadBalancer.localityLbSetting`;
  const withLocality = (setting: Record<string, unknown>) => withLb({ localityLbSetting: setting });

  it("refuses distribute together with failover", () => {
    expectError(withLocality({ distribute: [{ from: "a/*", to: { "a/*": 100 } }], failover: [{ from: "a", to: "b" }] }), L, "can not simultaneously specify 'distribute' and 'failover'");
  });

  it("needs distribute weights in 1..100 summing to 100", () => {
    expectError(withLocality({ distribute: [{ from: "a/*", to: { "a/*": 60, "b/*": 30 } }] }), `${L}.distribute[0].to`, "total locality weight 90 != 100");
    expectError(withLocality({ distribute: [{ from: "a/*", to: { "a/*": 0, "b/*": 100 } }] }), `${L}.distribute[0].to[a/*]`, "locality weight must be in range 1..100");
  });

  it("checks locality syntax and overlaps", () => {
    expectError(withLocality({ distribute: [{ from: "a/*/c", to: { "a/*": 100 } }] }), `${L}.distribute[0].from`, "wildcard '*' may appear only once, at the end");
    expectError(withLocality({ distribute: [{ from: "a//c", to: { "a/*": 100 } }] }), `${L}.distribute[0].from`, "no empty parts");
    expectError(withLocality({ distribute: [{ from: "a/b", to: { "a/*": 50, "a/b": 50 } }] }), `${L}.distribute[0].to[a/b]`, "overlaps with previously specified ones");
  });

  it("checks failover regions", () => {
    expectError(withLocality({ failover: [{ from: "us-east", to: "us-east" }] }), `${L}.failover[0]`, "must specify different regions");
    expectError(withLocality({ failover: [{ from: "us-east/z1", to: "eu-west" }] }), `${L}.failover[0]`, "regions only");
    expectError(withLocality({ failover: [{ from: "us-*", to: "eu-west" }] }), `${L}.failover[0]`, "should not contain '*' wildcard");
    expectError(withLocality({ failover: [{ from: "a", to: "b" }], failoverPriority: ["topology.kubernetes.io/region"] }), `${L}.failoverPriority[0]`, "can not simultaneously set 'failover' and topology label");
  });
});

describe("DestinationRule: connection pool and outlier detection", () => {
  it("refuses an empty connection pool", () => {
    expectError(withPool({}), `${P}.connectionPool`, "connection pool must set at least one of tcp or http");
  });

  it.each([
    [{ tcp: { maxConnections: -1 } }, "tcp.maxConnections", "max connections must be in range 0..2147483647"],
    [{ http: { http1MaxPendingRequests: -5 } }, "http.http1MaxPendingRequests", "http1 max pending requests must be in range"],
    [{ http: { http2MaxRequests: 1.5 } }, "http.http2MaxRequests", "http2 max requests must be an integer"],
    [{ http: { maxRetries: -1 } }, "http.maxRetries", "max retries must be in range"],
    [{ http: { maxConcurrentStreams: -1 } }, "http.maxConcurrentStreams", "max concurrent streams must be in range"],
    [{ tcp: { tcpKeepalive: { probes: -1 } } }, "tcp.tcpKeepalive.probes", "probes must be in range 0..4294967295"],
  ])("refuses counter %j", (pool, field, message) => {
    expectError(withPool(pool), `${P}.connectionPool.${field}`, message);
  });

  it.each([
    [{ tcp: { connectTimeout: "0s" } }, "tcp.connectTimeout", "duration must be at least 1ms"],
    [{ tcp: { connectTimeout: "1.5ms" } }, "tcp.connectTimeout", "only durations to ms precision are supported"],
    [{ tcp: { maxConnectionDuration: "10" } }, "tcp.maxConnectionDuration", 'invalid duration "10"'],
    [{ http: { idleTimeout: "0s" } }, "http.idleTimeout", "duration must be at least 1ms"],
    [{ http: { http2KeepAlive: { interval: "0ms" } } }, "http.http2KeepAlive.interval", "duration must be at least 1ms"],
  ])("refuses duration %j", (pool, field, message) => {
    expectError(withPool(pool), `${P}.connectionPool.${field}`, message);
  });

  it("allows a 0s TCP idle timeout, which disables it", () => {
    expect(withPool({ tcp: { idleTimeout: "0s" } })).toEqual([]);
  });

  it("refuses useClientProtocol with an UPGRADE policy", () => {
    expectError(withPool({ http: { h2UpgradePolicy: "UPGRADE", useClientProtocol: true } }), `${P}.connectionPool.http.useClientProtocol`, "must not be true when h2UpgradePolicy is UPGRADE");
  });

  it("checks outlier detection percentages and durations", () => {
    const O = `${P}.outlierDetection`;
    expectError(withPolicy({ outlierDetection: { maxEjectionPercent: 101 } }), `${O}.maxEjectionPercent`, "Invalid value: 101: maxEjectionPercent (a percentage) must be in range 0..100");
    expectError(withPolicy({ outlierDetection: { minHealthPercent: -1 } }), `${O}.minHealthPercent`, "must be in range 0..100");
    expectError(withPolicy({ outlierDetection: { interval: "500us" } }), `${O}.interval`, "duration must be at least 1ms");
    expectError(withPolicy({ outlierDetection: { consecutive5xxErrors: -1 } }), `${O}.consecutive5xxErrors`, "consecutive 5xx errors must be in range");
  });
});

describe("DestinationRule: client TLS", () => {
  const T = `${P}.tls`;

  it("requires a certificate and key for MUTUAL unless credentialName is set", () => {
    const errors = withTls({ mode: "MUTUAL" });
    expectError(errors, `${T}.clientCertificate`, "client certificate required for MUTUAL tls mode");
    expectError(errors, `${T}.privateKey`, "private key required for MUTUAL tls mode");
    expect(withTls({ mode: "MUTUAL", credentialName: "client-credential" })).toEqual([]);
  });

  it("refuses file paths together with credentialName", () => {
    expectError(withTls({ mode: "SIMPLE", credentialName: "cred", caCertificates: "/ca.pem" }), `${T}.caCertificates`, "cannot specify client certificates, CA certificate or CA CRL when credentialName");
  });

  it("refuses verification settings with insecureSkipVerify", () => {
    const errors = withTls({ mode: "SIMPLE", insecureSkipVerify: true, caCertificates: "/ca.pem", subjectAltNames: ["a"], caCrl: "/crl.pem" });
    expectError(errors, `${T}.caCertificates`, "cannot specify caCertificates when insecureSkipVerify is true");
    expectError(errors, `${T}.subjectAltNames`, "cannot specify subjectAltNames when insecureSkipVerify is true");
    expectError(errors, `${T}.caCrl`, "cannot specify caCrl when insecureSkipVerify is true");
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** What each `_err` document must yield: Istio's field and (a substring of) its message. */
const EXPECTED: ExpectedErrors = {
  "spec.trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value": { field: `${P}.loadBalancer.warmup.minimumPercent`, message: "Invalid value" },
  "spec.trafficPolicy.loadBalancer.warmup.duration: Required value": { field: `${P}.loadBalancer.warmup.duration`, message: "Required value" },
  "spec.trafficPolicy.loadBalancer.warmup.aggression: Invalid value": { field: `${P}.loadBalancer.warmup.aggression`, message: "Invalid value" },
};

describeCorpusExpecting("DestinationRule", 35, validate, EXPECTED);
