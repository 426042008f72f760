// kube-inject over a multi-document manifest: workloads' pod templates get exactly the webhook's patch,
// other documents (a Service, a ServiceAccount) come back byte for byte, and a bad annotation is
// refused naming the document, the object and the annotation.
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { injectManifest } from "../../../control/injection/inject-manifest.js";
import { injectPod } from "../../../control/injection/inject-pod.js";
import type { InjectionOptions } from "../../../control/injection/injection-options.js";
import { ResourceInvalid } from "../../../control/errors.js";
import { applyPatch } from "./rfc6902.js";

const OPTIONS: InjectionOptions = { image: "ghcr.io/weft/proxy:test", controlPlaneUrl: "https://weft.example.com", defaultPolicy: "enabled" };

const SERVICE = `# the reviews service
apiVersion: v1
kind: Service
metadata:
  name: reviews   # stays as written
spec:
  ports:
  - port: 9080
    name: http
  selector: {app: reviews}
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v1
  namespace: shop
spec:
  selector:
    matchLabels: {app: reviews}
  template:
    metadata:
      labels: {app: reviews, version: v1}
    spec:
      containers:
      - name: reviews
        image: example/reviews:1
        ports:
        - containerPort: 9080
`;

const OPTED_OUT_JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    metadata:
      annotations: {sidecar.istio.io/inject: "false"}
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: example/migrate:1}]
`;

const CRONJOB = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: example/report:1}]
`;

describe("injectManifest", () => {
  it("injects the Deployment's template, leaves the Service byte for byte and reports each workload", () => {
    const text = `${SERVICE}---\n${DEPLOYMENT}---\n${OPTED_OUT_JOB}`;
    const result = injectManifest(text, OPTIONS);
    expect(result.text.startsWith(SERVICE + "---\n")).toBe(true);
    expect(result.text.endsWith(`---\n${OPTED_OUT_JOB}`)).toBe(true);
    expect(result.workloads).toEqual([
      { document: 1, object: "deployment/reviews-v1", injected: true },
      { document: 2, object: "job/migrate", injected: false, reason: 'annotation sidecar.istio.io/inject is "false"' },
    ]);
    const docs = parseAllDocuments(result.text).map((d) => d.toJS());
    expect(docs).toHaveLength(3);
    expect(docs[0]).toEqual(parse(SERVICE));
    const template = docs[1].spec.template;
    expect(template.spec.containers.map((c: any) => c.name)).toEqual(["reviews", "weft-proxy"]);
    expect(template.spec.initContainers.map((c: any) => c.name)).toEqual(["weft-init"]);
    expect(template.metadata.annotations["sidecar.istio.io/status"]).toContain("weft-proxy");
    const workload = template.spec.containers[1].env.find((e: any) => e.name === "ISTIO_META_WORKLOAD_NAME");
    expect(workload.value).toBe("reviews-v1");
  });

  it("applies exactly the patch the webhook would send for the same pod", () => {
    const deployment = parse(DEPLOYMENT);
    const [doc] = parseAllDocuments(injectManifest(DEPLOYMENT, OPTIONS).text).map((d) => d.toJS());
    const patch = injectPod(deployment.spec.template, { ...OPTIONS, namespace: "shop", workloadName: "reviews-v1" }).patch;
    expect(doc.spec.template).toEqual(applyPatch(deployment.spec.template, patch));
  });

  it("injects a CronJob's job template and the items of a List, and leaves an injected manifest alone", () => {
    const list = { apiVersion: "v1", kind: "List", items: [parse(DEPLOYMENT), parse(SERVICE)] };
    const result = injectManifest(`${CRONJOB}---\n${JSON.stringify(list)}\n`, OPTIONS);
    expect(result.workloads.map((w) => [w.object, w.injected, w.item])).toEqual([
      ["cronjob/report", true, undefined],
      ["deployment/reviews-v1", true, 0],
    ]);
    const docs = parseAllDocuments(result.text).map((d) => d.toJS());
    expect(docs[0].spec.jobTemplate.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["report", "weft-proxy"]);
    expect(docs[1].items[1]).toEqual(parse(SERVICE));
    const again = injectManifest(result.text, OPTIONS);
    expect(again.text).toBe(result.text);
    expect(again.workloads.every((w) => !w.injected && w.reason?.includes("already injected"))).toBe(true);
  });

  it("refuses a bad annotation naming the document, the object and the annotation", () => {
    const bad = DEPLOYMENT.replace("labels: {app: reviews, version: v1}", 'labels: {app: reviews}\n      annotations: {traffic.sidecar.istio.io/excludeInboundPorts: "8080,99999"}');
    let error: unknown;
    try {
      injectManifest(`${SERVICE}---\n${bad}`, OPTIONS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ResourceInvalid);
    expect((error as Error).message).toBe(
      'document 1: the pod template of deployment/reviews-v1 cannot be injected: annotation traffic.sidecar.istio.io/excludeInboundPorts: "99999" is not a port: the value must be a comma-separated list of ports, each a whole number from 1 to 65535',
    );
  });

  it("reports a YAML syntax error with its document", () => {
    expect(() => injectManifest(`${SERVICE}---\nkind: [unclosed\n`, OPTIONS)).toThrow(/malformed YAML in document 1/);
  });

  it("never injects a workload in a system namespace or on the host network", () => {
    const system = DEPLOYMENT.replace("namespace: shop", "namespace: kube-system");
    expect(injectManifest(system, OPTIONS).text).toBe(system);
    const host = DEPLOYMENT.replace("    spec:\n      containers:", "    spec:\n      hostNetwork: true\n      containers:");
    expect(injectManifest(host, OPTIONS).workloads[0]).toMatchObject({ injected: false, reason: "the pod uses the host network" });
  });
});
