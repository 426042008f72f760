// Route selection inside a virtual host: the first route whose matches hold, with every RouteMatch kind.
import { describe, expect, it } from "vitest";
import type { RouteMatch } from "../../../edge-proxy/core/config/proxy-config.js";
import { routeRequest, type RoutableRequest } from "../../../edge-proxy/core/routing/match-request.js";
import { createRouteTable } from "../../../edge-proxy/core/routing/route-table.js";
import { RouteTableError } from "../../../edge-proxy/core/routing/routing-error.js";
import { listener, proxyConfig, request, route, to, virtualHost } from "./build-config.js";

/** A table whose reviews host has one route with `matches`, and a request router returning whether it matched. */
function matcher(matches: RouteMatch[], proxy: Parameters<typeof proxyConfig>[1] = {}) {
  const table = createRouteTable(proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [route("only", matches, to("v1"))]))], proxy));
  return (overrides: Partial<RoutableRequest>) => routeRequest(table, request(overrides))?.route.name === "only";
}

describe("route order", () => {
  const table = createRouteTable(
    proxyConfig([
      listener(
        9080,
        virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [
          route("canary", [{ headers: { "x-canary": { exact: "1" } } }], to("v3")),
          route("api", [{ uri: { prefix: "/api" } }, { uri: { exact: "/legacy" } }], to("v2")),
          route("api-shadowed", [{ uri: { prefix: "/api/v1" } }], to("v9")),
          route("default", [], to("v1")),
        ]),
      ),
    ]),
  );
  it("returns the first route whose matches hold, even when a later one is more specific", () => {
    const decision = routeRequest(table, request({ path: "/api/v1/items" }));
    expect(decision?.route.name).toBe("api");
    expect(decision?.routeIndex).toBe(1);
    expect(decision?.matchIndex).toBe(0);
    expect(decision?.virtualHost.name).toBe("default/reviews");
    expect(decision?.listenerPort).toBe(9080);
  });
  it("holds when any one of a route's matches holds and says which", () => {
    const decision = routeRequest(table, request({ path: "/legacy" }));
    expect(decision?.route.name).toBe("api");
    expect(decision?.matchIndex).toBe(1);
  });
  it("puts an earlier header route ahead of a path route", () => {
    expect(routeRequest(table, request({ path: "/api", headers: { "x-canary": "1" } }))?.route.name).toBe("canary");
  });
  it("treats a route without matches as matching every request", () => {
    const decision = routeRequest(table, request({ path: "/other" }));
    expect(decision?.route.name).toBe("default");
    expect(decision?.matchIndex).toBe(-1);
  });
  it("returns undefined when no route matches", () => {
    const noDefault = createRouteTable(proxyConfig([listener(9080, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [route("api", [{ uri: { prefix: "/api" } }], to("v2"))]))]));
    expect(routeRequest(noDefault, request({ path: "/web" }))).toBeUndefined();
  });
  it("gives the same decision object for the same route and match (nothing allocated per decision)", () => {
    expect(routeRequest(table, request({ path: "/api/a" }))).toBe(routeRequest(table, request({ path: "/api/b" })));
  });
});

