// `weft validate` checks documents offline with the control plane's own validator: Istio's samples
// pass, a bad field is named, a YAML syntax error fails, and -f reads files, directories and stdin.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BOOKINFO_NETWORKING, runCli, tempDir } from "./run-cli.js";

const BAD_WEIGHT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 150
    - destination: {host: reviews, subset: v2}
      weight: -50
`;

const GATEWAY_JSON = JSON.stringify({
  apiVersion: "networking.istio.io/v1",
  kind: "Gateway",
  metadata: { name: "edge" },
  spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] },
});

describe("weft validate", () => {
  it("accepts Istio's bookinfo virtual-service-all-v1.yaml and names every object", async () => {
    const run = await runCli(["validate", "-f", join(BOOKINFO_NETWORKING, "virtual-service-all-v1.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.trim().split("\n")).toEqual([
      "virtualservice.networking.istio.io/productpage valid",
      "virtualservice.networking.istio.io/reviews valid",
      "virtualservice.networking.istio.io/ratings valid",
      "virtualservice.networking.istio.io/details valid",
    ]);
  });

  it("accepts the whole bookinfo networking directory", async () => {
    const run = await runCli(["validate", "-f", BOOKINFO_NETWORKING]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("gateway.networking.istio.io/bookinfo-gateway valid");
    expect(run.stdout).toContain("destinationrule.networking.istio.io/reviews valid");
    expect(run.stdout).toContain("serviceentry.networking.istio.io/googleapis valid");
  });

  it("fails with the file, document, object and field of a bad weight", async () => {
    const dir = tempDir();
    const file = join(dir, "bad-weight.yaml");
    writeFileSync(file, BAD_WEIGHT);
    const run = await runCli(["validate", "-f", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`${file}: document 0 (virtualservice.networking.istio.io/reviews): spec.http[0].route[1].weight: `);
  });

  it("fails on a YAML syntax error, naming the file and line", async () => {
    const dir = tempDir();
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "apiVersion: networking.istio.io/v1\nkind: [oops\nmetadata: {name: x}\n");
    const run = await runCli(["validate", "-f", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^${file}: malformed YAML in document 0 at line \\d+`));
  });

  it("reports good and bad documents of one multi-document file, and exits 1", async () => {
    const dir = tempDir();
    const file = join(dir, "mixed.yaml");
    writeFileSync(file, `${readFileSync(join(BOOKINFO_NETWORKING, "destination-rule-reviews.yaml"), "utf8")}\n---\n${BAD_WEIGHT}`);
    const run = await runCli(["validate", "-f", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("destinationrule.networking.istio.io/reviews valid\n");
    expect(run.stderr).toContain(`${file}: document 1 (virtualservice.networking.istio.io/reviews): spec.http[0].route[1].weight`);
  });

  it("refuses kinds Weft does not serve by name", async () => {
    const run = await runCli(["validate", "-f", "-"], {
      stdin: "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: f}\nspec: {}\n",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("<stdin>: document 0 (envoyfilter.networking.istio.io/f): kind: EnvoyFilter is not supported by Weft");
  });

  it("reads stdin as JSON or YAML", async () => {
    const json = await runCli(["validate", "-f", "-"], { stdin: GATEWAY_JSON });
    expect(json).toMatchObject({ code: 0, stdout: "gateway.networking.istio.io/edge valid\n" });
    const malformed = await runCli(["validate", "-f", "-"], { stdin: "{not json" });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("<stdin>: malformed JSON");
  });

  it("reads *.yaml, *.yml and *.json of a directory, and its subdirectories only with -R", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "nested"));
    writeFileSync(join(dir, "gw.json"), GATEWAY_JSON);
    writeFileSync(join(dir, "notes.txt"), "not a manifest");
    writeFileSync(join(dir, "nested", "dr.yml"), "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings}\nspec: {host: ratings}\n");
    const flat = await runCli(["validate", "-f", dir]);
    expect(flat).toMatchObject({ code: 0, stdout: "gateway.networking.istio.io/edge valid\n" });
    const recursive = await runCli(["validate", "-R", "-f", dir]);
    expect(recursive.code).toBe(0);
    expect(recursive.stdout).toBe("gateway.networking.istio.io/edge valid\ndestinationrule.networking.istio.io/ratings valid\n");
  });

  it("resolves relative paths against the working directory, and names a missing one", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "gw.json"), GATEWAY_JSON);
    expect((await runCli(["validate", "-f", "gw.json"], { cwd: dir })).code).toBe(0);
    const missing = await runCli(["validate", "-f", "absent.yaml"], { cwd: dir });
    expect(missing).toMatchObject({ code: 1, stderr: 'error: the path "absent.yaml" does not exist\n' });
  });

  it("needs no server and no token", async () => {
    const run = await runCli(["validate", "-f", join(BOOKINFO_NETWORKING, "bookinfo-gateway.yaml"), "--server", "http://127.0.0.1:1"]);
    expect(run.code).toBe(0);
  });
});
