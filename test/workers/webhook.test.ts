// The ValidatingAdmissionWebhook endpoint: AdmissionReview v1 in and out, with the same verdicts and
// messages as the resource API.
import { describe, expect, it } from "vitest";
import { call, json } from "./helpers.js";

function review(object: unknown, operation = "CREATE") {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", kind: { group: "networking.istio.io", version: "v1", kind: "VirtualService" }, operation, namespace: "default", name: "reviews", object },
  };
}

const vs = (weight2: number) => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "reviews" },
  spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: 75 }, { destination: { host: "reviews", subset: "v2" }, weight: weight2 }] }] },
});

describe("admission webhook", () => {
  it("allows a valid object", async () => {
    const res = await json(await call("POST", "/webhooks/validate", { body: review(vs(25)) }));
    expect(res).toEqual({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true } });
  });

  it("denies an invalid object with the API's field and message", async () => {
    const res = await json(await call("POST", "/webhooks/validate", { body: review(vs(15)) }));
    expect(res.response.allowed).toBe(false);
    expect(res.response.status).toMatchObject({ code: 422, reason: "Invalid" });
    const api = await json(await call("POST", "/apis/networking.istio.io/v1/namespaces/default/virtualservices", { body: vs(15) }));
    expect(res.response.status.details.causes.map((c: any) => [c.field, c.message])).toEqual(api.details.causes.map((c: any) => [c.field, c.message]));
    expect(res.response.status.message).toContain("spec.http[0].route[1].weight");
  });

  it("denies unsupported kinds by name and allows deletes", async () => {
    const ef = { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "x" }, spec: {} };
    const denied = await json(await call("POST", "/webhooks/validate", { body: review(ef) }));
    expect(denied.response.allowed).toBe(false);
    expect(denied.response.status.message).toContain("EnvoyFilter is not supported by Weft");
    const del = await json(await call("POST", "/webhooks/validate", { body: review(undefined, "DELETE") }));
    expect(del.response.allowed).toBe(true);
  });

  it("refuses a body that is not an AdmissionReview", async () => {
    const res = await call("POST", "/webhooks/validate", { body: { kind: "Pod" } });
    expect(res.status).toBe(400);
    expect((await json(res)).message).toContain("AdmissionReview");
  });
});
