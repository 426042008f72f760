/**
 * @module hosts/sidecar/traffic/upstream-checks
 * What both of the sidecar's upstream senders (mesh-sender for the web pipeline, raw-upstreams for the
 * fast path) check and log before and after an attempt, so they refuse and report the same way: an
 * endpoint that is one of the sidecar's own ports (a loop), a TLS mode it cannot originate, mesh
 * credentials that are missing or unusable, and a server whose identity or handshake was refused. Every
 * warning is rate-limited by the caller's `warn`.
 */
import type tls from "node:tls";
import { UpstreamFailure, type UpstreamTarget } from "../../../core/proxy/host.js";
import { PEER_REFUSED, type MeshCredentials, type MeshTls } from "./mesh-tls.js";
import { isOwnDestination } from "./own-destination.js";

/** A rate-limited warning: `key` names what repeats. */
export type UpstreamWarn = (key: string, event: Record<string, unknown>) => void;

export interface UpstreamChecks {
  /** The failure for an endpoint on one of the sidecar's own listener ports, or undefined. */
  refuseOwn(target: UpstreamTarget): UpstreamFailure | undefined;
  /** The failure for a TLS mode that cannot be originated (MUTUAL without client credentials). */
  unsupported(target: UpstreamTarget, reason: string): UpstreamFailure;
  /** The current mesh credentials, or the failure when there are none (yet) or they are unusable. */
  meshCredentials(): MeshCredentials | UpstreamFailure;
  /** Logs a refused server identity or a failed handshake of a TLS attempt. */
  noteTlsFailure(error: unknown, target: UpstreamTarget): void;
}

export function createUpstreamChecks(options: { meshTls: MeshTls; warn: UpstreamWarn; ownPorts: ReadonlySet<number>; podIp: string | undefined }): UpstreamChecks {
  const { meshTls, warn, ownPorts, podIp } = options;
  return {
    refuseOwn(target) {
      const { address, port } = target.endpoint;
      if (!isOwnDestination(address, port, ownPorts, podIp)) return undefined;
      warn(`loop|${address}:${port}`, { event: "upstream_loop_refused", cluster: target.cluster.name, endpoint: `${address}:${port}` });
      return new UpstreamFailure("connect-failure", `${address}:${port} is one of the sidecar's own ports`);
    },
    unsupported(target, reason) {
      warn(`unsupported|${target.cluster.name}`, { event: "upstream_tls_unsupported", cluster: target.cluster.name, reason });
      return new UpstreamFailure("connect-failure", reason);
    },
    meshCredentials() {
      let creds: MeshCredentials | undefined;
      try {
        creds = meshTls.credentials();
      } catch (error) {
        warn("credentials", { event: "mesh_tls_credentials_unusable", error: (error as Error).message });
        return new UpstreamFailure("connect-failure", `mesh TLS: ${(error as Error).message}`, { cause: error });
      }
      return creds ?? new UpstreamFailure("connect-failure", "mesh TLS: no workload certificate or trust roots yet");
    },
    noteTlsFailure(error, target) {
      const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
      if (cause?.code === PEER_REFUSED || (cause?.code !== undefined && /CERT|SSL|TLS/.test(cause.code))) {
        const endpoint = `${target.endpoint.address}:${target.endpoint.port}`;
        warn(`tls|${endpoint}|${cause.message}`, { event: "upstream_tls_refused", cluster: target.cluster.name, endpoint, code: cause.code, error: cause.message });
      }
    },
  };
}

/**
 * checkServerIdentity for SIMPLE TLS origination with DestinationRule `subjectAltNames`: the server's
 * certificate must name one of them (any SAN type).
 */
export function subjectAltNamesCheck(expected: readonly string[]): NonNullable<tls.ConnectionOptions["checkServerIdentity"]> {
  return (host, cert) => {
    const names = (cert.subjectaltname ?? "").split(", ").map((entry) => entry.slice(entry.indexOf(":") + 1));
    return expected.some((name) => names.includes(name)) ? undefined : Object.assign(new Error(`${host}: the certificate names none of ${expected.join(", ")}`), { code: PEER_REFUSED });
  };
}
