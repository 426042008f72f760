// Watch: newline-delimited events after a resourceVersion, so a client that reconnects with the last
// revision it saw misses nothing, even for changes made while it was away.
import { describe, expect, it } from "vitest";
import { apply, call, json, readEvents } from "./helpers.js";

const LIST = "/apis/networking.istio.io/v1/namespaces/default/destinationrules";
const dr = (name: string, host = name) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}}\nspec: {host: ${host}}\n`;

describe("watch", () => {
  it("streams ADDED, MODIFIED and DELETED after a resourceVersion, and resumes without a gap", async () => {
    await apply(dr("seed"));
    const start = (await json(await call("GET", LIST))).metadata.resourceVersion;
    expect(start).not.toBe("0"); // "0" means "from the current state", as in Kubernetes
    await apply(dr("a"));
    await apply(dr("b"));
    await apply(dr("a", "a.example.com"));

    const first = await readEvents(await call("GET", `${LIST}?watch=true&resourceVersion=${start}&timeoutSeconds=5`), 3);
    expect(first.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED a", "ADDED b", "MODIFIED a"]);
    expect(first[2]!.object.spec.host).toBe("a.example.com");
    const last = first[2]!.object.metadata.resourceVersion;

    // While no one watches: a delete, a change in another namespace, and a new object.
    await call("DELETE", `${LIST}/b`);
    await apply(dr("other"), "?namespace=elsewhere");
    await apply(dr("c"));

    const resumed = await readEvents(await call("GET", `${LIST}?watch=true&resourceVersion=${last}&timeoutSeconds=5`), 2);
    expect(resumed.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["DELETED b", "ADDED c"]);
    expect(Number(resumed[0]!.object.metadata.resourceVersion)).toBeGreaterThan(Number(last));
  });

  it("delivers a change made while the stream is open", async () => {
    await apply(dr("seed"));
    const start = (await json(await call("GET", LIST))).metadata.resourceVersion;
    const res = await call("GET", `${LIST}?watch=true&resourceVersion=${start}&timeoutSeconds=5`);
    const events = readEvents(res, 1);
    await new Promise((r) => setTimeout(r, 100));
    await apply(dr("live"));
    expect((await events).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED live"]);
  });

  it("without a resourceVersion starts with the current objects; across namespaces on the cluster path", async () => {
    await apply(dr("x"));
    await apply(dr("y"), "?namespace=shop");
    const events = await readEvents(await call("GET", "/apis/networking.istio.io/v1/destinationrules?watch=true&timeoutSeconds=1"), 2);
    expect(events.map((e) => `${e.type} ${e.object.metadata.namespace}/${e.object.metadata.name}`)).toEqual(["ADDED default/x", "ADDED shop/y"]);
  });

  it("ends at timeoutSeconds and refuses a malformed resourceVersion", async () => {
    const events = await readEvents(await call("GET", `${LIST}?watch=true&resourceVersion=0&timeoutSeconds=1`), 10);
    expect(events).toEqual([]);
    const bad = await call("GET", `${LIST}?watch=true&resourceVersion=abc`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toContain("resourceVersion");
  });
});