describe("uri", () => {
  it("matches exact on the path without its query", () => {
    const matches = matcher([{ uri: { exact: "/reviews" } }]);
    expect(matches({ path: "/reviews" })).toBe(true);
    expect(matches({ path: "/reviews?id=1" })).toBe(true);
    expect(matches({ path: "/reviews/1" })).toBe(false);
    expect(matches({ path: "/Reviews" })).toBe(false);
  });
  it("matches a plain string prefix", () => {
    const matches = matcher([{ uri: { prefix: "/api" } }]);
    expect(matches({ path: "/api" })).toBe(true);
    expect(matches({ path: "/apis/x" })).toBe(true);
    expect(matches({ path: "/ap?i" })).toBe(false);
    expect(matches({ path: "/v1/api" })).toBe(false);
  });
  it("anchors a regex to the whole path", () => {
    const matches = matcher([{ uri: { regex: "/users/[0-9]+" } }]);
    expect(matches({ path: "/users/42" })).toBe(true);
    expect(matches({ path: "/users/42?x=1" })).toBe(true);
    expect(matches({ path: "/users/42/posts" })).toBe(false);
    expect(matches({ path: "/v1/users/42" })).toBe(false);
  });
  it("anchors every alternative of a regex", () => {
    const matches = matcher([{ uri: { regex: "/a|/b" } }]);
    expect(matches({ path: "/a" })).toBe(true);
    expect(matches({ path: "/b" })).toBe(true);
    expect(matches({ path: "/ab" })).toBe(false);
    expect(matches({ path: "/x/b" })).toBe(false);
  });
  it("ignores case for exact and prefix with ignoreUriCase", () => {
    const exact = matcher([{ uri: { exact: "/Reviews" }, ignoreUriCase: true }]);
    expect(exact({ path: "/REVIEWS" })).toBe(true);
    expect(exact({ path: "/reviews?Q=1" })).toBe(true);
    const prefix = matcher([{ uri: { prefix: "/API/" }, ignoreUriCase: true }]);
    expect(prefix({ path: "/api/x" })).toBe(true);
    expect(prefix({ path: "/Api/Y" })).toBe(true);
    expect(prefix({ path: "/ap/" })).toBe(false);
  });
  it("does not fold case for a regex, as Istio documents", () => {
    const matches = matcher([{ uri: { regex: "/users" }, ignoreUriCase: true }]);
    expect(matches({ path: "/users" })).toBe(true);
    expect(matches({ path: "/USERS" })).toBe(false);
  });
});

describe("scheme, method, authority, port", () => {
  it("matches the scheme", () => {
    const matches = matcher([{ scheme: { exact: "https" } }]);
    expect(matches({ scheme: "https" })).toBe(true);
    expect(matches({ scheme: "http" })).toBe(false);
  });
  it("matches the method", () => {
    const matches = matcher([{ method: { regex: "GET|HEAD" } }]);
    expect(matches({ method: "GET" })).toBe(true);
    expect(matches({ method: "HEAD" })).toBe(true);
    expect(matches({ method: "POST" })).toBe(false);
  });
  it("matches the authority as sent", () => {
    const matches = matcher([{ authority: { prefix: "reviews" } }]);
    expect(matches({ authority: "reviews:9080" })).toBe(true);
    expect(matches({ authority: "reviews.default.svc.cluster.local" })).toBe(true);
    const exact = matcher([{ authority: { exact: "reviews" } }]);
    expect(exact({ authority: "reviews" })).toBe(true);
    expect(exact({ authority: "reviews:9080" })).toBe(false);
  });
  it("matches the destination port", () => {
    const table = createRouteTable(
      proxyConfig([listener(0, virtualHost("default/reviews", ["reviews.default.svc.cluster.local"], [route("port-9080", [{ port: 9080 }], to("v2")), route("rest", [], to("v1"))]))]),
    );
    expect(routeRequest(table, request({ port: 9080 }))?.route.name).toBe("port-9080");
    expect(routeRequest(table, request({ port: 8080 }))?.route.name).toBe("rest");
  });
});

