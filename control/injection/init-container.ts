/**
 * @module injection/init-container
 * The `weft-init` container: runs `weft-iptables` with the arguments Istio's template gives
 * `istio-iptables` (same flags, same order, same defaults), as root with only NET_ADMIN and NET_RAW.
 */
import { INBOUND_CAPTURE_PORT, INIT_CONTAINER_NAME, OUTBOUND_CAPTURE_PORT, PROXY_UID } from "./injection-options.js";
import type { InjectionSettings } from "./injection-settings.js";

/** The capture arguments: `-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,15020 [-q ..] [-o ..]`. */
export function iptablesArgs(settings: InjectionSettings): string[] {
  const args = [
    "-p", String(OUTBOUND_CAPTURE_PORT),
    "-z", String(INBOUND_CAPTURE_PORT),
    "-u", String(PROXY_UID),
    "-m", settings.interceptionMode,
    "-i", settings.includeOutboundIpRanges,
    "-x", settings.excludeOutboundIpRanges,
    "-b", settings.includeInboundPorts,
    "-d", settings.excludeInboundPorts,
  ];
  if (settings.includeOutboundPorts !== undefined) args.push("-q", settings.includeOutboundPorts);
  if (settings.excludeOutboundPorts !== undefined) args.push("-o", settings.excludeOutboundPorts);
  return args;
}

/** The init container that programs the pod's traffic capture. */
export function initContainer(settings: InjectionSettings, image: string): Record<string, unknown> {
  return {
    name: INIT_CONTAINER_NAME,
    image,
    command: ["weft-iptables"],
    args: iptablesArgs(settings),
    resources: structuredClone(settings.resources),
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
    },
  };
}
