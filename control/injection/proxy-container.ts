/**
 * @module injection/proxy-container
 * The `weft-proxy` sidecar container and the volumes it needs, after Istio's `istio-proxy`: runs
 * `weft sidecar` as uid/gid 1337 on a read-only root filesystem with no capabilities; declares only
 * Envoy's Prometheus port (15090, as Istio does); readiness and startup probes on 15021
 * `/healthz/ready`; the environment pilot-agent gets (downward API, ProxyConfig, ISTIO_META_*); a
 * projected service-account token for the control plane; emptyDirs for what it writes.
 */
import { isRecord, type Obj } from "../validation/raw-value.js";
import {
  HEALTH_PORT,
  PROMETHEUS_PORT,
  PROXY_CONTAINER_NAME,
  PROXY_UID,
  TOKEN_AUDIENCE,
  TOKEN_DIRECTORY,
  TOKEN_EXPIRATION_SECONDS,
  type InjectionOptions,
} from "./injection-options.js";
import type { InjectionSettings } from "./injection-settings.js";
import type { PodView } from "./pod-view.js";

/** The volumes added to the pod, each with where the proxy mounts it. */
const VOLUMES: ReadonlyArray<{ volume: Obj; mountPath: string }> = [
  { volume: { name: "workload-socket", emptyDir: {} }, mountPath: "/var/run/secrets/workload-spiffe-uds" },
  { volume: { name: "workload-certs", emptyDir: {} }, mountPath: "/var/run/secrets/workload-spiffe-credentials" },
  { volume: { name: "istio-envoy", emptyDir: { medium: "Memory" } }, mountPath: "/etc/istio/proxy" },
  { volume: { name: "istio-data", emptyDir: {} }, mountPath: "/var/lib/istio/data" },
  {
    volume: {
      name: "istio-podinfo",
      downwardAPI: {
        items: [
          { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
          { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
        ],
      },
    },
    mountPath: "/etc/istio/pod",
  },
  {
    volume: {
      name: "istio-token",
      projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: "istio-token" } }] },
    },
    mountPath: TOKEN_DIRECTORY,
  },
];

/** The volumes the proxy needs, in the order they are added. */
export function proxyVolumes(): Obj[] {
  return VOLUMES.map((v) => structuredClone(v.volume));
}

/** The command a postStart hook runs to hold the app until the proxy is ready. */
export const WAIT_FOR_PROXY_COMMAND = ["weft", "sidecar", "wait"];

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

function healthProbe(extra: Obj): Obj {
  return { httpGet: { path: "/healthz/ready", port: HEALTH_PORT }, timeoutSeconds: 3, ...extra };
}

function environment(pod: PodView, settings: InjectionSettings, options: InjectionOptions, workload: string): Obj[] {
  const env: Obj[] = [
    fieldEnv("POD_NAME", "metadata.name"),
    fieldEnv("POD_NAMESPACE", "metadata.namespace"),
    fieldEnv("INSTANCE_IP", "status.podIP"),
    fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
    fieldEnv("HOST_IP", "status.hostIP"),
    { name: "WEFT_CONTROL_PLANE_URL", value: options.controlPlaneUrl },
  ];
  if (Object.keys(settings.proxyConfig.values).length > 0) env.push({ name: "PROXY_CONFIG", value: JSON.stringify(settings.proxyConfig.values) });
  const ports = pod.containers.flatMap((c) => (Array.isArray(c.ports) ? c.ports.filter(isRecord) : []));
  if (ports.length > 0) env.push({ name: "ISTIO_META_POD_PORTS", value: JSON.stringify(ports) });
  const names = pod.containers.map((c) => c.name).filter((n): n is string => typeof n === "string");
  env.push({ name: "ISTIO_META_APP_CONTAINERS", value: names.join(",") });
  env.push({ name: "ISTIO_META_INTERCEPTION_MODE", value: settings.interceptionMode });
  if (workload !== "") env.push({ name: "ISTIO_META_WORKLOAD_NAME", value: workload });
  for (const [name, value] of Object.entries(settings.proxyConfig.proxyMetadata)) {
    const existing = env.findIndex((e) => e.name === name);
    if (existing >= 0) env.splice(existing, 1);
    env.push({ name, value });
  }
  return env;
}

/** The sidecar container for `pod`. */
export function proxyContainer(pod: PodView, settings: InjectionSettings, options: InjectionOptions, workload: string): Obj {
  const container: Obj = {
    name: PROXY_CONTAINER_NAME,
    image: options.image,
    command: ["weft"],
    args: ["sidecar"],
    ports: [{ name: "http-envoy-prom", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
    env: environment(pod, settings, options, workload),
    resources: structuredClone(settings.resources),
    readinessProbe: healthProbe(settings.readiness),
    startupProbe: healthProbe({ initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 600 }),
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    },
    volumeMounts: VOLUMES.map((v) => ({ name: v.volume.name, mountPath: v.mountPath })),
  };
  if (settings.proxyConfig.holdApplicationUntilProxyStarts) {
    container.lifecycle = { postStart: { exec: { command: WAIT_FOR_PROXY_COMMAND } } };
  }
  return container;
}
