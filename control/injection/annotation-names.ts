/**
 * @module injection/annotation-names
 * The Istio labels and annotations the injector reads and writes, by their Istio names.
 */

export const INJECT = "sidecar.istio.io/inject";
export const STATUS = "sidecar.istio.io/status";
export const INTERCEPTION_MODE = "sidecar.istio.io/interceptionMode";
export const INCLUDE_OUTBOUND_IP_RANGES = "traffic.sidecar.istio.io/includeOutboundIPRanges";
export const EXCLUDE_OUTBOUND_IP_RANGES = "traffic.sidecar.istio.io/excludeOutboundIPRanges";
export const INCLUDE_INBOUND_PORTS = "traffic.sidecar.istio.io/includeInboundPorts";
export const EXCLUDE_INBOUND_PORTS = "traffic.sidecar.istio.io/excludeInboundPorts";
export const INCLUDE_OUTBOUND_PORTS = "traffic.sidecar.istio.io/includeOutboundPorts";
export const EXCLUDE_OUTBOUND_PORTS = "traffic.sidecar.istio.io/excludeOutboundPorts";
export const PROXY_CONFIG = "proxy.istio.io/config";
export const READINESS_INITIAL_DELAY = "readiness.status.sidecar.istio.io/initialDelaySeconds";
export const READINESS_PERIOD = "readiness.status.sidecar.istio.io/periodSeconds";
export const READINESS_FAILURE_THRESHOLD = "readiness.status.sidecar.istio.io/failureThreshold";
export const PROXY_CPU = "sidecar.istio.io/proxyCPU";
export const PROXY_MEMORY = "sidecar.istio.io/proxyMemory";
export const PROXY_CPU_LIMIT = "sidecar.istio.io/proxyCPULimit";
export const PROXY_MEMORY_LIMIT = "sidecar.istio.io/proxyMemoryLimit";

/** Labels written onto an injected pod. */
export const TLS_MODE_LABEL = "security.istio.io/tlsMode";
export const CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";
export const CANONICAL_REVISION_LABEL = "service.istio.io/canonical-revision";
export const DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container";
export const DEFAULT_LOGS_CONTAINER = "kubectl.kubernetes.io/default-logs-container";
