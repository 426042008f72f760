/**
 * @module injection/injection-options
 * What the injector needs from its host (the webhook route or `weft kube-inject`), and the names and
 * ports it shares with Istio's sidecar template.
 */

/** The proxy image used when the host names none. */
export const DEFAULT_PROXY_IMAGE = "ghcr.io/weft/proxy:0.1.0";

/** The injected containers and the proxy's identity, as the iptables rules expect them. */
export const INIT_CONTAINER_NAME = "weft-init";
export const PROXY_CONTAINER_NAME = "weft-proxy";
export const PROXY_UID = 1337;

/** Ports Istio's template uses: Envoy's outbound and inbound capture, Prometheus stats, health, agent status. */
export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;
export const PROMETHEUS_PORT = 15090;
export const HEALTH_PORT = 15021;
export const STATUS_PORT = 15020;

/** The projected service-account token the proxy presents to the control plane. */
export const TOKEN_AUDIENCE = "weft";
export const TOKEN_EXPIRATION_SECONDS = 43200;
export const TOKEN_DIRECTORY = "/var/run/secrets/tokens";

/** The effective ProxyConfig (Istio's `meshConfig.defaultConfig` shape), as parsed JSON. */
export type ProxyConfigValues = Record<string, unknown>;

export interface InjectionOptions {
  /** The sidecar image (also runs the init container's `weft-iptables`). */
  image: string;
  /** The control plane's public URL, handed to the proxy as WEFT_CONTROL_PLANE_URL. */
  controlPlaneUrl: string;
  /** Whether a pod that neither asks for nor refuses a sidecar gets one (Istio's `global.proxy.autoInject`). */
  defaultPolicy: "enabled" | "disabled";
  /** Mesh-wide ProxyConfig defaults; a pod's `proxy.istio.io/config` annotation overrides them. */
  proxyConfig?: ProxyConfigValues;
  /** The pod's namespace when its metadata names none (an AdmissionReview's `request.namespace`). */
  namespace?: string;
  /** The workload's name when the host knows it (kube-inject: the Deployment's); else read from the pod's owner. */
  workloadName?: string;
}
