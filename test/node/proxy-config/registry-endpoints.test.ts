/**
 * @module test/node/proxy-config/registry-endpoints
 * The registry's endpoints from every source: ServiceEntry workloadSelector (WorkloadEntries and
 * registered workloads, port by name / targetPort / number), Kubernetes Service selectors (synced or
 * stored, numeric and named targetPorts), EndpointSlices (ready only, ports by name, labels from the
 * registered workload at that address), de-duplication and order; then the endpoints in a built cluster.
 */
import { describe, expect, it } from "vitest";
import type { IstioObject } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { type KubeObject, type RegisteredWorkload, serviceEndpointsFrom } from "../../../edge-proxy/core/config/build/registry-endpoints.js";
import { build, cluster, dr, object, se, sidecar, vs } from "./support.js";

const DOMAIN = "cluster.local";

function workload(namespace: string, name: string, address: string, labels: Record<string, string>, ports: RegisteredWorkload["ports"] = []): RegisteredWorkload {
  return { namespace, name, serviceAccount: name, address, labels, ports };
}

const we = (namespace: string, name: string, spec: unknown, created?: string) => object("WorkloadEntry", namespace, name, spec, created);

function kubeService(namespace: string, name: string, spec: unknown): KubeObject {
  return { kind: "Service", namespace, name, object: { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec } };
}

function slice(namespace: string, name: string, service: string, ports: unknown[], endpoints: unknown[]): KubeObject {
  return {
    kind: "EndpointSlice",
    namespace,
    name,
    object: { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, namespace, labels: { "kubernetes.io/service-name": service } }, addressType: "IPv4", ports, endpoints },
  };
}

const storedService = (namespace: string, name: string, spec: unknown): IstioObject => ({ kind: "Service", apiVersion: "v1", metadata: { name, namespace }, spec });

describe("ServiceEntry workloadSelector", () => {
  const entry = se("vm", "billing", {
    hosts: ["billing.example.com"],
    ports: [
      { number: 80, name: "http", protocol: "HTTP", targetPort: 8080 },
      { number: 9000, name: "grpc", protocol: "GRPC" },
    ],
    resolution: "STATIC",
    workloadSelector: { labels: { app: "billing" } },
  });

  it("selects WorkloadEntries and registered workloads of its namespace; port by name, else targetPort, else number", () => {
    const result = serviceEndpointsFrom({
      resources: [
        entry,
        we("vm", "vm-1", { address: "10.0.0.1", labels: { app: "billing", version: "v1" }, ports: { http: 8081 } }),
        we("vm", "vm-2", { address: "10.0.0.2", labels: { app: "billing", version: "v2" } }),
        we("other", "vm-3", { address: "10.0.0.3", labels: { app: "billing" } }),
        we("vm", "no-address", { labels: { app: "billing" } }),
      ],
      workloads: [
        workload("vm", "billing-pod", "10.0.1.1", { app: "billing", version: "v3" }, [{ port: 9443, name: "grpc" }]),
        workload("vm", "other-app", "10.0.1.2", { app: "ledger" }),
        workload("default", "billing-elsewhere", "10.0.1.3", { app: "billing" }),
      ],
      kube: [],
      clusterDomain: DOMAIN,
    });
    expect(result).toEqual([
      {
        host: "billing.example.com",
        port: 80,
        endpoints: [
          { address: "10.0.0.1", port: 8081, labels: { app: "billing", version: "v1" } },
          { address: "10.0.0.2", port: 8080, labels: { app: "billing", version: "v2" } },
          { address: "10.0.1.1", port: 8080, labels: { app: "billing", version: "v3" } },
        ],
      },
      {
        host: "billing.example.com",
        port: 9000,
        endpoints: [
          { address: "10.0.0.1", port: 9000, labels: { app: "billing", version: "v1" } },
          { address: "10.0.0.2", port: 9000, labels: { app: "billing", version: "v2" } },
          { address: "10.0.1.1", port: 9443, labels: { app: "billing", version: "v3" } },
        ],
      },
    ]);
  });

  it("leaves static endpoints to the builder's service index (not repeated here)", () => {
    const staticEntry = se("default", "api", { hosts: ["api.example.com"], ports: [{ number: 443, name: "https" }], resolution: "STATIC", endpoints: [{ address: "1.2.3.4" }] });
    expect(serviceEndpointsFrom({ resources: [staticEntry], workloads: [], kube: [], clusterDomain: DOMAIN })).toEqual([]);
  });
});

