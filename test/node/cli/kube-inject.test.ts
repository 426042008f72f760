// `weft kube-inject` offline: Istio's httpbin and bookinfo manifests (from the corpus) come back with
// every Deployment injected and every other document as written; -o writes a file, -f - reads stdin,
// a bad annotation fails naming the file and the annotation, and the control plane URL is required.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CORPUS, runCli, tempDir } from "./run-cli.js";

const HTTPBIN = join(CORPUS, "httpbin", "httpbin.yaml");
const BOOKINFO = join(CORPUS, "bookinfo", "platform", "kube", "bookinfo.yaml");
const URL_FLAG = ["--control-plane-url", "https://weft.example.com"];

const documents = (text: string): any[] => parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d !== null);
const containerNames = (deployment: any): string[] => deployment.spec.template.spec.containers.map((c: any) => c.name);

describe("weft kube-inject", () => {
  it("injects httpbin's Deployment and prints its ServiceAccount and Service as written", async () => {
    const original = readFileSync(HTTPBIN, "utf8");
    const run = await runCli(["kube-inject", "-f", HTTPBIN, ...URL_FLAG]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const upToDeployment = original.slice(0, original.indexOf("apiVersion: apps/v1"));
    expect(run.stdout.startsWith(upToDeployment)).toBe(true);
    const docs = documents(run.stdout);
    expect(docs.map((d) => d.kind)).toEqual(["ServiceAccount", "Service", "Deployment"]);
    const before = documents(original);
    expect(docs[0]).toEqual(before[0]);
    expect(docs[1]).toEqual(before[1]);
    expect(containerNames(docs[2])).toEqual(["httpbin", "weft-proxy"]);
    expect(docs[2].spec.template.spec.initContainers[0].name).toBe("weft-init");
    expect(docs[2].spec.selector).toEqual(before[2].spec.selector);
    const env = docs[2].spec.template.spec.containers[1].env;
    expect(env.find((e: any) => e.name === "WEFT_CONTROL_PLANE_URL").value).toBe("https://weft.example.com");
  });

  it("injects all six bookinfo Deployments and keeps productpage's own volume", async () => {
    const run = await runCli(["kube-inject", "-f", BOOKINFO, ...URL_FLAG, "--image", "registry.example/weft-proxy:dev"]);
    expect(run.code).toBe(0);
    const docs = documents(run.stdout);
    const deployments = docs.filter((d) => d.kind === "Deployment");
    expect(deployments).toHaveLength(6);
    for (const d of deployments) {
      expect(containerNames(d).at(-1)).toBe("weft-proxy");
      expect(d.spec.template.spec.containers.at(-1).image).toBe("registry.example/weft-proxy:dev");
    }
    expect(docs.filter((d) => d.kind === "Service")).toEqual(documents(readFileSync(BOOKINFO, "utf8")).filter((d) => d.kind === "Service"));
    const productpage = deployments.find((d) => d.metadata.name === "productpage-v1");
    expect(productpage.spec.template.spec.volumes.map((v: any) => v.name)).toContain("tmp");
  });

  it("writes -o FILE and reads - from stdin, taking the URL from WEFT_PUBLIC_URL", async () => {
    const dir = tempDir();
    const run = await runCli(["kube-inject", "-f", "-", "-o", "out.yaml"], {
      cwd: dir,
      stdin: readFileSync(HTTPBIN, "utf8"),
      env: { WEFT_PUBLIC_URL: "https://mesh.example.org/" },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    const docs = documents(readFileSync(join(dir, "out.yaml"), "utf8"));
    const proxy = docs[2].spec.template.spec.containers[1];
    expect(proxy.env.find((e: any) => e.name === "WEFT_CONTROL_PLANE_URL").value).toBe("https://mesh.example.org");
    expect(proxy.image).toBe("ghcr.io/weft/proxy:0.1.0");
  });

  it("names workloads it leaves alone on stderr", async () => {
    const dir = tempDir();
    const file = join(dir, "opted-out.yaml");
    const deployment = parse(readFileSync(HTTPBIN, "utf8").split("---").at(-1)!);
    deployment.spec.template.metadata.labels["sidecar.istio.io/inject"] = "false";
    writeFileSync(file, JSON.stringify(deployment));
    const run = await runCli(["kube-inject", "-f", file, ...URL_FLAG]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`${file}: deployment/httpbin not injected: label sidecar.istio.io/inject is "false"\n`);
    expect(parse(run.stdout)).toEqual(deployment);
  });

  it("fails on a bad annotation, naming the file, the object and the annotation", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.yaml");
    writeFileSync(file, readFileSync(HTTPBIN, "utf8").replace("        version: v1\n    spec:", '        version: v1\n      annotations:\n        traffic.sidecar.istio.io/excludeOutboundPorts: "99999"\n    spec:'));
    const run = await runCli(["kube-inject", "-f", file, ...URL_FLAG]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`error: ${file}: document 2: the pod template of deployment/httpbin cannot be injected: annotation traffic.sidecar.istio.io/excludeOutboundPorts: "99999" is not a port`);
  });

  it("needs the control plane's URL and a file", async () => {
    const noUrl = await runCli(["kube-inject", "-f", HTTPBIN]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain("--control-plane-url");
    const noFile = await runCli(["kube-inject", ...URL_FLAG]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("must specify -f");
    const help = await runCli(["help"]);
    expect(help.stdout).toContain("kube-inject");
  });
});
