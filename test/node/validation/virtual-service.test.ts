// VirtualService validation: every rule on its own, then Istio's own corpus documents.
import { describe, expect, it } from "vitest";
import { validateVirtualService } from "../../../control/validation/networking/virtual-service.js";
import { corpusObjects } from "../../corpus.js";
import { expectError, expectNeverThrows, shapedSpec } from "./support.js";

const ctx = { namespace: "default", name: "vs" };
const validate = (spec: unknown) => validateVirtualService(spec, ctx);

/** A valid VirtualService with one HTTP route to reviews; `route` fields are merged into that route. */
function vs(route: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }], ...route }], ...top };
}

/** Errors for `vs(route)`. */
const http = (route: Record<string, unknown>, top: Record<string, unknown> = {}) => validate(vs(route, top));

describe("VirtualService: valid specs", () => {
  it("accepts a weighted split with every optional HTTP feature", () => {
    const spec = {
      hosts: ["reviews.prod.svc.cluster.local", "*.example.com", "10.0.0.1"],
      gateways: ["mesh", "istio-system/public", "internal-gw"],
      exportTo: [".", "other-ns"],
      http: [
        {
          name: "canary",
          match: [
            {
              name: "api",
              uri: { prefix: "/api" },
              method: { exact: "GET" },
              headers: { "x-user": { regex: "(?i)^jason$" }, "x-present": {}, ":authority": { prefix: "shop" } },
              withoutHeaders: { "x-debug": { regex: "*" } },
              queryParams: { debug: { exact: "" } },
              port: 8080,
              sourceLabels: { app: "web", version: "v1" },
              gateways: ["mesh"],
              sourceNamespace: "frontend",
              ignoreUriCase: true,
              statPrefix: "api",
            },
          ],
          route: [
            { destination: { host: "reviews", subset: "v1", port: { number: 9080 } }, weight: 75, headers: { request: { set: { "x-canary": "no" } } } },
            { destination: { host: "reviews", subset: "v2" }, weight: 25, headers: { response: { remove: ["x-internal"] } } },
          ],
          rewrite: { uri: "/v2/api", authority: "reviews.internal" },
          timeout: "10s",
          retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,connect-failure,503", retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: "25ms" },
          fault: { delay: { fixedDelay: "5s", percentage: { value: 0.1 } }, abort: { httpStatus: 503, percentage: { value: 1 } } },
          mirrors: [{ destination: { host: "reviews-shadow" }, percentage: { value: 5 } }],
          corsPolicy: {
            allowOrigins: [{ exact: "https://example.com" }, { regex: "https://.*\\.example\\.com" }],
            allowMethods: ["GET", "POST"],
            allowHeaders: ["content-type", "*"],
            exposeHeaders: ["x-request-id"],
            maxAge: "24h",
            allowCredentials: true,
            unmatchedPreflights: "IGNORE",
          },
          headers: { request: { add: { "x-start": "%START_TIME%", "x-pct": "100%%" } }, response: { set: { "x-served-by": "%HOSTNAME%" } } },
        },
        { match: [{ uri: { exact: "/old" } }], redirect: { uri: "/new", redirectCode: 308, scheme: "https", derivePort: "FROM_REQUEST_PORT" } },
        { match: [{ uri: { exact: "/health" } }], directResponse: { status: 200, body: { string: "ok" } } },
        { route: [{ destination: { host: "reviews" } }], mirror: { host: "reviews-shadow" }, mirrorPercentage: { value: 50 } },
      ],
    };
    expect(validate(spec)).toEqual([]);
  });

  it("accepts TLS (SNI) and TCP routes", () => {
    const spec = {
      hosts: ["*.example.com", "db.internal"],
      tls: [{ match: [{ port: 443, sniHosts: ["api.example.com", "*.example.com"], destinationSubnets: ["10.0.0.0/8"] }], route: [{ destination: { host: "api.example.com" } }] }],
      tcp: [{ match: [{ port: 5432, sourceSubnet: "192.168.0.0/16" }], route: [{ destination: { host: "db.internal", port: { number: 5432 } }, weight: 100 }] }],
    };
    expect(validate(spec)).toEqual([]);
  });

  it("accepts a delegate VirtualService (no hosts) and a root route that delegates to it", () => {
    expect(validate({ http: [{ match: [{ uri: { prefix: "/" } }], route: [{ destination: { host: "reviews" } }] }] })).toEqual([]);
    expect(validate({ hosts: ["bookinfo.com"], gateways: ["gw"], http: [{ match: [{ uri: { prefix: "/reviews" } }], delegate: { name: "reviews", namespace: "team" } }] })).toEqual([]);
  });

  it("requires the weights of several destinations to sum to 100, each 0..100", () => {
    expect(http({ route: [{ destination: { host: "a" }, weight: 0 }, { destination: { host: "b" }, weight: 100 }] })).toEqual([]);
    expect(http({ route: [{ destination: { host: "a" }, weight: 25 }, { destination: { host: "b" }, weight: 75 }] })).toEqual([]);
    expectError(http({ route: [{ destination: { host: "a" }, weight: 75 }, { destination: { host: "b" }, weight: 15 }] }), "spec.http[0].route[1].weight", "must sum to 100, got 90");
    expectError(http({ route: [{ destination: { host: "a" }, weight: 1 }, { destination: { host: "b" }, weight: 3 }] }), "spec.http[0].route[1].weight", "must sum to 100, got 4");
    expectError(http({ route: [{ destination: { host: "a" } }, { destination: { host: "b" } }] }), "spec.http[0].route[1].weight", "must sum to 100, got 0");
    expectError(http({ route: [{ destination: { host: "a" }, weight: 150 }] }), "spec.http[0].route[0].weight", "range 0..100");
  });


  it("accepts the deprecated websocketUpgrade flag (ignored since Istio 1.0)", () => {
    expect(http({ websocketUpgrade: true })).toEqual([]);
  });

  it("accepts gateway-bound VirtualServices with the wildcard host and JWT claim routing", () => {
    expect(validate({ hosts: ["*"], gateways: ["ingress"], http: [{ match: [{ headers: { "@request.auth.claims.group": { exact: "admin" } } }], route: [{ destination: { host: "admin" } }] }] })).toEqual([]);
  });
});

