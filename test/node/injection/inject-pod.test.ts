// Sidecar injection of one pod: when to inject (INJECTION.md §1b, table-driven), the init container's
// iptables arguments from the traffic annotations (§2, IPTABLES.md §2), holdApplicationUntilProxyStarts
// ordering, the injected proxy, idempotence, and refusal of bad annotation values naming the annotation.
// Every patch is applied with an independent RFC 6902 applier and the resulting pod is checked.
import { describe, expect, it } from "vitest";
import { AnnotationInvalid } from "../../../control/injection/annotation-invalid.js";
import { injectPod } from "../../../control/injection/inject-pod.js";
import type { InjectionOptions } from "../../../control/injection/injection-options.js";
import { applyJsonPatch } from "../../../control/injection/json-patch.js";
import { applyPatch } from "./rfc6902.js";

const OPTIONS: InjectionOptions = { image: "ghcr.io/weft/proxy:test", controlPlaneUrl: "https://weft.example.com", defaultPolicy: "enabled" };

interface PodInput {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  namespace?: string;
  hostNetwork?: boolean;
}

function pod(input: PodInput = {}): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-1",
      namespace: input.namespace ?? "shop",
      ...(input.labels ? { labels: input.labels } : {}),
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      ...(input.hostNetwork ? { hostNetwork: true } : {}),
      serviceAccountName: "web",
      containers: [{ name: "app", image: "example/web:1", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
    },
  };
}

/** Injects and applies the patch; returns the resulting pod (or the untouched one). */
function injected(input: any, options: Partial<InjectionOptions> = {}): any {
  const result = injectPod(input, { ...OPTIONS, ...options });
  return applyPatch(input, result.patch);
}

