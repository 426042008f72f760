// The Kubernetes-shaped resource routes: create, get, list, replace, merge patch, delete, versions,
// metadata and the named errors, through the Worker's own fetch with real D1.
import { describe, expect, it } from "vitest";
import { call, json } from "./helpers.js";

const BASE = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";

function reviews(overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "reviews", labels: { app: "reviews" } },
    spec: {
      hosts: ["reviews"],
      http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight: 75 }, { destination: { host: "reviews", subset: "v2" }, weight: 25 }] }],
    },
    ...overrides,
  };
}

describe("create and get", () => {
  it("creates with Kubernetes metadata and reads back the same spec", async () => {
    const res = await call("POST", BASE, { body: reviews() });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created.metadata).toMatchObject({ name: "reviews", namespace: "default", generation: 1, labels: { app: "reviews" } });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(Date.parse(created.metadata.creationTimestamp)).not.toBeNaN();
    const got = await json(await call("GET", `${BASE}/reviews`));
    expect(got).toEqual(created);
    expect(got.spec).toEqual(reviews().spec);
  });

  it("takes YAML bodies", async () => {
    const yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings}\n";
    const res = await call("POST", BASE, { text: yaml, contentType: "application/yaml" });
    expect(res.status).toBe(201);
    expect((await json(res)).spec.hosts).toEqual(["ratings"]);
  });

  it("refuses a second create with 409 AlreadyExists", async () => {
    await call("POST", BASE, { body: reviews() });
    const res = await call("POST", BASE, { body: reviews() });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "AlreadyExists", code: 409 });
  });

  it("answers 404 NotFound as a Status", async () => {
    const res = await call("GET", `${BASE}/nope`);
    expect(res.status).toBe(404);
    const body = await json(res);
    expect(body).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    expect(body.message).toContain('virtualservices.networking.istio.io "nope" not found');
    expect((await call("GET", "/apis/networking.istio.io/v1/namespaces/default/envoyfilters")).status).toBe(404);
    expect((await call("GET", "/apis/networking.istio.io/v2/namespaces/default/virtualservices")).status).toBe(404);
  });

  it("stores once and serves every version Istio serves", async () => {
    await call("POST", "/apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices", { body: { ...reviews(), apiVersion: "networking.istio.io/v1alpha3" } });
    for (const v of ["v1", "v1beta1", "v1alpha3"]) {
      const got = await json(await call("GET", `/apis/networking.istio.io/${v}/namespaces/default/virtualservices/reviews`));
      expect(got.apiVersion).toBe(`networking.istio.io/${v}`);
      expect(got.spec).toEqual(reviews().spec);
    }
    const pa = { apiVersion: "security.istio.io/v1beta1", kind: "PeerAuthentication", metadata: { name: "default" }, spec: { mtls: { mode: "STRICT" } } };
    expect((await call("POST", "/apis/security.istio.io/v1beta1/namespaces/istio-system/peerauthentications", { body: pa })).status).toBe(201);
    const got = await json(await call("GET", "/apis/security.istio.io/v1/namespaces/istio-system/peerauthentications/default"));
    expect(got.apiVersion).toBe("security.istio.io/v1");
  });

  it("refuses a body whose namespace or kind differs from the URL", async () => {
    const res = await call("POST", BASE, { body: reviews({ metadata: { name: "reviews", namespace: "other" } }) });
    expect(res.status).toBe(400);
    expect((await json(res)).message).toContain("does not match the namespace");
    const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "x" }, spec: { host: "x" } };
    const res2 = await call("POST", BASE, { body: dr });
    expect(res2.status).toBe(400);
    expect((await json(await call("GET", "/apis/networking.istio.io/v1/destinationrules"))).items).toEqual([]);
  });
});