describe("VirtualService: structure", () => {
  it("refuses a spec that is not an object", () => {
    for (const spec of [null, "reviews", [], 3]) expectError(validate(spec), "spec", "must be of type object");
  });

  it("refuses unknown fields at every level, naming the typo", () => {
    const errors = validate({ hosts: ["a"], hots: [], http: [{ timout: "1s", route: [{ destination: { host: "a", subet: "v1" } }] }] });
    expectError(errors, "spec.hots", 'unknown field "hots"');
    expectError(errors, "spec.http[0].timout", 'unknown field "timout"');
    expectError(errors, "spec.http[0].route[0].destination.subet", 'unknown field "subet"');
  });

  it("refuses wrong types", () => {
    expectError(validate({ hosts: "reviews", http: [] }), "spec.hosts", "must be of type array");
    expectError(http({ timeout: 5 }), "spec.http[0].timeout", "must be of type string");
    expectError(http({ route: [{ destination: { host: "a" }, weight: "50" }] }), "spec.http[0].route[0].weight", "must be of type number");
  });

  it("refuses bad enum values", () => {
    expectError(http({ corsPolicy: { unmatchedPreflights: "DROP" } }), "spec.http[0].corsPolicy.unmatchedPreflights", 'Unsupported value: "DROP"');
    expectError(validate(vs({ route: undefined, redirect: { uri: "/x", derivePort: "FROM_NOWHERE" } })), "spec.http[0].redirect.derivePort", 'Unsupported value: "FROM_NOWHERE"');
  });

  it("reports every problem at once", () => {
    const errors = validate({ hosts: ["bad host"], http: [{ route: [{ destination: { host: "*" }, weight: -1 }], timeout: "0s" }], exportTo: ["Bad"] });
    expect(errors.map((e) => e.field).sort()).toEqual(
      ["spec.exportTo[0]", "spec.hosts[0]", "spec.http[0].route[0].destination.host", "spec.http[0].route[0].weight", "spec.http[0].timeout"].sort(),
    );
  });

  it("never throws and keeps every field under spec, whatever the input", () => {
    const keys = ["hosts", "gateways", "http", "tls", "tcp", "exportTo", "match", "route", "destination", "host", "weight", "redirect",
      "directResponse", "delegate", "fault", "abort", "delay", "headers", "request", "set", "uri", "regex", "prefix", "exact", "mirror",
      "mirrors", "retries", "attempts", "corsPolicy", "sniHosts", "rewrite", "status", "body", "*", "mesh", "a.b", "reviews", "%", "("];
    expectNeverThrows(validate, shapedSpec(keys, { root: "obj", maxKeys: 5 }), { numRuns: 500, checkArray: true, notMessage: /internal validation error/ });
  });
});