const initArgs = (p: any): string[] => p.spec.initContainers.find((c: any) => c.name === "weft-init").args;
const proxy = (p: any): any => p.spec.containers.find((c: any) => c.name === "weft-proxy");
const envOf = (p: any): Record<string, unknown> => Object.fromEntries(proxy(p).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("injectPod: when to inject (INJECTION.md §1b)", () => {
  const cases: Array<[string, InjectionOptions["defaultPolicy"], PodInput, boolean, string?]> = [
    ["policy enabled, nothing set", "enabled", {}, true],
    ["policy disabled, nothing set", "disabled", {}, false, "policy is disabled"],
    ["policy disabled, label true", "disabled", { labels: { "sidecar.istio.io/inject": "true" } }, true],
    ["policy disabled, annotation true", "disabled", { annotations: { "sidecar.istio.io/inject": "true" } }, true],
    ["policy enabled, label false", "enabled", { labels: { "sidecar.istio.io/inject": "false" } }, false, 'label sidecar.istio.io/inject is "false"'],
    ["policy enabled, annotation false", "enabled", { annotations: { "sidecar.istio.io/inject": "false" } }, false, 'annotation sidecar.istio.io/inject is "false"'],
    ["label true wins over annotation false", "disabled", { labels: { "sidecar.istio.io/inject": "true" }, annotations: { "sidecar.istio.io/inject": "false" } }, true],
    ["label false wins over annotation true", "enabled", { labels: { "sidecar.istio.io/inject": "false" }, annotations: { "sidecar.istio.io/inject": "true" } }, false, "label"],
    ["an invalid value counts as unset (enabled)", "enabled", { labels: { "sidecar.istio.io/inject": "yes" } }, true],
    ["an invalid value counts as unset (disabled)", "disabled", { labels: { "sidecar.istio.io/inject": "yes" } }, false, "policy is disabled"],
    ["host network, even when asked for", "enabled", { hostNetwork: true, labels: { "sidecar.istio.io/inject": "true" } }, false, "host network"],
    ["kube-system, even when asked for", "enabled", { namespace: "kube-system", labels: { "sidecar.istio.io/inject": "true" } }, false, 'namespace "kube-system"'],
    ["kube-public", "enabled", { namespace: "kube-public" }, false, "never injected"],
    ["kube-node-lease", "enabled", { namespace: "kube-node-lease" }, false, "never injected"],
    ["local-path-storage", "enabled", { namespace: "local-path-storage" }, false, "never injected"],
  ];
  it.each(cases)("%s", (_name, defaultPolicy, input, expected, reason) => {
    const result = injectPod(pod(input), { ...OPTIONS, defaultPolicy });
    expect(result.injected).toBe(expected);
    if (expected) expect(result.patch.length).toBeGreaterThan(0);
    else {
      expect(result.patch).toEqual([]);
      expect(result.reason).toContain(reason);
    }
  });

  it("takes the namespace from the options when the pod's metadata names none", () => {
    const p = pod();
    delete p.metadata.namespace;
    expect(injectPod(p, { ...OPTIONS, namespace: "kube-system" }).injected).toBe(false);
    expect(injectPod(p, { ...OPTIONS, namespace: "shop" }).injected).toBe(true);
  });

  it("does not validate the annotations of a pod it leaves alone", () => {
    const p = pod({ labels: { "sidecar.istio.io/inject": "false" }, annotations: { "traffic.sidecar.istio.io/includeInboundPorts": "99999" } });
    expect(injectPod(p, OPTIONS)).toMatchObject({ injected: false, patch: [] });
  });
});

describe("injectPod: the init container's iptables arguments", () => {
  it("passes Istio's defaults when no annotation is set", () => {
    const result = injected(pod());
    expect(initArgs(result)).toEqual(["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]);
    const init = result.spec.initContainers[0];
    expect(init).toMatchObject({ name: "weft-init", image: "ghcr.io/weft/proxy:test", command: ["weft-iptables"] });
    expect(init.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] } });
  });

  const cases: Array<[string, string, string, string[]]> = [
    ["includeOutboundIPRanges", "10.0.0.0/8, 172.16.0.0/12", "-i", ["10.0.0.0/8,172.16.0.0/12"]],
    ["includeOutboundIPRanges", "*", "-i", ["*"]],
    ["includeOutboundIPRanges", "", "-i", [""]],
    ["excludeOutboundIPRanges", "192.168.0.0/16,fd00::/8", "-x", ["192.168.0.0/16,fd00::/8"]],
    ["includeInboundPorts", "8080,9090", "-b", ["8080,9090"]],
    ["includeInboundPorts", "", "-b", [""]],
    ["excludeInboundPorts", "8081,15021", "-d", ["15090,15021,15020,8081"]],
    ["excludeOutboundPorts", "5432,6379", "-o", ["5432,6379"]],
    ["includeOutboundPorts", "443", "-q", ["443"]],
  ];
  it.each(cases)("traffic.sidecar.istio.io/%s=%j gives %s %j", (name, value, flag, expected) => {
    const args = initArgs(injected(pod({ annotations: { [`traffic.sidecar.istio.io/${name}`]: value } })));
    const at = args.indexOf(flag);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(args.slice(at + 1, at + 2)).toEqual(expected);
  });

  it("passes -q and -o only when set, after the inbound flags", () => {
    const args = initArgs(injected(pod({ annotations: { "traffic.sidecar.istio.io/excludeOutboundPorts": "5432", "traffic.sidecar.istio.io/includeOutboundPorts": "443" } })));
    expect(args.slice(-4)).toEqual(["-q", "443", "-o", "5432"]);
    expect(initArgs(injected(pod()))).not.toContain("-o");
  });

  it("adds no init container with interception mode NONE", () => {
    const result = injected(pod({ annotations: { "sidecar.istio.io/interceptionMode": "NONE" } }));
    expect(result.spec.initContainers).toBeUndefined();
    expect(proxy(result)).toBeDefined();
    expect(JSON.parse(result.metadata.annotations["sidecar.istio.io/status"]).initContainers).toEqual([]);
  });

  it("puts weft-init after the pod's own init containers", () => {
    const p = pod();
    p.spec.initContainers = [{ name: "migrate", image: "example/migrate:1" }];
    expect(injected(p).spec.initContainers.map((c: any) => c.name)).toEqual(["migrate", "weft-init"]);
  });
});

