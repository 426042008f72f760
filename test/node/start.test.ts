// `npm start`'s script brings up the control plane in workerd with every migration applied and an
// admin token that works, while requests without it are refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type RunningControlPlane } from "./support/control-plane.js";

let cp: RunningControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

describe("local control plane", () => {
  it("serves /healthz without auth and refuses the API without a token", async () => {
    expect((await fetch(`${cp.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${cp.url}/apis/networking.istio.io/v1/virtualservices`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe("Unauthorized");
  });

  it("has the migrated schema: a write and a read go through D1", async () => {
    const headers = { authorization: `Bearer ${cp.adminToken}`, "content-type": "application/yaml" };
    const yaml = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings}\nspec: {host: ratings}\n";
    const applied = await fetch(`${cp.url}/v1/apply`, { method: "POST", headers, body: yaml });
    expect(applied.status).toBe(200);
    expect(((await applied.json()) as { items: { action: string }[] }).items[0]!.action).toBe("created");
    const list = await fetch(`${cp.url}/apis/networking.istio.io/v1/namespaces/default/destinationrules`, { headers });
    expect(((await list.json()) as { items: { metadata: { name: string } }[] }).items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(["ratings"]);
  });
});