describe("VirtualService: hosts and bindings", () => {
  it("needs at least one http, tcp or tls route", () => {
    expectError(validate({ hosts: ["reviews"] }), "spec", "at least one http, tcp or tls route");
  });

  it("keeps a delegate VirtualService (no hosts) to HTTP routes without gateways", () => {
    const errors = validate({ gateways: ["gw"], http: vs().http, tls: [], tcp: [{ route: [{ destination: { host: "a" } }] }] });
    expectError(errors, "spec.gateways", "delegate VirtualService (one without hosts) must not set gateways");
    expectError(errors, "spec.tcp", "must not have tcp routes");
    expectError(validate({ tls: [{ match: [{ sniHosts: ["a.com"] }], route: [{ destination: { host: "a" } }] }] }), "spec.tls", "must not have tls routes");
  });

  it("checks each host name", () => {
    expectError(validate(vs({}, { hosts: ["reviews", "bad_host!"] })), "spec.hosts[1]", 'invalid host name "bad_host!"');
    expectError(validate(vs({}, { hosts: ["foo.*.com"] })), "spec.hosts[0]", 'invalid host name "foo.*.com"');
    expectError(validate(vs({}, { hosts: [""] })), "spec.hosts[0]", "host name must not be empty");
  });

  it("refuses the wildcard host for the mesh, allows it for gateways", () => {
    expectError(validate(vs({}, { hosts: ["*"] })), "spec.hosts[0]", 'wildcard host "*" is not allowed for a VirtualService bound to the mesh gateway');
    expectError(validate(vs({}, { hosts: ["*"], gateways: ["gw", "mesh"] })), "spec.hosts[0]", "bound to the mesh gateway");
    expect(validate(vs({}, { hosts: ["*"], gateways: ["gw"] }))).toEqual([]);
  });

  it("refuses overlapping hosts", () => {
    expectError(validate(vs({}, { hosts: ["*.foo.com", "a.foo.com"] })), "spec.hosts[1]", 'duplicate host "a.foo.com": it overlaps "*.foo.com"');
    expectError(validate(vs({}, { hosts: ["reviews", "reviews"] })), "spec.hosts[1]", "duplicate host");
  });

  it("checks gateway references: mesh, name or namespace/name", () => {
    expectError(validate(vs({}, { gateways: ["a/b/c"] })), "spec.gateways[0]", 'invalid gateway reference "a/b/c"');
    expectError(validate(vs({}, { gateways: ["/gw"] })), "spec.gateways[0]", "must both be non-empty");
    expectError(validate(vs({}, { gateways: ["Bad_NS/gw"] })), "spec.gateways[0]", 'namespace "Bad_NS" must be a DNS-1123 label');
    expectError(validate(vs({}, { gateways: ["gw*"] })), "spec.gateways[0]", "wildcards are not allowed");
  });

  it("allows JWT claim routing only on gateways", () => {
    const match = [{ headers: { "@request.auth.claims.group": { exact: "admin" } } }];
    expectError(http({ match }), "spec.http[0].match[0].headers[@request.auth.claims.group]", "JWT claim based routing");
    expectError(http({ match }, { gateways: ["gw", "mesh"] }), "spec.http[0].match[0].headers[@request.auth.claims.group]", "only supported on gateways");
  });

  it("checks exportTo: '.', '*' or namespace names, no duplicates, '*' alone", () => {
    expectError(validate(vs({}, { exportTo: ["Bad_NS"] })), "spec.exportTo[0]", 'invalid exportTo entry "Bad_NS"');
    expectError(validate(vs({}, { exportTo: ["~"] })), "spec.exportTo[0]", "invalid exportTo entry");
    expectError(validate(vs({}, { exportTo: ["*", "."] })), "spec.exportTo", 'exportTo "*" (all namespaces) cannot be combined');
    expectError(validate(vs({}, { exportTo: [".", "default"] })), "spec.exportTo[1]", 'duplicate exportTo entry "default"');
    expectError(validate(vs({}, { exportTo: ["ns1", "ns1"] })), "spec.exportTo[1]", "duplicate exportTo entry");
  });
});

