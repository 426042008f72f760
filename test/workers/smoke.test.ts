import { describe, expect, it } from "vitest";
import { call, json } from "./helpers.js";

describe("smoke", () => {
  it("healthz without auth", async () => {
    const res = await call("GET", "/healthz", { token: null });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok" });
  });
  it("create and get", async () => {
    const vs = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews" }, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }] }] } };
    const res = await call("POST", "/apis/networking.istio.io/v1/namespaces/default/virtualservices", { body: vs });
    expect(res.status).toBe(201);
    const got = await json(await call("GET", "/apis/networking.istio.io/v1beta1/namespaces/default/virtualservices/reviews"));
    expect(got.apiVersion).toBe("networking.istio.io/v1beta1");
    expect(got.spec).toEqual(vs.spec);
  });
});
