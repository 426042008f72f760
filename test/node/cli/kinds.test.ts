// KIND arguments resolve through the control plane's kind table, the way kubectl resolves them, and
// an unknown one gets kubectl's error before any request is made.
import { describe, expect, it } from "vitest";
import { UnknownResourceType } from "../../../cli/errors.js";
import { resolveKind } from "../../../cli/resolve-kind.js";
import { describeDocument, resourcePath } from "../../../cli/resource-ref.js";
import { runCli } from "./run-cli.js";

describe("KIND aliases", () => {
  it.each(["vs", "virtualservice", "virtualservices", "VirtualService", "VirtualServices", "virtualservice.networking.istio.io", "vs.networking.istio.io"])(
    "%s is the VirtualService kind",
    (alias) => {
      const kind = resolveKind(alias);
      expect(kind.kind).toBe("VirtualService");
      expect([kind.group, kind.plural]).toEqual(["networking.istio.io", "virtualservices"]);
    },
  );

  it.each([
    ["dr", "DestinationRule"],
    ["gw", "Gateway"],
    ["se", "ServiceEntry"],
    ["pa", "PeerAuthentication"],
    ["authorizationpolicy", "AuthorizationPolicy"],
    ["telemetry", "Telemetry"],
    ["requestauthentications.security.istio.io", "RequestAuthentication"],
  ])("%s is %s", (alias, kind) => {
    expect(resolveKind(alias).kind).toBe(kind);
  });

  it("refuses unknown kinds and kinds of the wrong group", () => {
    expect(() => resolveKind("foo")).toThrow(UnknownResourceType);
    expect(() => resolveKind("virtualservice.security.istio.io")).toThrow('the server doesn\'t have a resource type "virtualservice.security.istio.io"');
  });

  it("prints kubectl's error for an unknown kind and exits 1 without contacting a server", async () => {
    const run = await runCli(["get", "foo", "--server", "http://127.0.0.1:1", "--token", "t"]);
    expect(run).toEqual({ code: 1, stdout: "", stderr: 'error: the server doesn\'t have a resource type "foo"\n' });
    const del = await runCli(["delete", "foo", "x", "--token", "t"]);
    expect(del).toMatchObject({ code: 1, stderr: 'error: the server doesn\'t have a resource type "foo"\n' });
  });
});

describe("resource URLs and names", () => {
  it("uses the preferred version and the namespace, or all namespaces", () => {
    const vs = resolveKind("vs");
    expect(resourcePath(vs, "default")).toBe("/apis/networking.istio.io/v1/namespaces/default/virtualservices");
    expect(resourcePath(vs, "bookinfo", "reviews")).toBe("/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices/reviews");
    expect(resourcePath(resolveKind("telemetry"), undefined)).toBe("/apis/telemetry.istio.io/v1/telemetries");
  });

  it("names documents for messages", () => {
    expect(describeDocument({ apiVersion: "security.istio.io/v1beta1", kind: "PeerAuthentication", metadata: { name: "default" } })).toBe(
      "peerauthentication.security.istio.io/default",
    );
    expect(describeDocument({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } })).toBe("deployment.apps/web");
    expect(describeDocument({ apiVersion: "v1", kind: "Service", metadata: {} })).toBe("service/<unnamed>");
    expect(describeDocument("just text")).toBe("<not an object>");
  });
});