describe("VirtualService: what an HTTP route does", () => {
  it("needs one of route, redirect, directResponse or delegate", () => {
    expectError(validate({ hosts: ["a"], http: [{ name: "empty" }] }), "spec.http[0]", 'HTTP route "empty" must set one of route, redirect, directResponse or delegate');
  });

  it("keeps route, redirect and directResponse exclusive", () => {
    expectError(http({ redirect: { uri: "/x" } }), "spec.http[0].redirect", "cannot set both route and redirect");
    expectError(http({ directResponse: { status: 200 } }), "spec.http[0].directResponse", "cannot set both route and directResponse");
    const both = validate({ hosts: ["a"], http: [{ redirect: { uri: "/x" }, directResponse: { status: 200 } }] });
    expectError(both, "spec.http[0].directResponse", "cannot set both redirect and directResponse");
  });

  it("refuses fault and rewrite next to redirect or directResponse", () => {
    const redirect = validate({ hosts: ["a"], http: [{ redirect: { uri: "/x" }, fault: { abort: { httpStatus: 500 } }, rewrite: { uri: "/y" } }] });
    expectError(redirect, "spec.http[0].fault", "cannot set both redirect and fault");
    expectError(redirect, "spec.http[0].rewrite", "cannot set both redirect and rewrite");
    const direct = validate({ hosts: ["a"], http: [{ directResponse: { status: 404 }, fault: { abort: { httpStatus: 500 } } }] });
    expectError(direct, "spec.http[0].fault", "cannot set both directResponse and fault");
  });

  it("keeps delegate alone, and only in a root VirtualService", () => {
    expectError(http({ delegate: { name: "child" } }), "spec.http[0].route", "sets delegate, so it must not also set route");
    expectError(validate({ http: [{ delegate: { name: "x" } }] }), "spec.http[0].delegate", "cannot delegate again");
    expectError(validate({ hosts: ["a"], http: [{ delegate: { namespace: "team" } }] }), "spec.http[0].delegate.name", "delegate name is required");
    expectError(validate({ hosts: ["a"], http: [{ delegate: { name: "x", namespace: "Team" } }] }), "spec.http[0].delegate.namespace", "invalid delegate namespace");
  });
});

describe("VirtualService: destinations and weights", () => {
  it("requires a destination with a host", () => {
    expectError(http({ route: [{}] }), "spec.http[0].route[0].destination", "Required value");
    expectError(http({ route: [{ destination: {} }] }), "spec.http[0].route[0].destination.host", "Required value");
  });

  it("checks the destination host, subset and port", () => {
    expectError(http({ route: [{ destination: { host: "*" } }] }), "spec.http[0].route[0].destination.host", 'invalid destination host "*"');
    expectError(http({ route: [{ destination: { host: "re views" } }] }), "spec.http[0].route[0].destination.host", 'invalid host name "re views"');
    expectError(http({ route: [{ destination: { host: "10.1.2.3" } }] }), "spec.http[0].route[0].destination.host", "cannot be all-numeric");
    expectError(http({ route: [{ destination: { host: "a", subset: "V1_x" } }] }), "spec.http[0].route[0].destination.subset", 'invalid subset name "V1_x"');
    expectError(http({ route: [{ destination: { host: "a", port: { number: 0 } } }] }), "spec.http[0].route[0].destination.port.number", "port must be between 1-65535, got 0");
    expectError(http({ route: [{ destination: { host: "a", port: { number: 70000 } } }] }), "spec.http[0].route[0].destination.port.number", "port must be between 1-65535, got 70000");
    expectError(http({ route: [{ destination: { host: "a", port: {} } }] }), "spec.http[0].route[0].destination.port.number", "Required value");
  });

  it("requires non-negative integer weights", () => {
    expectError(http({ route: [{ destination: { host: "a" }, weight: -1 }] }), "spec.http[0].route[0].weight", "weight must be between 0 and 2147483647, got -1");
    expectError(http({ route: [{ destination: { host: "a" }, weight: 1.5 }] }), "spec.http[0].route[0].weight", "weight must be an integer, got 1.5");
    expectError(validate({ hosts: ["a"], tcp: [{ route: [{ destination: { host: "a" }, weight: 0 }, { destination: { host: "b" }, weight: 0 }] }] }), "spec.tcp[0].route[1].weight", "must sum to 100, got 0");
  });
});

