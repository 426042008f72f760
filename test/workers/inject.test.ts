// The sidecar-injection webhook through the Worker's own fetch: an AdmissionReview v1 for a Pod CREATE
// comes back allowed with a base64 JSON Patch that, applied, adds weft-init and weft-proxy; an opted-out
// pod gets no patch; a bad annotation is refused naming it; a malformed review is a 400.
import { describe, expect, it } from "vitest";
import { call, json } from "./helpers.js";

function review(object: unknown, operation = "CREATE") {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "9f1d2c3b-0000-4000-8000-000000000001", kind: { group: "", version: "v1", kind: "Pod" }, operation, namespace: "shop", object },
  };
}

function pod(annotations: Record<string, string> = {}, labels: Record<string, string> = { app: "web" }) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: "web-5d9f7c6b8-", labels, annotations },
    spec: { serviceAccountName: "web", containers: [{ name: "app", image: "example/web:1", ports: [{ containerPort: 8080 }] }] },
  };
}

/** RFC 6902 `add`, enough for the injector's patches. */
function applyAdds(doc: any, ops: Array<{ op: string; path: string; value: unknown }>): any {
  const root = structuredClone(doc);
  for (const { op, path, value } of ops) {
    expect(op).toBe("add");
    const tokens = path.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
    const key = tokens.pop()!;
    const parent = tokens.reduce((node, t) => node[t], root);
    if (Array.isArray(parent)) parent.splice(key === "-" ? parent.length : Number(key), 0, value);
    else parent[key] = value;
  }
  return root;
}

function decodePatch(base64: string): Array<{ op: string; path: string; value: unknown }> {
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))));
}

describe("injection webhook", () => {
  it("answers a pod CREATE with a base64 JSON Patch adding both containers", async () => {
    const res = await json(await call("POST", "/webhooks/inject", { body: review(pod()) }));
    expect(res.apiVersion).toBe("admission.k8s.io/v1");
    expect(res.kind).toBe("AdmissionReview");
    expect(res.response).toMatchObject({ uid: "9f1d2c3b-0000-4000-8000-000000000001", allowed: true, patchType: "JSONPatch" });
    const injected = applyAdds(pod(), decodePatch(res.response.patch));
    expect(injected.spec.initContainers.map((c: any) => c.name)).toEqual(["weft-init"]);
    expect(injected.spec.containers.map((c: any) => c.name)).toEqual(["app", "weft-proxy"]);
    const proxy = injected.spec.containers[1];
    expect(proxy.image).toBe("ghcr.io/weft/proxy:0.1.0");
    // No WEFT_PUBLIC_URL in the test Worker: the proxies are told the URL the webhook was called at.
    expect(proxy.env.find((e: any) => e.name === "WEFT_CONTROL_PLANE_URL").value).toBe("http://weft.test");
    expect(injected.metadata.annotations["sidecar.istio.io/status"]).toContain("weft-init");
  });

  it("answers an opted-out pod, and an already injected one, allowed with no patch", async () => {
    const optedOut = await json(await call("POST", "/webhooks/inject", { body: review(pod({}, { app: "web", "sidecar.istio.io/inject": "false" })) }));
    expect(optedOut.response).toEqual({ uid: "9f1d2c3b-0000-4000-8000-000000000001", allowed: true });
    const res = await json(await call("POST", "/webhooks/inject", { body: review(pod()) }));
    const injected = applyAdds(pod(), decodePatch(res.response.patch));
    const again = await json(await call("POST", "/webhooks/inject", { body: review(injected) }));
    expect(again.response).toEqual({ uid: "9f1d2c3b-0000-4000-8000-000000000001", allowed: true });
  });

  it("lets updates through untouched", async () => {
    const res = await json(await call("POST", "/webhooks/inject", { body: review(pod(), "UPDATE") }));
    expect(res.response).toEqual({ uid: "9f1d2c3b-0000-4000-8000-000000000001", allowed: true });
  });

  it("refuses a pod with a bad traffic annotation, naming the annotation", async () => {
    const res = await json(await call("POST", "/webhooks/inject", { body: review(pod({ "traffic.sidecar.istio.io/includeOutboundIPRanges": "10.0.0.0/40" })) }));
    expect(res.response.allowed).toBe(false);
    expect(res.response.patch).toBeUndefined();
    expect(res.response.status).toMatchObject({ code: 422, reason: "Invalid" });
    expect(res.response.status.message).toContain("annotation traffic.sidecar.istio.io/includeOutboundIPRanges");
    expect(res.response.status.details.causes[0].field).toBe("metadata.annotations[traffic.sidecar.istio.io/includeOutboundIPRanges]");
  });

  it("refuses a malformed review with 400", async () => {
    const notReview = await call("POST", "/webhooks/inject", { body: { kind: "Pod" } });
    expect(notReview.status).toBe(400);
    expect((await json(notReview)).message).toContain("AdmissionReview");
    const noObject = await call("POST", "/webhooks/inject", { body: review(undefined) });
    expect(noObject.status).toBe(400);
    expect((await json(noObject)).message).toContain("request.object");
  });

  it("needs a token, like the validating webhook", async () => {
    const res = await call("POST", "/webhooks/inject", { body: review(pod()), token: null });
    expect(res.status).toBe(401);
  });
});