describe("injectPod: the proxy container", () => {
  it("appends weft-proxy after the app, with its ports, probes, security and environment", () => {
    const result = injected(pod());
    expect(result.spec.containers.map((c: any) => c.name)).toEqual(["app", "weft-proxy"]);
    const sidecar = proxy(result);
    expect(sidecar).toMatchObject({ image: "ghcr.io/weft/proxy:test", command: ["weft"], args: ["sidecar"] });
    expect(sidecar.ports).toEqual([{ name: "http-envoy-prom", containerPort: 15090, protocol: "TCP" }]);
    expect(sidecar.readinessProbe).toMatchObject({ httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 15, failureThreshold: 4 });
    expect(sidecar.startupProbe).toMatchObject({ httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 1, failureThreshold: 600 });
    expect(sidecar.securityContext).toMatchObject({
      runAsUser: 1337,
      runAsGroup: 1337,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(sidecar.lifecycle).toBeUndefined();
    const env = envOf(result);
    expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: "metadata.name" } });
    expect(env.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: "metadata.namespace" } });
    expect(env.INSTANCE_IP).toEqual({ fieldRef: { fieldPath: "status.podIP" } });
    expect(env.SERVICE_ACCOUNT).toEqual({ fieldRef: { fieldPath: "spec.serviceAccountName" } });
    expect(env.HOST_IP).toEqual({ fieldRef: { fieldPath: "status.hostIP" } });
    expect(env.WEFT_CONTROL_PLANE_URL).toBe("https://weft.example.com");
    expect(JSON.parse(env.ISTIO_META_POD_PORTS as string)).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(env.ISTIO_META_APP_CONTAINERS).toBe("app");
    expect(env.PROXY_CONFIG).toBeUndefined();
  });

  it("mounts the istio-token projected token and emptyDirs for everything it writes", () => {
    const result = injected(pod());
    const token = result.spec.volumes.find((v: any) => v.name === "istio-token");
    expect(token.projected.sources).toEqual([{ serviceAccountToken: { audience: "weft", expirationSeconds: 43200, path: "istio-token" } }]);
    const mounts = Object.fromEntries(proxy(result).volumeMounts.map((m: any) => [m.name, m.mountPath]));
    expect(mounts["istio-token"]).toBe("/var/run/secrets/tokens");
    for (const name of ["workload-socket", "workload-certs", "istio-envoy", "istio-data"]) {
      expect(result.spec.volumes.find((v: any) => v.name === name).emptyDir).toBeDefined();
      expect(mounts[name]).toMatch(/^\//);
    }
  });

  it("names the workload from a ReplicaSet owner without its pod-template-hash", () => {
    const p = pod({ labels: { app: "web", "pod-template-hash": "5d9f7c6b8" } });
    p.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d9f7c6b8", controller: true }];
    const result = injected(p);
    expect(envOf(result).ISTIO_META_WORKLOAD_NAME).toBe("web");
    expect(result.metadata.labels).toMatchObject({ "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": "web", "service.istio.io/canonical-revision": "latest" });
  });

  it("passes PROXY_CONFIG and proxyMetadata when a ProxyConfig is given", () => {
    const result = injected(pod({ annotations: { "proxy.istio.io/config": "proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: \"true\"\nconcurrency: 2\n" } }), {
      proxyConfig: { proxyMetadata: { MESH_WIDE: "1" } },
    });
    const env = envOf(result);
    expect(JSON.parse(env.PROXY_CONFIG as string)).toEqual({ concurrency: 2, proxyMetadata: { MESH_WIDE: "1", ISTIO_META_DNS_CAPTURE: "true" } });
    expect(env.ISTIO_META_DNS_CAPTURE).toBe("true");
    expect(env.MESH_WIDE).toBe("1");
  });

  it("honours the readiness and resource annotations", () => {
    const sidecar = proxy(
      injected(pod({ annotations: { "readiness.status.sidecar.istio.io/periodSeconds": "5", "sidecar.istio.io/proxyCPU": "50m", "sidecar.istio.io/proxyMemoryLimit": "256Mi" } })),
    );
    expect(sidecar.readinessProbe.periodSeconds).toBe(5);
    expect(sidecar.resources).toEqual({ requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "256Mi" } });
  });
});