describe("VirtualService: match conditions", () => {
  it("requires exactly one of exact, prefix or regex in a StringMatch", () => {
    expectError(http({ match: [{ uri: {} }] }), "spec.http[0].match[0].uri", "one of exact, prefix or regex must be set");
    expectError(http({ match: [{ uri: { exact: "/a", prefix: "/b" } }] }), "spec.http[0].match[0].uri", "only one of exact, prefix or regex may be set, got exact and prefix");
    expectError(http({ match: [{ headers: { "x-a": { exact: "1", regex: "1" } } }] }), "spec.http[0].match[0].headers[x-a]", "only one of exact, prefix or regex");
  });

  it("allows {} for header presence and an empty path prefix, but not an empty method prefix", () => {
    expect(http({ match: [{ headers: { "x-a": {} }, withoutHeaders: { "x-b": {} }, uri: { prefix: "" } }] })).toEqual([]);
    expectError(http({ match: [{ method: { prefix: "" } }] }), "spec.http[0].match[0].method.prefix", "prefix match must not be empty");
  });

  it("compiles regexes with RE2 rules", () => {
    expectError(http({ match: [{ uri: { regex: "/api/(v1" } }] }), "spec.http[0].match[0].uri.regex", 'invalid regex "/api/(v1"');
    expectError(http({ match: [{ headers: { "x-a": { regex: "[a-" } } }] }), "spec.http[0].match[0].headers[x-a].regex", "invalid regex");
    expectError(http({ match: [{ uri: { regex: "/(?=admin)" } }] }), "spec.http[0].match[0].uri.regex", "look-ahead");
    expectError(http({ match: [{ uri: { regex: "(a)\\1" } }] }), "spec.http[0].match[0].uri.regex", "back-reference");
    expectError(http({ match: [{ uri: { regex: "" } }] }), "spec.http[0].match[0].uri.regex", "regex must not be empty");
    expectError(http({ match: [{ uri: { regex: "a".repeat(1025) } }] }), "spec.http[0].match[0].uri.regex", "regex is too large");
    expect(http({ match: [{ uri: { regex: "(?i)/API/(?P<v>v[0-9]+)\\z" } }, { authority: { regex: "[[:alpha:]]+\\.example\\.com" } }] })).toEqual([]);
  });

  it("checks header names", () => {
    expectError(http({ match: [{ headers: { "bad header": { exact: "x" } } }] }), "spec.http[0].match[0].headers[bad header]", 'invalid header name "bad header"');
    expectError(http({ match: [{ withoutHeaders: { "": { exact: "x" } } }] }), "spec.http[0].match[0].withoutHeaders[]", "header name must not be empty");
  });

  it("checks port, source labels, gateways and source namespace", () => {
    expectError(http({ match: [{ port: 0 }] }), "spec.http[0].match[0].port", "port must be between 1-65535, got 0");
    expectError(http({ match: [{ sourceLabels: { app: "web*" } }] }), "spec.http[0].match[0].sourceLabels.app", "wildcard not allowed in label value");
    expectError(http({ match: [{ gateways: ["ns/Bad_Gw"] }] }), "spec.http[0].match[0].gateways[0]", 'gateway name "Bad_Gw" must be a DNS-1123 label');
    expectError(http({ match: [{ sourceNamespace: "Front_End" }] }), "spec.http[0].match[0].sourceNamespace", 'invalid sourceNamespace "Front_End"');
  });
});

describe("VirtualService: durations", () => {
  it("parses durations and requires at least 1ms, to millisecond precision", () => {
    expectError(http({ timeout: "ten seconds" }), "spec.http[0].timeout", 'invalid duration "ten seconds"');
    expectError(http({ timeout: "0s" }), "spec.http[0].timeout", "greater than 1ms");
    expectError(http({ timeout: "1500us" }), "spec.http[0].timeout", "millisecond precision");
    expectError(http({ retries: { attempts: 1, perTryTimeout: "0.5ms" } }), "spec.http[0].retries.perTryTimeout", "greater than 1ms");
    expectError(http({ retries: { attempts: 1, backoff: "soon" } }), "spec.http[0].retries.backoff", "invalid duration");
    expectError(http({ fault: { delay: { fixedDelay: "0s" } } }), "spec.http[0].fault.delay.fixedDelay", "greater than 1ms");
    expectError(http({ corsPolicy: { maxAge: "-1s" } }), "spec.http[0].corsPolicy.maxAge", "invalid duration");
  });
});

describe("VirtualService: retries", () => {
  it("requires attempts >= 0 and attempts > 0 when retry settings are given", () => {
    expectError(http({ retries: { attempts: -1 } }), "spec.http[0].retries.attempts", "attempts must be >= 0, got -1");
    expectError(http({ retries: { attempts: 0, perTryTimeout: "1s" } }), "spec.http[0].retries", "attempts is 0, which disables retries");
    expectError(http({ retries: { retryOn: "5xx" } }), "spec.http[0].retries", "sets retryOn but attempts is 0");
    expect(http({ retries: { attempts: 0 } })).toEqual([]);
  });

  it("checks retryOn policies", () => {
    expectError(http({ retries: { attempts: 2, retryOn: "5xx,sometimes" } }), "spec.http[0].retries.retryOn", '"sometimes" is not a valid retryOn policy');
    expectError(http({ retries: { attempts: 2, retryOn: "5xx, reset" } }), "spec.http[0].retries.retryOn", '" reset" is not a valid retryOn policy');
    expectError(http({ retries: { attempts: 2, retryOn: "999" } }), "spec.http[0].retries.retryOn", '"999" is not a valid retryOn policy');
  });
});