describe("headers", () => {
  it("matches exact, prefix and regex header values", () => {
    expect(matcher([{ headers: { "end-user": { exact: "jason" } } }])({ headers: { "end-user": "jason" } })).toBe(true);
    expect(matcher([{ headers: { "end-user": { exact: "jason" } } }])({ headers: { "end-user": "json" } })).toBe(false);
    expect(matcher([{ headers: { "user-agent": { prefix: "curl/" } } }])({ headers: { "user-agent": "curl/8.4" } })).toBe(true);
    expect(matcher([{ headers: { "x-version": { regex: "v[12]" } } }])({ headers: { "x-version": "v2" } })).toBe(true);
    expect(matcher([{ headers: { "x-version": { regex: "v[12]" } } }])({ headers: { "x-version": "v22" } })).toBe(false);
  });
  it("requires the header for {} (present) and for any value match", () => {
    const present = matcher([{ headers: { "x-debug": {} } }]);
    expect(present({ headers: { "x-debug": "" } })).toBe(true);
    expect(present({ headers: { "x-debug": "anything" } })).toBe(true);
    expect(present({ headers: {} })).toBe(false);
    expect(matcher([{ headers: { "x-debug": { prefix: "" } } }])({ headers: {} })).toBe(false);
  });
  it("reads header names case-insensitively from records and Headers", () => {
    const matches = matcher([{ headers: { "end-user": { exact: "jason" } } }]);
    expect(matches({ headers: { "End-User": "jason" } })).toBe(true);
    expect(matches({ headers: new Headers({ "End-User": "jason" }) })).toBe(true);
    expect(matches({ headers: new Headers({ "End-User": "bob" }) })).toBe(false);
  });
  it("requires every header of one match", () => {
    const matches = matcher([{ headers: { a: { exact: "1" }, b: { exact: "2" } } }]);
    expect(matches({ headers: { a: "1", b: "2" } })).toBe(true);
    expect(matches({ headers: { a: "1" } })).toBe(false);
  });
  it("withoutHeaders: {} means the header must be absent", () => {
    const matches = matcher([{ withoutHeaders: { "x-internal": {} } }]);
    expect(matches({ headers: {} })).toBe(true);
    expect(matches({ headers: { "x-internal": "" } })).toBe(false);
    expect(matches({ headers: new Headers({ "X-Internal": "1" }) })).toBe(false);
  });
  it("withoutHeaders: a value match must not hold (an absent header does not hold it)", () => {
    const matches = matcher([{ withoutHeaders: { "end-user": { exact: "jason" } } }]);
    expect(matches({ headers: { "end-user": "jason" } })).toBe(false);
    expect(matches({ headers: { "end-user": "bob" } })).toBe(true);
    expect(matches({ headers: {} })).toBe(true);
  });
});

describe("queryParams", () => {
  it("matches exact, prefix and regex values of the first occurrence", () => {
    expect(matcher([{ queryParams: { v: { exact: "2" } } }])({ path: "/p?a=1&v=2" })).toBe(true);
    expect(matcher([{ queryParams: { v: { exact: "2" } } }])({ path: "/p?v=3&v=2" })).toBe(false);
    expect(matcher([{ queryParams: { v: { prefix: "be" } } }])({ path: "/p?v=beta" })).toBe(true);
    expect(matcher([{ queryParams: { id: { regex: "[0-9]+" } } }])({ path: "/p?id=12" })).toBe(true);
    expect(matcher([{ queryParams: { id: { regex: "[0-9]+" } } }])({ path: "/p?id=12a" })).toBe(false);
  });
  it("treats {} as present and ?flag as the empty value", () => {
    const present = matcher([{ queryParams: { debug: {} } }]);
    expect(present({ path: "/p?debug" })).toBe(true);
    expect(present({ path: "/p?debug=0" })).toBe(true);
    expect(present({ path: "/p?nodebug=1" })).toBe(false);
    expect(present({ path: "/p" })).toBe(false);
    expect(matcher([{ queryParams: { debug: { exact: "" } } }])({ path: "/p?x=1&debug" })).toBe(true);
  });
  it("does not read the path as a query", () => {
    expect(matcher([{ queryParams: { v: {} } }])({ path: "/v=1" })).toBe(false);
  });
});

