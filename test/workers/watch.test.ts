// Watch: newline-delimited events after a resourceVersion, so a client that reconnects with the last
// revision it saw misses nothing, even for changes made while it was away.
import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/control-plane.js";
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

  it("after the cron compacts the change log, a too-old resourceVersion gets 410 Expired", async () => {
    for (const name of ["a", "b", "c", "d"]) await apply(dr(name));
    await new Promise((r) => setTimeout(r, 5));
    // Keep only the newest entry, and drop anything older than a millisecond.
    await worker.scheduled!(createScheduledController(), { ...env, WEFT_CHANGE_LOG_HOURS: "0.0000003", WEFT_CHANGE_LOG_KEEP: "1" });
    const gone = await call("GET", `${LIST}?watch=true&resourceVersion=1`);
    expect(gone.status).toBe(410);
    expect(await json(gone)).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
    // Resuming from the revision just before the oldest kept entry still works.
    const events = await readEvents(await call("GET", `${LIST}?watch=true&resourceVersion=3&timeoutSeconds=1`), 1);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED d"]);
  });
});
