// `weft` against a real control plane (workerd with local D1, as `npm start` runs it): apply creates,
// leaves alone and configures, get prints tables, YAML and JSON, delete -f removes, a bad document
// stores nothing, and a viewer token may read but not write.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startControlPlane, type RunningControlPlane } from "../support/control-plane.js";
import { BOOKINFO_NETWORKING, runCli, tempDir, type CliRunOptions } from "./run-cli.js";

const VS_ALL_V1 = join(BOOKINFO_NETWORKING, "virtual-service-all-v1.yaml");
const DR_ALL = join(BOOKINFO_NETWORKING, "destination-rule-all.yaml");
const VS_REVIEWS_50_V3 = join(BOOKINFO_NETWORKING, "virtual-service-reviews-50-v3.yaml");
const VS_REVIEWS_V3 = join(BOOKINFO_NETWORKING, "virtual-service-reviews-v3.yaml");
const BOOKINFO_VS = ["productpage", "reviews", "ratings", "details"];

const BAD_WEIGHT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: broken
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v2}
      weight: -50
`;

let cp: RunningControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

/** Runs weft as the admin, connection given by flags. */
function weft(argv: string[], options: CliRunOptions = {}) {
  return runCli([...argv, "--server", cp.url, "--token", cp.adminToken], options);
}

function lines(text: string): string[] {
  return text.trimEnd().split("\n");
}

type VirtualService = { metadata: { name: string; namespace: string }; spec: { http: { route: { weight?: number }[] }[] } };

describe("weft against the control plane", () => {
  it("applies bookinfo: created, then unchanged, then configured on a change", async () => {
    const first = await weft(["apply", "-f", VS_ALL_V1, "-f", DR_ALL]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toEqual([
      ...BOOKINFO_VS.map((n) => `virtualservice.networking.istio.io/${n} created`),
      ...BOOKINFO_VS.map((n) => `destinationrule.networking.istio.io/${n} created`),
    ]);

    const again = await weft(["apply", "-f", VS_ALL_V1]);
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toEqual(BOOKINFO_VS.map((n) => `virtualservice.networking.istio.io/${n} unchanged`));

    const changed = await weft(["apply", "-f", VS_REVIEWS_50_V3]);
    expect(changed).toMatchObject({ code: 0, stdout: "virtualservice.networking.istio.io/reviews configured\n" });
  });

  it("reports a dry run without storing it", async () => {
    const dry = await weft(["apply", "--dry-run", "-f", VS_REVIEWS_V3]);
    expect(dry).toMatchObject({ code: 0, stdout: "virtualservice.networking.istio.io/reviews configured (dry run)\n" });
    const stored = await weft(["get", "vs", "reviews", "-o", "json"]);
    const weights = (JSON.parse(stored.stdout) as VirtualService).spec.http[0]?.route.map((r) => r.weight);
    expect(weights).toEqual([50, 50]);
  });

  it("gets a table with Istio's columns, and NAMESPACE with -A", async () => {
    const table = await weft(["get", "virtualservices"]);
    expect(table.code).toBe(0);
    const [header, ...rows] = lines(table.stdout);
    expect(header?.split(/\s+/)).toEqual(["NAME", "GATEWAYS", "HOSTS", "AGE"]);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 2))).toEqual([
      ["details", '["details"]'],
      ["productpage", '["productpage"]'],
      ["ratings", '["ratings"]'],
      ["reviews", '["reviews"]'],
    ]);
    expect(rows[0]).toMatch(/\s\d+s$/);

    const all = await weft(["get", "dr", "-A"]);
    expect(lines(all.stdout)[0]?.split(/\s+/)).toEqual(["NAMESPACE", "NAME", "HOST", "AGE"]);
    expect(lines(all.stdout)[1]).toMatch(/^default\s+details\s+details\s+\d+s$/);
  });

  it("gets one object as YAML and a listing as a List that applies back unchanged", async () => {
    const one = await weft(["get", "virtualservice.networking.istio.io", "reviews", "-o", "yaml"]);
    expect(one.code).toBe(0);
    const reviews = parse(one.stdout) as VirtualService & { apiVersion: string; kind: string };
    expect(reviews).toMatchObject({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews", namespace: "default" } });

    const list = await weft(["get", "vs", "-o", "yaml"]);
    const parsed = parse(list.stdout) as { kind: string; items: VirtualService[] };
    expect(parsed.kind).toBe("List");
    expect(parsed.items.map((i) => i.metadata.name)).toEqual(["details", "productpage", "ratings", "reviews"]);

    const reapplied = await weft(["apply", "-f", "-"], { stdin: list.stdout });
    expect(reapplied.code).toBe(0);
    expect(reapplied.stdout).not.toContain("created");
    expect(lines(reapplied.stdout).every((l) => l.endsWith(" unchanged"))).toBe(true);
  });

  it("says NotFound like kubectl for a missing name, and No resources found for an empty namespace", async () => {
    const missing = await weft(["get", "vs", "nope"]);
    expect(missing).toEqual({ code: 1, stdout: "", stderr: 'Error from server (NotFound): virtualservices.networking.istio.io "nope" not found\n' });
    const empty = await weft(["get", "gw", "-n", "empty"]);
    expect(empty).toEqual({ code: 0, stdout: "", stderr: "No resources found in empty namespace.\n" });
  });

  it("refuses a bad document with its field, and stores none of the batch", async () => {
    const run = await weft(["apply", "-n", "refused", "-f", DR_ALL, "-f", "-"], { stdin: BAD_WEIGHT });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: document 4 \(virtualservice\.networking\.istio\.io\/broken\): spec\.http\[0\]\.route\[1\]\.weight: /);
    const stored = await weft(["get", "dr", "-n", "refused"]);
    expect(stored).toMatchObject({ code: 0, stderr: "No resources found in refused namespace.\n" });
  });

  it("deletes what a file describes, and goes on past a missing object", async () => {
    await weft(["apply", "-n", "gone", "-f", VS_ALL_V1]);
    const removed = await weft(["delete", "-f", VS_ALL_V1, "-n", "gone"]);
    expect(removed).toMatchObject({ code: 0, stderr: "" });
    expect(lines(removed.stdout)).toEqual(BOOKINFO_VS.map((n) => `virtualservice.networking.istio.io/${n} deleted`));

    await weft(["apply", "-n", "gone", "-f", VS_REVIEWS_V3]);
    const again = await weft(["delete", "-n", "gone", "-f", VS_ALL_V1]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("virtualservice.networking.istio.io/reviews deleted\n");
    expect(lines(again.stderr)).toEqual(
      ["productpage", "ratings", "details"].map((n) => `Error from server (NotFound): virtualservices.networking.istio.io "${n}" not found`),
    );
  });

  it("deletes by kind and name", async () => {
    const run = await weft(["delete", "dr", "ratings", "details"]);
    expect(run).toMatchObject({ code: 0, stdout: "destinationrule.networking.istio.io/ratings deleted\ndestinationrule.networking.istio.io/details deleted\n" });
    const left = await weft(["get", "destinationrules"]);
    expect(lines(left.stdout).slice(1).map((r) => r.split(/\s+/)[0])).toEqual(["productpage", "reviews"]);
  });

  it("creates a viewer token that can read but not apply, lists it, and revokes it", async () => {
    const created = await weft(["token", "create", "--role", "viewer", "--name", "ci"]);
    expect(created.code).toBe(0);
    const out = lines(created.stdout);
    expect(out.length).toBeGreaterThan(1);
    const viewerToken = out[out.length - 1]!;
    expect(viewerToken).not.toContain(" ");

    const asViewer = (argv: string[]) => runCli([...argv, "--token", viewerToken], { env: { WEFT_URL: cp.url } });
    const read = await asViewer(["get", "vs", "reviews", "-o", "json"]);
    expect(read.code).toBe(0);
    const write = await asViewer(["apply", "-f", VS_ALL_V1]);
    expect(write.code).toBe(1);
    expect(write.stdout).toBe("");
    expect(write.stderr).toMatch(/^Error from server \(Forbidden\): /);

    const listed = await weft(["token", "list"]);
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)[0]?.split(/\s+/)).toEqual(["NAME", "ROLE", "AGE"]);
    expect(listed.stdout).toMatch(/^ci\s+viewer\s+\d+s$/m);
    expect(listed.stdout).not.toContain(viewerToken);

    expect(await weft(["token", "revoke", "ci"])).toMatchObject({ code: 0, stdout: 'token "ci" revoked\n' });
    const revoked = await asViewer(["get", "vs"]);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/^Error from server \(Unauthorized\): /);
  });

  it("uses WEFT_ADMIN_TOKEN from .dev.vars in the working directory", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".dev.vars"), `WEFT_ADMIN_TOKEN=${cp.adminToken}\n`);
    const run = await runCli(["get", "vs", "reviews", "-o", "wide"], { env: { WEFT_URL: cp.url }, cwd: dir });
    expect(run.code).toBe(0);
    expect(lines(run.stdout)[1]).toMatch(/^reviews\s+\["reviews"\]\s+\d+s$/);
  });
});
