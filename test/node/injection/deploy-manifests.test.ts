// The shipped injection manifests: a MutatingWebhookConfiguration aimed at /webhooks/inject with
// istiod's selectors, RBAC for kube-sync's reads, and an injection-enabled namespace example.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";

const DIR = join(import.meta.dirname, "..", "..", "..", "deploy", "kubernetes", "injection");
const load = (file: string): any[] => parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => d.toJS());

describe("deploy/kubernetes/injection", () => {
  it("ships a MutatingWebhookConfiguration for pod CREATEs with Istio's selectors", () => {
    const [config] = load("mutating-webhook.yaml");
    expect(config.kind).toBe("MutatingWebhookConfiguration");
    for (const hook of config.webhooks) {
      expect(hook).toMatchObject({ admissionReviewVersions: ["v1"], sideEffects: "None", failurePolicy: "Fail" });
      expect(hook.clientConfig.url).toMatch(/\/webhooks\/inject$/);
      expect(hook.rules).toEqual([{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"], scope: "Namespaced" }]);
    }
    const namespaceSelectors = config.webhooks.map((h: any) => h.namespaceSelector.matchExpressions);
    expect(namespaceSelectors).toContainEqual([{ key: "istio-injection", operator: "In", values: ["enabled"] }]);
    expect(namespaceSelectors).toContainEqual([
      { key: "istio.io/rev", operator: "In", values: ["default"] },
      { key: "istio-injection", operator: "DoesNotExist" },
    ]);
    const optedOut = config.webhooks.filter((h: any) =>
      h.objectSelector.matchExpressions.some((e: any) => e.key === "sidecar.istio.io/inject" && (e.operator === "NotIn" ? e.values.includes("false") : e.values.includes("true") && !e.values.includes("false"))),
    );
    expect(optedOut).toHaveLength(config.webhooks.length);
  });

  it("grants the weft ServiceAccount read access to services and endpointslices", () => {
    const docs = load("rbac.yaml");
    expect(docs.find((d) => d.kind === "ServiceAccount").metadata.name).toBe("weft");
    const role = docs.find((d) => d.kind === "ClusterRole");
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = docs.find((d) => d.kind === "ClusterRoleBinding");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "weft", namespace: "weft-system" }]);
  });

  it("has a namespace example labelled istio-injection=enabled", () => {
    const [ns] = load("namespace-example.yaml");
    expect(ns).toMatchObject({ kind: "Namespace", metadata: { labels: { "istio-injection": "enabled" } } });
  });
});