describe("VirtualService: fault injection", () => {
  it("needs an abort or a delay", () => {
    expectError(http({ fault: {} }), "spec.http[0].fault", "must set an abort, a delay, or both");
  });

  it("checks the abort status and error type", () => {
    expectError(http({ fault: { abort: { httpStatus: 600 } } }), "spec.http[0].fault.abort.httpStatus", "abort httpStatus 600 is not in range 200-599");
    expectError(http({ fault: { abort: { httpStatus: 199 } } }), "spec.http[0].fault.abort.httpStatus", "not in range 200-599");
    expectError(http({ fault: { abort: { grpcStatus: "NOPE" } } }), "spec.http[0].fault.abort.grpcStatus", 'gRPC status "NOPE" is not supported');
    expectError(http({ fault: { abort: { http2Error: "X" } } }), "spec.http[0].fault.abort.http2Error", "not supported yet");
    expectError(http({ fault: { abort: { httpStatus: 503, grpcStatus: "UNAVAILABLE" } } }), "spec.http[0].fault.abort", "only one of httpStatus, grpcStatus or http2Error");
    expect(http({ fault: { abort: { grpcStatus: "UNAVAILABLE", percentage: { value: 10 } } } })).toEqual([]);
  });

  it("checks percentages", () => {
    expectError(http({ fault: { abort: { httpStatus: 503, percentage: { value: 101 } } } }), "spec.http[0].fault.abort.percentage.value", "percentage must be in range 0..100");
    expectError(http({ fault: { delay: { fixedDelay: "1s", percentage: { value: 0.00001 } } } }), "spec.http[0].fault.delay.percentage", "too small");
    expectError(http({ fault: { delay: { fixedDelay: "1s", percent: 150 } } }), "spec.http[0].fault.delay.percent", "percent must be between 0 and 100, got 150");
  });

  it("needs exactly one delay kind, and only fixedDelay is supported", () => {
    expectError(http({ fault: { delay: { percentage: { value: 5 } } } }), "spec.http[0].fault.delay", "delay must set fixedDelay");
    expectError(http({ fault: { delay: { exponentialDelay: "1s" } } }), "spec.http[0].fault.delay.exponentialDelay", "not supported yet");
  });
});

describe("VirtualService: redirect, direct response and rewrite", () => {
  const redirect = (r: unknown) => validate({ hosts: ["a"], http: [{ redirect: r }] });
  const direct = (d: unknown) => validate({ hosts: ["a"], http: [{ directResponse: d }] });

  it("checks redirects", () => {
    expectError(redirect({}), "spec.http[0].redirect", "redirect must set at least one of uri, authority, scheme, port or derivePort");
    expectError(redirect({ uri: "/x", redirectCode: 300 }), "spec.http[0].redirect.redirectCode", "redirectCode 300 is not a supported redirect status");
    expectError(redirect({ uri: "/x", redirectCode: 404 }), "spec.http[0].redirect.redirectCode", "301, 302, 303, 307, 308");
    expectError(redirect({ scheme: "ftp" }), "spec.http[0].redirect.scheme", 'invalid redirect scheme "ftp"');
    expectError(redirect({ port: 8443, derivePort: "FROM_PROTOCOL_DEFAULT" }), "spec.http[0].redirect.derivePort", "only one of port or derivePort");
    expectError(redirect({ port: 0 }), "spec.http[0].redirect.port", "port must be between 1-65535, got 0");
  });

  it("checks direct responses", () => {
    expectError(direct({ status: 700 }), "spec.http[0].directResponse.status", "directResponse status 700 is not in range 200-599");
    expectError(direct({}), "spec.http[0].directResponse.status", "Required value");
    expectError(direct({ status: 200, body: { string: "a", bytes: "YQ==" } }), "spec.http[0].directResponse.body", "only one of string or bytes");
    expectError(direct({ status: 200, body: { bytes: "not base64!" } }), "spec.http[0].directResponse.body.bytes", "base64");
    expectError(direct({ status: 200, body: { string: "x".repeat(1024 * 1024 + 1) } }), "spec.http[0].directResponse.body", "less than 1MB");
  });

  it("checks rewrites", () => {
    expectError(http({ rewrite: { uri: "/a", uriRegexRewrite: { match: "^/b", rewrite: "/c" } } }), "spec.http[0].rewrite.uriRegexRewrite", "only one of uri or uriRegexRewrite");
    expectError(http({ rewrite: {} }), "spec.http[0].rewrite", "at least one of uri, uriRegexRewrite or authority");
    expectError(http({ rewrite: { uriRegexRewrite: { match: "^/b" } } }), "spec.http[0].rewrite.uriRegexRewrite.rewrite", "requires both match and rewrite");
    expectError(http({ rewrite: { uriRegexRewrite: { match: "(", rewrite: "/" } } }), "spec.http[0].rewrite.uriRegexRewrite.match", "invalid regex");
  });
});

