// Bulk apply (POST /v1/apply): created / configured / unchanged, dry runs, and atomicity — one bad
// document stores nothing and the answer lists every error with its document index and field.
import { describe, expect, it } from "vitest";
import { apply, call, json } from "./helpers.js";

const GOOD = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v2}, weight: 50}
`;

async function revision(): Promise<number> {
  return Number((await json(await call("GET", "/apis/networking.istio.io/v1/virtualservices"))).metadata.resourceVersion);
}

describe("bulk apply", () => {
  it("creates, then reports unchanged, then configured", async () => {
    const first = await json(await apply(GOOD));
    expect(first).toMatchObject({ apiVersion: "weft.dev/v1", kind: "ApplyResult" });
    expect(first.items.map((i: any) => `${i.kind}/${i.name} ${i.action}`)).toEqual(["DestinationRule/reviews created", "VirtualService/reviews created"]);
    const rev = await revision();
    const again = await json(await apply(GOOD));
    expect(again.items.map((i: any) => i.action)).toEqual(["unchanged", "unchanged"]);
    expect(await revision()).toBe(rev);
    const changed = await json(await apply(GOOD.replace("weight: 50}\n    - {destination: {host: reviews, subset: v2}, weight: 50}", "weight: 10}\n    - {destination: {host: reviews, subset: v2}, weight: 90}")));
    expect(changed.items.map((i: any) => i.action)).toEqual(["unchanged", "configured"]);
    const vs = await json(await call("GET", "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews"));
    expect(vs.spec.http[0].route[1].weight).toBe(90);
    expect(vs.metadata.generation).toBe(2);
  });

  it("puts documents without a namespace in ?namespace=", async () => {
    await apply(GOOD, "?namespace=shop");
    const vs = await call("GET", "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews");
    expect(vs.status).toBe(200);
  });

  it("takes a JSON array and a Kubernetes List", async () => {
    const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "a" }, spec: { host: "a" } };
    const arr = await call("POST", "/v1/apply", { body: [dr, { ...dr, metadata: { name: "b" } }] });
    expect((await json(arr)).items).toHaveLength(2);
    const list = await call("POST", "/v1/apply", { body: { apiVersion: "v1", kind: "List", items: [{ ...dr, metadata: { name: "c" } }] } });
    expect((await json(list)).items[0]).toMatchObject({ name: "c", action: "created" });
  });

  it("one bad document stores nothing and every error is listed with its document index", async () => {
    const bad = `${GOOD}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - route:
    - {destination: {host: ratings, subset: v1}, weight: 75}
    - {destination: {host: ratings, subset: v2}, weight: 15}
    timout: 5s
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: SOMETIMES}
`;
    const before = await revision();
    const res = await apply(bad);
    expect(res.status).toBe(422);
    const status = await json(res);
    expect(status).toMatchObject({ kind: "Status", reason: "Invalid", code: 422 });
    expect(status.message).toContain("nothing was stored");
    const causes = status.details.causes.map((c: any) => `${c.document} ${c.field}`);
    expect(causes).toEqual(expect.arrayContaining(["2 spec.http[0].route[1].weight", "2 spec.http[0].timout", "3 spec.mtls.mode"]));
    expect(status.details.causes[0].object).toBe("virtualservice.networking.istio.io/ratings");
    expect(await revision()).toBe(before);
    for (const plural of ["virtualservices", "destinationrules"]) {
      expect((await json(await call("GET", `/apis/networking.istio.io/v1/${plural}`))).items).toEqual([]);
    }
  });

  it("refuses the same object twice in one apply", async () => {
    const res = await apply(`${GOOD}---\n${GOOD.split("---")[1]}`);
    expect(res.status).toBe(422);
    expect((await json(res)).details.causes[0]).toMatchObject({ document: 2, field: "metadata.name", message: expect.stringContaining("duplicates document 1") });
  });

  it("dry run validates and reports without storing", async () => {
    const res = await json(await apply(GOOD, "?dryRun=All"));
    expect(res.dryRun).toBe(true);
    expect(res.items.map((i: any) => i.action)).toEqual(["created", "created"]);
    expect((await json(await call("GET", "/apis/networking.istio.io/v1/virtualservices"))).items).toEqual([]);
  });

  it("refuses an empty body and a bad dryRun value", async () => {
    expect((await apply("# nothing here\n")).status).toBe(400);
    expect((await apply(GOOD, "?dryRun=yes")).status).toBe(400);
  });
});