describe("injectPod: holdApplicationUntilProxyStarts", () => {
  it("puts the proxy first with a postStart hook that waits for it", () => {
    const p = pod({ annotations: { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true" } });
    const result = injectPod(p, OPTIONS);
    expect(result.patch.find((op) => (op as any).value?.name === "weft-proxy")?.path).toBe("/spec/containers/0");
    const applied = applyPatch(p, result.patch);
    expect(applied.spec.containers.map((c: any) => c.name)).toEqual(["weft-proxy", "app"]);
    expect(applied.spec.containers[0].lifecycle).toEqual({ postStart: { exec: { command: ["weft", "sidecar", "wait"] } } });
    expect(applied.metadata.annotations["kubectl.kubernetes.io/default-container"]).toBe("app");
    expect(JSON.parse(envOf(applied).PROXY_CONFIG as string)).toEqual({ holdApplicationUntilProxyStarts: true });
  });

  it("takes the mesh default, which the pod's annotation overrides (JSON accepted)", () => {
    const held = injected(pod(), { proxyConfig: { holdApplicationUntilProxyStarts: true } });
    expect(held.spec.containers[0].name).toBe("weft-proxy");
    const notHeld = injected(pod({ annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": false}' } }), { proxyConfig: { holdApplicationUntilProxyStarts: true } });
    expect(notHeld.spec.containers.map((c: any) => c.name)).toEqual(["app", "weft-proxy"]);
  });
});

describe("injectPod: the patch and idempotence", () => {
  it("creates missing lists and maps, and escapes annotation keys in paths", () => {
    const p = pod({ labels: { app: "web" }, annotations: { team: "shop" } });
    const result = injectPod(p, OPTIONS);
    const paths = result.patch.map((op) => op.path);
    expect(paths).toContain("/spec/initContainers");
    expect(paths).toContain("/spec/volumes");
    expect(paths).toContain("/metadata/annotations/sidecar.istio.io~1status");
    expect(paths).toContain("/metadata/labels/security.istio.io~1tlsMode");
    const applied = applyPatch(p, result.patch);
    expect(applied.metadata.annotations.team).toBe("shop");
    expect(applyJsonPatch(p, result.patch)).toEqual(applied);
  });

  it("adds metadata when the pod has none", () => {
    const p = { spec: { containers: [{ name: "app", image: "x" }] } };
    const applied = injected(p, { namespace: "shop" });
    expect(applied.metadata.annotations["sidecar.istio.io/status"]).toBeDefined();
  });

  it("writes sidecar.istio.io/status listing what it added, and leaves an injected pod alone", () => {
    const once = injected(pod());
    expect(JSON.parse(once.metadata.annotations["sidecar.istio.io/status"])).toEqual({
      initContainers: ["weft-init"],
      containers: ["weft-proxy"],
      volumes: ["workload-socket", "workload-certs", "istio-envoy", "istio-data", "istio-podinfo", "istio-token"],
      imagePullSecrets: null,
      revision: "default",
    });
    const again = injectPod(once, OPTIONS);
    expect(again).toMatchObject({ injected: false, patch: [] });
    expect(again.reason).toContain("sidecar.istio.io/status");
  });

  it("leaves alone a pod that already declares weft-proxy, or has no containers", () => {
    const p = pod();
    p.spec.containers.push({ name: "weft-proxy", image: "custom" });
    expect(injectPod(p, OPTIONS).reason).toContain("weft-proxy");
    expect(injectPod({ metadata: { name: "x" }, spec: {} }, OPTIONS).reason).toContain("no containers");
  });
});

describe("injectPod: bad annotation values are refused, naming the annotation and the rule", () => {
  const cases: Array<[string, string, string]> = [
    ["traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/33", "not a CIDR range: the value must be * or a comma-separated list of CIDR ranges"],
    ["traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.1", "not a CIDR range"],
    ["traffic.sidecar.istio.io/excludeOutboundIPRanges", "*", "not a CIDR range: the value must be a comma-separated list"],
    ["traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8,,", "an empty item is not a CIDR range"],
    ["traffic.sidecar.istio.io/includeInboundPorts", "80,70000", '"70000" is not a port'],
    ["traffic.sidecar.istio.io/excludeInboundPorts", "http", '"http" is not a port'],
    ["traffic.sidecar.istio.io/excludeOutboundPorts", "65536", "each a whole number from 1 to 65535"],
    ["traffic.sidecar.istio.io/includeOutboundPorts", "0", "is not a port"],
    ["sidecar.istio.io/interceptionMode", "TPROXY", "TPROXY is not supported by Weft"],
    ["sidecar.istio.io/interceptionMode", "BOGUS", "must be REDIRECT, TPROXY or NONE"],
    ["proxy.istio.io/config", "holdApplicationUntilProxyStarts: maybe", "holdApplicationUntilProxyStarts must be true or false"],
    ["proxy.istio.io/config", "[1, 2]", "must be a ProxyConfig mapping"],
    ["readiness.status.sidecar.istio.io/periodSeconds", "-1", "not a whole number from 0 to 4294967295"],
    ["sidecar.istio.io/proxyMemory", "lots", "not a Kubernetes quantity"],
  ];
  it.each(cases)("%s=%j", (annotation, value, rule) => {
    let error: unknown;
    try {
      injectPod(pod({ annotations: { [annotation]: value } }), OPTIONS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AnnotationInvalid);
    const invalid = error as AnnotationInvalid;
    expect(invalid.code).toBe("ERR_INVALID");
    expect(invalid.message).toContain(`pod "web-1" cannot be injected: annotation ${annotation}: `);
    expect(invalid.message).toContain(rule);
    expect(invalid.causes).toEqual([{ field: `metadata.annotations[${annotation}]`, message: expect.stringContaining(rule) }]);
  });

  it("names every bad annotation at once", () => {
    const p = pod({ annotations: { "traffic.sidecar.istio.io/includeInboundPorts": "99999", "traffic.sidecar.istio.io/excludeOutboundIPRanges": "nope" } });
    expect(() => injectPod(p, OPTIONS)).toThrow(/includeInboundPorts.*;.*excludeOutboundIPRanges|excludeOutboundIPRanges.*;.*includeInboundPorts/);
  });
});
