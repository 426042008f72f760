// Bearer tokens: 401 without or with a wrong token, viewer tokens read but cannot write (403),
// tokens are created once and revoked at once, and only an admin manages them.
import { describe, expect, it } from "vitest";
import { apply, call, json } from "./helpers.js";

const LIST = "/apis/networking.istio.io/v1/virtualservices";
const VS = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec: {hosts: [r], http: [{route: [{destination: {host: r}}]}]}\n";

async function viewerToken(): Promise<string> {
  const res = await call("POST", "/v1/tokens", { body: { name: "dash", role: "viewer" } });
  expect(res.status).toBe(201);
  const body = await json(res);
  expect(body.token).toMatch(/^weft_[A-Za-z0-9_-]{43}$/);
  return body.token;
}

describe("authentication", () => {
  it("401 without a token, with a wrong one, and with a malformed header", async () => {
    for (const token of [null, "wrong", ""]) {
      const res = await call("GET", LIST, { token });
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    }
    const res = await call("POST", "/v1/apply", { token: null, text: VS });
    expect(res.status).toBe(401);
    expect((await json(await call("GET", LIST))).items).toEqual([]);
  });

  it("a viewer reads and watches but cannot write (403), and stores nothing", async () => {
    const viewer = await viewerToken();
    expect((await call("GET", LIST, { token: viewer })).status).toBe(200);
    const write = await call("POST", "/v1/apply", { token: viewer, text: VS });
    expect(write.status).toBe(403);
    const status = await json(write);
    expect(status).toMatchObject({ reason: "Forbidden", code: 403 });
    expect(status.message).toContain("viewer");
    const dry = await call("POST", "/v1/apply?dryRun=All", { token: viewer, text: VS });
    expect(dry.status).toBe(200);
    for (const [method, path] of [["POST", "/apis/networking.istio.io/v1/namespaces/default/virtualservices"], ["DELETE", "/apis/networking.istio.io/v1/namespaces/default/virtualservices/r"]] as const) {
      expect((await call(method, path, { token: viewer, text: VS })).status).toBe(403);
    }
    expect((await call("POST", "/v1/tokens", { token: viewer, body: { name: "x", role: "admin" } })).status).toBe(403);
    expect((await json(await call("GET", LIST))).items).toEqual([]);
  });

  it("lists tokens without their secrets and revokes them at once", async () => {
    const viewer = await viewerToken();
    const list = await json(await call("GET", "/v1/tokens"));
    expect(list.items).toEqual([{ name: "dash", role: "viewer", createdAt: expect.any(String) }]);
    expect(JSON.stringify(list)).not.toContain(viewer);
    expect((await call("POST", "/v1/tokens", { body: { name: "dash", role: "viewer" } })).status).toBe(409);
    expect((await call("DELETE", "/v1/tokens/dash")).status).toBe(200);
    expect((await call("GET", LIST, { token: viewer })).status).toBe(401);
  });

  it("refuses a bad token request naming the field", async () => {
    const res = await call("POST", "/v1/tokens", { body: { name: "Bad Name", role: "root" } });
    expect(res.status).toBe(422);
    const fields = (await json(res)).details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "role"]));
    expect((await json(await call("GET", "/v1/tokens"))).items).toEqual([]);
  });

  it("an admin writes", async () => {
    expect((await apply(VS)).status).toBe(200);
  });
});