describe("Kubernetes Service selectors", () => {
  const reviews = {
    selector: { app: "reviews" },
    ports: [
      { name: "http", port: 9080, targetPort: 9080 },
      { name: "admin", port: 15000, targetPort: "admin" },
      { name: "metrics", port: 9100 },
    ],
  };

  it("selects registered workloads and WorkloadEntries in its namespace; numeric and named targetPorts", () => {
    const result = serviceEndpointsFrom({
      resources: [we("default", "reviews-vm", { address: "10.0.0.9", labels: { app: "reviews", version: "vm" }, ports: { http: 19080, admin: 15001 } })],
      workloads: [
        workload("default", "reviews-v1-abc", "10.1.0.1", { app: "reviews", version: "v1" }, [{ port: 9080, name: "http" }, { port: 15009, name: "admin" }]),
        workload("default", "reviews-v2-def", "10.1.0.2", { app: "reviews", version: "v2" }, [{ port: 7777, name: "http" }]),
        workload("shop", "reviews-v9", "10.1.0.3", { app: "reviews" }),
      ],
      kube: [kubeService("default", "reviews", reviews)],
      clusterDomain: DOMAIN,
    });
    const host = "reviews.default.svc.cluster.local";
    expect(result.map((s) => [s.host, s.port, s.endpoints.map((e) => `${e.address}:${e.port}`)])).toEqual([
      // A Pod's named port does not override a numeric targetPort; a WorkloadEntry's port map does.
      [host, 9080, ["10.0.0.9:19080", "10.1.0.1:9080", "10.1.0.2:9080"]],
      [host, 9100, ["10.0.0.9:9100", "10.1.0.1:9100", "10.1.0.2:9100"]],
      // Named targetPort: a workload without that port gives no endpoint.
      [host, 15000, ["10.0.0.9:15001", "10.1.0.1:15009"]],
    ]);
    expect(result[0]!.endpoints[1]!.labels).toEqual({ app: "reviews", version: "v1" });
  });

  it("reads stored v1 Services too, under the cluster domain given; no selector or ExternalName selects nothing", () => {
    const result = serviceEndpointsFrom({
      resources: [
        storedService("shop", "cart", { selector: { app: "cart" }, ports: [{ port: 80, targetPort: 8080 }] }),
        storedService("shop", "external", { type: "ExternalName", externalName: "db.example.com", selector: { app: "cart" }, ports: [{ port: 5432 }] }),
        storedService("shop", "headless", { ports: [{ port: 80 }] }),
      ],
      workloads: [workload("shop", "cart-1", "10.2.0.1", { app: "cart" })],
      kube: [],
      clusterDomain: "corp.internal",
    });
    expect(result).toEqual([{ host: "cart.shop.svc.corp.internal", port: 80, endpoints: [{ address: "10.2.0.1", port: 8080, labels: { app: "cart" } }] }]);
  });
});