describe("VirtualService: header manipulation", () => {
  it("refuses pseudo-headers and Host where they cannot be changed", () => {
    expectError(http({ headers: { request: { set: { ":path": "/x" } } } }), "spec.http[0].headers.request.set[:path]", 'invalid header ":path"');
    expectError(http({ headers: { response: { set: { host: "x" } } } }), "spec.http[0].headers.response.set.host", "Host header cannot be modified");
    expectError(http({ headers: { request: { remove: [""] } } }), "spec.http[0].headers.request.remove[0]", "header name must not be empty");
    expectError(
      http({ route: [{ destination: { host: "a" }, headers: { response: { add: { ":status": "200" } } } }] }),
      "spec.http[0].route[0].headers.response.add[:status]",
      'headers with a ":" prefix cannot be modified',
    );
  });

  it("checks header values for Envoy's %VARIABLE% syntax", () => {
    expectError(http({ headers: { request: { set: { "x-a": "abc%123" } } } }), "spec.http[0].headers.request.set[x-a]", "unescaped \"%\"");
    expectError(http({ headers: { request: { set: { "x-a": "a\nb" } } } }), "spec.http[0].headers.request.set[x-a]", "control characters");
  });

  it("sets the authority in one place only", () => {
    expectError(
      http({ rewrite: { authority: "a.example.com" }, headers: { request: { set: { host: "b.example.com" } } } }),
      "spec.http[0].headers.request.set.host",
      "authority cannot be set more than once",
    );
  });
});

describe("VirtualService: mirroring and CORS", () => {
  it("checks mirror settings", () => {
    expectError(http({ mirror: { host: "a" }, mirrors: [{ destination: { host: "b" } }] }), "spec.http[0].mirrors", "only one of mirror or mirrors");
    expectError(http({ mirror: { host: "*" } }), "spec.http[0].mirror.host", 'invalid destination host "*"');
    expectError(http({ mirrors: [{ percentage: { value: 5 } }] }), "spec.http[0].mirrors[0].destination", "Required value");
    expectError(http({ mirrors: [{ destination: { host: "b" }, percentage: { value: 150 } }] }), "spec.http[0].mirrors[0].percentage.value", "percentage must be in range 0..100");
    expectError(http({ mirror: { host: "b" }, mirrorPercentage: { value: -1 } }), "spec.http[0].mirrorPercentage.value", "percentage must be in range 0..100");
    expectError(http({ mirror: { host: "b" }, mirrorPercent: 150 }), "spec.http[0].mirrorPercent", "mirrorPercent must be at most 100, got 150");
    expectError(http({ mirror: { host: "b" }, mirror_percent: 101 }), "spec.http[0].mirror_percent", "mirror_percent must be at most 100");
  });

  it("checks CORS origins, methods, headers and max age", () => {
    const cors = (c: unknown) => http({ corsPolicy: c });
    expectError(cors({ allowOrigins: [{ exact: "" }] }), "spec.http[0].corsPolicy.allowOrigins[0].exact", "allowOrigins exact match must not be empty");
    expectError(cors({ allowOrigins: [{}] }), "spec.http[0].corsPolicy.allowOrigins[0]", "one of exact, prefix or regex must be set");
    expectError(cors({ allowOrigins: [{ regex: "https://(.*" }] }), "spec.http[0].corsPolicy.allowOrigins[0].regex", "invalid regex");
    expectError(cors({ allowMethods: ["FETCH"] }), "spec.http[0].corsPolicy.allowMethods[0]", '"FETCH" is not a supported HTTP method');
    expectError(cors({ allowHeaders: ["bad header"] }), "spec.http[0].corsPolicy.allowHeaders[0]", 'invalid header name "bad header"');
    expectError(cors({ exposeHeaders: [""] }), "spec.http[0].corsPolicy.exposeHeaders[0]", "header name must not be empty");
    expectError(cors({ maxAge: "1500ms" }), "spec.http[0].corsPolicy.maxAge", "whole number of seconds");
  });
});