describe("source and gateways", () => {
  it("sourceLabels must be a subset of the caller's labels", () => {
    const matches = matcher([{ sourceLabels: { app: "productpage" } }]);
    expect(matches({ source: { labels: { app: "productpage", version: "v1" }, namespace: "default" } })).toBe(true);
    expect(matches({ source: { labels: { app: "details" }, namespace: "default" } })).toBe(false);
    expect(matches({ source: { labels: {}, namespace: "default" } })).toBe(false);
    const two = matcher([{ sourceLabels: { app: "productpage", version: "v2" } }]);
    expect(two({ source: { labels: { app: "productpage", version: "v1" }, namespace: "default" } })).toBe(false);
    expect(two({ source: { labels: { app: "productpage", version: "v2", extra: "x" }, namespace: "default" } })).toBe(true);
  });
  it("sourceNamespace must equal the caller's namespace", () => {
    const matches = matcher([{ sourceNamespace: "frontend" }]);
    expect(matches({ source: { labels: {}, namespace: "frontend" } })).toBe(true);
    expect(matches({ source: { labels: {}, namespace: "default" } })).toBe(false);
  });
  it("gateways must include the request's gateway", () => {
    const matches = matcher([{ gateways: ["istio-system/ingress"] }]);
    expect(matches({ gateway: "istio-system/ingress" })).toBe(true);
    expect(matches({ gateway: "mesh" })).toBe(false);
  });
  it("treats an empty gateways list as no restriction", () => {
    expect(matcher([{ gateways: [] }])({ gateway: "istio-system/ingress" })).toBe(true);
  });
  it("takes a sidecar's requests as coming through mesh", () => {
    const matches = matcher([{ gateways: ["mesh"] }]);
    expect(matches({})).toBe(true);
  });
  it("takes a gateway proxy's requests as coming through its only gateway", () => {
    const single = matcher([{ gateways: ["istio-system/ingress"] }], { kind: "gateway", gateways: ["istio-system/ingress"] });
    expect(single({})).toBe(true);
    const several = matcher([{ gateways: ["istio-system/ingress"] }], { kind: "gateway", gateways: ["istio-system/ingress", "istio-system/other"] });
    expect(several({})).toBe(false);
    expect(several({ gateway: "istio-system/ingress" })).toBe(true);
  });
  it("requires every field of one match", () => {
    const matches = matcher([{ uri: { prefix: "/api" }, method: { exact: "POST" }, headers: { "x-v": { exact: "2" } }, sourceNamespace: "default", port: 9080 }]);
    expect(matches({ path: "/api/x", method: "POST", headers: { "x-v": "2" } })).toBe(true);
    expect(matches({ path: "/api/x", method: "GET", headers: { "x-v": "2" } })).toBe(false);
    expect(matches({ path: "/web", method: "POST", headers: { "x-v": "2" } })).toBe(false);
    expect(matches({ path: "/api/x", method: "POST", headers: {} })).toBe(false);
  });
});

describe("config errors", () => {
  it("refuses a regex that does not compile, naming the route and field", () => {
    const build = () => matcher([{ uri: { regex: "/users/(" } }]);
    expect(build).toThrow(RouteTableError);
    expect(build).toThrow(/default\/reviews route\[0\] \(only\)\.match\[0\]\.uri/);
  });
  it("refuses a StringMatch with two kinds", () => {
    expect(() => matcher([{ uri: { exact: "/a", prefix: "/b" } as never }])).toThrow(/exactly one of exact, prefix or regex/);
  });
  it("refuses a route with no destinations or a negative weight", () => {
    const build = (weight: number, none = false) =>
      createRouteTable(proxyConfig([listener(80, virtualHost("default/r", ["r.default.svc.cluster.local"], [route("bad", [], { kind: "route", destinations: none ? [] : [{ cluster: "c", weight }] })]))]));
    expect(() => build(100, true)).toThrow(/at least one destination/);
    expect(() => build(-1)).toThrow(/weight must be a finite number/);
    expect(build(100).listeners.get(80)).toBeDefined();
  });
});