describe("EndpointSlices", () => {
  it("gives the Service's ready endpoints, ports matched by name, labels from the registered workload at the address", () => {
    const result = serviceEndpointsFrom({
      resources: [],
      workloads: [workload("default", "ratings-v1-x", "10.3.0.1", { app: "ratings", version: "v1" })],
      kube: [
        kubeService("default", "ratings", { ports: [{ name: "http", port: 9080, targetPort: 9080 }, { name: "grpc", port: 9090, targetPort: 9091 }] }),
        slice("default", "ratings-abc", "ratings", [{ name: "http", port: 9080 }, { name: "grpc", port: 9091 }], [
          { addresses: ["10.3.0.1"], conditions: { ready: true } },
          { addresses: ["10.3.0.2"], conditions: { ready: false } },
          { addresses: ["10.3.0.3"] },
        ]),
        slice("default", "orphan", "", [{ port: 80 }], [{ addresses: ["10.9.9.9"] }]),
      ],
      clusterDomain: DOMAIN,
    });
    expect(result).toEqual([
      {
        host: "ratings.default.svc.cluster.local",
        port: 9080,
        endpoints: [
          { address: "10.3.0.1", port: 9080, labels: { app: "ratings", version: "v1" } },
          { address: "10.3.0.3", port: 9080, labels: {} },
        ],
      },
      {
        host: "ratings.default.svc.cluster.local",
        port: 9090,
        endpoints: [
          { address: "10.3.0.1", port: 9091, labels: { app: "ratings", version: "v1" } },
          { address: "10.3.0.3", port: 9091, labels: {} },
        ],
      },
    ]);
  });

  it("without the Service synced, each slice port stands for itself (an unnamed single port)", () => {
    const result = serviceEndpointsFrom({ resources: [], workloads: [], kube: [slice("web", "front-1", "front", [{ port: 8080 }], [{ addresses: ["10.4.0.1", "10.4.0.2"] }])], clusterDomain: DOMAIN });
    expect(result).toEqual([{ host: "front.web.svc.cluster.local", port: 8080, endpoints: [{ address: "10.4.0.1", port: 8080, labels: {} }, { address: "10.4.0.2", port: 8080, labels: {} }] }]);
  });
});

describe("de-duplication and order", () => {
  it("one endpoint per (host, port, address, port) whatever the number of sources; input order does not matter", () => {
    const workloads = [workload("default", "a", "10.5.0.2", { app: "a" }), workload("default", "b", "10.5.0.1", { app: "a" })];
    const kube = [
      kubeService("default", "a", { selector: { app: "a" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] }),
      slice("default", "a-1", "a", [{ name: "http", port: 8080 }], [{ addresses: ["10.5.0.1", "10.5.0.2"] }]),
    ];
    const resources = [storedService("default", "a", { selector: { app: "a" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] })];
    const forward = serviceEndpointsFrom({ resources, workloads, kube, clusterDomain: DOMAIN });
    const reversed = serviceEndpointsFrom({ resources, workloads: [...workloads].reverse(), kube: [...kube].reverse(), clusterDomain: DOMAIN });
    expect(forward).toEqual(reversed);
    expect(forward).toEqual([
      { host: "a.default.svc.cluster.local", port: 80, endpoints: [{ address: "10.5.0.1", port: 8080, labels: { app: "a" } }, { address: "10.5.0.2", port: 8080, labels: { app: "a" } }] },
    ]);
  });
});

describe("in a built config", () => {
  it("a subset keeps the registry endpoints carrying its labels", () => {
    const endpoints = serviceEndpointsFrom({
      resources: [],
      workloads: [
        workload("default", "reviews-v1", "10.1.0.1", { app: "reviews", version: "v1" }),
        workload("default", "reviews-v2", "10.1.0.2", { app: "reviews", version: "v2" }),
      ],
      kube: [kubeService("default", "reviews", { selector: { app: "reviews" }, ports: [{ name: "http", port: 9080 }] })],
      clusterDomain: DOMAIN,
    });
    const config = build({
      resources: [
        vs("default", "reviews", { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v2" } }] }] }),
        dr("default", "reviews", { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] }),
      ],
      proxy: sidecar("default", { app: "productpage" }),
      endpoints,
    });
    expect(cluster(config, "outbound|9080|v2|reviews.default.svc.cluster.local").endpoints).toEqual([{ address: "10.1.0.2", port: 9080, labels: { app: "reviews", version: "v2" } }]);
  });
});