describe("VirtualService: TLS and TCP routes", () => {
  const tls = (route: unknown, hosts = ["*.example.com"]) => validate({ hosts, tls: [route] });

  it("needs matches with SNI hosts inside the VirtualService hosts", () => {
    expectError(tls({ route: [{ destination: { host: "a" } }] }), "spec.tls[0].match", "TLS route must have at least one match");
    expectError(tls({ match: [{ port: 443 }], route: [{ destination: { host: "a" } }] }), "spec.tls[0].match[0].sniHosts", "at least one SNI host");
    expectError(
      tls({ match: [{ sniHosts: ["api.other.com"] }], route: [{ destination: { host: "a" } }] }),
      "spec.tls[0].match[0].sniHosts[0]",
      'SNI host "api.other.com" is not a subset of any of the VirtualService hosts [*.example.com]',
    );
    expectError(tls({ match: [{ sniHosts: ["*.com"] }], route: [{ destination: { host: "a" } }] }), "spec.tls[0].match[0].sniHosts[0]", "is not a subset");
    expectError(tls({ match: [{ sniHosts: ["bad_sni"] }], route: [{ destination: { host: "a" } }] }), "spec.tls[0].match[0].sniHosts[0]", 'invalid host name "bad_sni"');
  });

  it("accepts generated AUTO_PASSTHROUGH SNI names on gateway-bound VirtualServices", () => {
    const sni = "outbound_.443_._.api.example.com";
    expect(validate({ hosts: [sni], gateways: ["gw"], tls: [{ match: [{ sniHosts: [sni] }], route: [{ destination: { host: "api.example.com" } }] }] })).toEqual([]);
  });

  it("needs destinations", () => {
    expectError(tls({ match: [{ sniHosts: ["a.example.com"] }] }), "spec.tls[0].route", "TLS route must have at least one destination");
    expectError(validate({ hosts: ["db"], tcp: [{ match: [{ port: 5432 }] }] }), "spec.tcp[0].route", "TCP route must have at least one destination");
  });

  it("checks subnets, ports, gateways and namespaces of L4 matches", () => {
    const tcp = (match: unknown) => validate({ hosts: ["db"], tcp: [{ match: [match], route: [{ destination: { host: "db" } }] }] });
    expectError(tcp({ destinationSubnets: ["10.0.0.0/33"] }), "spec.tcp[0].match[0].destinationSubnets[0]", 'invalid CIDR "10.0.0.0/33"');
    expectError(tcp({ sourceSubnet: "not-an-ip" }), "spec.tcp[0].match[0].sourceSubnet", "invalid IP address or CIDR");
    expectError(tcp({ port: 65536 }), "spec.tcp[0].match[0].port", "port must be between 1-65535, got 65536");
    expectError(tcp({ gateways: ["a/b/c"] }), "spec.tcp[0].match[0].gateways[0]", "invalid gateway reference");
    expectError(tcp({ sourceNamespace: "NS" }), "spec.tcp[0].match[0].sourceNamespace", 'invalid sourceNamespace "NS"');
    expectError(tcp({ sourceLabels: { "*": "x" } }), "spec.tcp[0].match[0].sourceLabels[*]", "wildcard not allowed in label key");
  });
});

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/**
 * Corpus documents that Istio's own webhook refuses too: they are inputs for `istioctl analyze`
 * tests, never applied through the webhook.
 */
const REFUSED_BY_ISTIO: Record<string, Array<[string, string]>> = {
  // The file itself says: "We didn't specify http, tcp or tls - this will cause a schema validation error".
  "tests/integration/pilot/testdata/some-dir/missing-gateway.yaml missing-gateway": [["spec", "at least one http, tcp or tls route"]],
  // `route: [{}, {destination: ...}]` ("test destination null"): the destination is required, and two
  // destinations without weights do not sum to 100.
  "pkg/config/analysis/analyzers/testdata/virtualservice_destinationhosts.yaml reviews-bogushost": [
    ["spec.http[0].route[0].destination", "Required value"],
    ["spec.http[0].route[1].weight", "must sum to 100, got 0"],
  ],
};

describe("VirtualService: Istio corpus", () => {
  const docs = corpusObjects("VirtualService", "networking.istio.io");
  const valid = docs.filter((d) => !d.err && !(d.label in REFUSED_BY_ISTIO));

  it("finds the corpus documents", () => {
    expect(docs.length).toBe(82);
    expect(docs.filter((d) => d.err).length).toBe(0); // no VirtualService *-invalid.yaml at this Istio commit
    expect(Object.keys(REFUSED_BY_ISTIO).every((label) => docs.some((d) => d.label === label))).toBe(true);
  });

  it.each(valid.map((d) => [d.label, d] as const))("valid: %s", (_label, doc) => {
    expect(validateVirtualService(doc.spec, { namespace: doc.namespace, name: "x" })).toEqual([]);
  });

  it.each(Object.entries(REFUSED_BY_ISTIO))("refused as Istio does: %s", (label, expected) => {
    const doc = docs.find((d) => d.label === label)!;
    const errors = validateVirtualService(doc.spec, { namespace: doc.namespace, name: "x" });
    expect(errors).toHaveLength(expected.length);
    for (const [field, message] of expected) expectError(errors, field, message);
  });

  it.each(docs.filter((d) => d.err).map((d) => [d.label, d] as const))("invalid: %s", (_label, doc) => {
    const errors = validateVirtualService(doc.spec, { namespace: doc.namespace, name: "x" });
    expect(errors.some((e) => e.field.startsWith("spec"))).toBe(true);
  });
});