describe("list", () => {
  it("lists a namespace, all namespaces, and filters by labelSelector", async () => {
    await call("POST", BASE, { body: reviews() });
    await call("POST", BASE, { body: reviews({ metadata: { name: "ratings", labels: { app: "ratings", tier: "backend" } } }) });
    await call("POST", "/apis/networking.istio.io/v1/namespaces/shop/virtualservices", { body: reviews({ metadata: { name: "cart", namespace: "shop" } }) });
    const ns = await json(await call("GET", BASE));
    expect(ns.kind).toBe("VirtualServiceList");
    expect(ns.apiVersion).toBe("networking.istio.io/v1");
    expect(ns.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(ns.items.map((i: any) => i.metadata.name)).toEqual(["ratings", "reviews"]);
    const all = await json(await call("GET", "/apis/networking.istio.io/v1/virtualservices"));
    expect(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(["default/ratings", "default/reviews", "shop/cart"]);
    const selected = async (sel: string) =>
      (await json(await call("GET", `${BASE}?labelSelector=${encodeURIComponent(sel)}`))).items.map((i: any) => i.metadata.name);
    expect(await selected("app=reviews")).toEqual(["reviews"]);
    expect(await selected("app!=reviews")).toEqual(["ratings"]);
    expect(await selected("tier")).toEqual(["ratings"]);
    expect(await selected("!tier")).toEqual(["reviews"]);
    expect(await selected("app in (reviews,ratings),tier notin (frontend)")).toEqual(["ratings", "reviews"]);
    const bad = await call("GET", `${BASE}?labelSelector=${encodeURIComponent("app=(")}`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toContain("labelSelector");
  });
});

describe("replace (PUT)", () => {
  it("bumps resourceVersion, and generation only when the spec changes", async () => {
    const created = await json(await call("POST", BASE, { body: reviews() }));
    const relabeled = await json(await call("PUT", `${BASE}/reviews`, { body: { ...reviews(), metadata: { ...created.metadata, labels: { app: "reviews", team: "a" } } } }));
    expect(Number(relabeled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(relabeled.metadata.generation).toBe(1);
    expect(relabeled.metadata.uid).toBe(created.metadata.uid);
    expect(relabeled.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    const spec = { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v3" } }] }] };
    const changed = await json(await call("PUT", `${BASE}/reviews`, { body: { ...reviews(), metadata: relabeled.metadata, spec } }));
    expect(changed.metadata.generation).toBe(2);
    expect(changed.spec).toEqual(spec);
  });

  it("refuses a stale resourceVersion with 409 Conflict and keeps the object", async () => {
    const created = await json(await call("POST", BASE, { body: reviews() }));
    await call("PUT", `${BASE}/reviews`, { body: { ...reviews(), metadata: { ...created.metadata, labels: { v: "2" } } } });
    const stale = await call("PUT", `${BASE}/reviews`, { body: { ...reviews(), metadata: { ...created.metadata, labels: { v: "stale" } } } });
    expect(stale.status).toBe(409);
    expect(await json(stale)).toMatchObject({ reason: "Conflict", code: 409 });
    const got = await json(await call("GET", `${BASE}/reviews`));
    expect(got.metadata.labels).toEqual({ v: "2" });
  });

  it("answers 404 for an object that does not exist", async () => {
    const res = await call("PUT", `${BASE}/reviews`, { body: reviews() });
    expect(res.status).toBe(404);
  });

  it("refuses an invalid replacement with 422 and leaves the stored object alone", async () => {
    await call("POST", BASE, { body: reviews() });
    const bad = reviews();
    (bad.spec.http[0]!.route[1] as { weight: number }).weight = 15;
    const res = await call("PUT", `${BASE}/reviews`, { body: bad });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.reason).toBe("Invalid");
    expect(body.details.causes).toContainEqual(expect.objectContaining({ field: "spec.http[0].route[1].weight", message: expect.stringContaining("must sum to 100, got 90") }));
    expect((await json(await call("GET", `${BASE}/reviews`))).spec).toEqual(reviews().spec);
  });
});

describe("merge patch", () => {
  it("patches labels and spec fields with application/merge-patch+json", async () => {
    await call("POST", BASE, { body: reviews() });
    const res = await call("PATCH", `${BASE}/reviews`, {
      body: { metadata: { labels: { app: null, team: "b" } }, spec: { gateways: ["mesh"] } },
      contentType: "application/merge-patch+json",
    });
    expect(res.status).toBe(200);
    const patched = await json(res);
    expect(patched.metadata.labels).toEqual({ team: "b" });
    expect(patched.spec.gateways).toEqual(["mesh"]);
    expect(patched.spec.hosts).toEqual(["reviews"]);
    expect(patched.metadata.generation).toBe(2);
  });

  it("refuses other patch types with 415 and an invalid result with 422", async () => {
    await call("POST", BASE, { body: reviews() });
    const jsonPatch = await call("PATCH", `${BASE}/reviews`, { body: [{ op: "remove", path: "/spec" }], contentType: "application/json-patch+json" });
    expect(jsonPatch.status).toBe(415);
    expect(await json(jsonPatch)).toMatchObject({ reason: "UnsupportedMediaType", code: 415 });
    const bad = await call("PATCH", `${BASE}/reviews`, { body: { spec: { timout: "1s" } }, contentType: "application/merge-patch+json" });
    expect(bad.status).toBe(422);
    expect((await json(bad)).details.causes).toContainEqual(expect.objectContaining({ field: "spec.timout" }));
    expect((await json(await call("GET", `${BASE}/reviews`))).metadata.generation).toBe(1);
  });

  it("honours a resourceVersion in the patch", async () => {
    const created = await json(await call("POST", BASE, { body: reviews() }));
    await call("PATCH", `${BASE}/reviews`, { body: { metadata: { labels: { x: "1" } } }, contentType: "application/merge-patch+json" });
    const stale = await call("PATCH", `${BASE}/reviews`, {
      body: { metadata: { resourceVersion: created.metadata.resourceVersion, labels: { x: "2" } } },
      contentType: "application/merge-patch+json",
    });
    expect(stale.status).toBe(409);
  });
});

describe("delete", () => {
  it("deletes, then answers 404", async () => {
    await call("POST", BASE, { body: reviews() });
    const res = await call("DELETE", `${BASE}/reviews`);
    expect(res.status).toBe(200);
    expect((await json(res)).metadata.name).toBe("reviews");
    expect((await call("GET", `${BASE}/reviews`)).status).toBe(404);
    expect((await call("DELETE", `${BASE}/reviews`)).status).toBe(404);
  });
});

describe("bad input gets a named error and changes nothing", () => {
  async function expectNothingStored() {
    expect((await json(await call("GET", "/apis/networking.istio.io/v1/virtualservices"))).items).toEqual([]);
  }

  it("malformed YAML and JSON → 400 BadRequest", async () => {
    const yaml = await call("POST", BASE, { text: "apiVersion: networking.istio.io/v1\nkind: [VirtualService\n", contentType: "application/yaml" });
    expect(yaml.status).toBe(400);
    const body = await json(yaml);
    expect(body).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
    expect(body.message).toMatch(/malformed YAML in document 0 at line \d+/);
    const js = await call("POST", BASE, { text: "{\"apiVersion\": ", contentType: "application/json" });
    expect(js.status).toBe(400);
    expect((await json(js)).message).toContain("malformed JSON");
    await expectNothingStored();
  });

  it("an unknown field is an error naming it (no silent drop)", async () => {
    const body = reviews();
    (body.spec.http[0] as Record<string, unknown>).timout = "5s";
    const res = await call("POST", BASE, { body });
    expect(res.status).toBe(422);
    const status = await json(res);
    expect(status.details.causes).toContainEqual(expect.objectContaining({ field: "spec.http[0].timout", message: expect.stringContaining("unknown field") }));
    expect(status.message).toContain('VirtualService.networking.istio.io "reviews" is invalid');
    await expectNothingStored();
  });

  it("a bad name, a missing spec and unknown top-level fields are each named", async () => {
    const res = await call("POST", BASE, { body: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "Bad_Name" }, extra: 1 } });
    const fields = (await json(res)).details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(["metadata.name", "spec", "extra"]));
    await expectNothingStored();
  });

  it("unsupported kinds are refused by name", async () => {
    const ef = { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "x" }, spec: {} };
    const res = await call("POST", "/v1/apply", { body: ef });
    expect(res.status).toBe(422);
    expect((await json(res)).details.causes[0]).toMatchObject({ field: "kind", message: expect.stringContaining("EnvoyFilter is not supported by Weft") });
  });

  it("a body over 1 MiB → 413 RequestEntityTooLarge", async () => {
    const big = reviews({ metadata: { name: "big", annotations: { note: "x".repeat(1024 * 1024 + 10) } } });
    const res = await call("POST", BASE, { body: big });
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ kind: "Status", reason: "RequestEntityTooLarge", code: 413 });
    await expectNothingStored();
  });

  it("an unsupported media type → 415", async () => {
    const res = await call("POST", BASE, { text: "name=reviews", contentType: "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
    expect((await json(res)).message).toContain("application/yaml");
    await expectNothingStored();
  });
});
