/**
 * @module hosts/sidecar/run-sidecar
 * `weft sidecar`: the composition root of the Kubernetes sidecar, doing what pilot-agent and Envoy do
 * together. From the settings (env and flags, as pilot-agent reads them) it starts:
 *
 * - the certificate agent (key pair made here, CSR to the control plane's CA, renewal at about half
 *   the lifetime) and the config agent (register, stream with long-poll fallback, ACK/NACK,
 *   last-known-good config on disk);
 * - the proxy core with the mesh sender (mutual TLS to meshed endpoints) once a config is applied;
 * - the capture listeners 15001 (outbound) and 15006 (inbound: mTLS, PERMISSIVE sniffing, STRICT);
 * - the status ports: 15000 admin (loopback), 15020 merged metrics and `/quitquitquit`,
 *   15021 `/healthz/ready`, 15090 `/stats/prometheus`.
 *
 * Shutdown (SIGTERM, SIGINT or `/quitquitquit`): readiness fails at once, the capture listeners stop
 * accepting and in-flight requests finish (up to the drain duration), the registration is removed,
 * then the process exits 0.
 */
import type http from "node:http";
import type { ProxyConfig } from "../../core/config/proxy-config.js";
import { createProxy, type Proxy } from "../../core/proxy/proxy.js";
import { createAccessLog } from "../../core/telemetry/access-log.js";
import type { TelemetrySink } from "../../core/telemetry/types.js";
import { createControlPlaneClient } from "../control-plane-client.js";
import { adminApp, healthApp, prometheusApp, statusApp } from "./admin/admin-apps.js";
import { closeServer, serveApp } from "./admin/serve-apps.js";
import type { Readiness, SidecarView } from "./admin/sidecar-view.js";
import { createCertificateAgent } from "./agent/certificate-agent.js";
import { createSidecarConfigAgent } from "./agent/config-agent.js";
import { createCredential } from "./agent/credential.js";
import type { SidecarSettings } from "./agent/sidecar-settings.js";
import type { MeshTrust, SidecarLog } from "./sidecar-contracts.js";
import { createCaptureListeners } from "./traffic/capture-listeners.js";
import { createMeshSender } from "./traffic/mesh-sender.js";
import { createMeshTls } from "./traffic/mesh-tls.js";

/** Istio's sidecar ports. */
export const SIDECAR_PORTS = { outbound: 15001, inbound: 15006, admin: 15000, status: 15020, health: 15021, prometheus: 15090 } as const;
export type SidecarPorts = { -readonly [K in keyof typeof SIDECAR_PORTS]: number };

export interface RunSidecarOptions {
  settings: SidecarSettings;
  log: SidecarLog;
  /** Other ports (tests on loopback). Default SIDECAR_PORTS. */
  ports?: Partial<SidecarPorts>;
  /** Write one access-log line per request to this function (Istio's accessLogFile /dev/stdout). */
  accessLog?: (line: string) => void;
  now?: () => number;
}

export interface RunningSidecar {
  readonly view: SidecarView;
  /** Starts the graceful shutdown; resolves when it is over. Safe to call more than once. */
  shutdown(reason: string): Promise<void>;
  /** Resolves when the sidecar has shut down. */
  readonly done: Promise<void>;
}

export async function runSidecar(options: RunSidecarOptions): Promise<RunningSidecar> {
  const { settings, log } = options;
  const now = options.now ?? Date.now;
  const ports: SidecarPorts = { ...SIDECAR_PORTS, ...options.ports };
  const startedAt = now();

  const credential = createCredential(settings.credential);
  const client = createControlPlaneClient({ fetch: (request) => fetch(request), baseUrl: settings.controlPlaneUrl, token: () => credential.read(), registration: settings.registration });
  const certificates = createCertificateAgent({ controlPlaneUrl: settings.controlPlaneUrl, credential, identity: settings.identity, ...(settings.certificateTtl !== undefined ? { ttl: settings.certificateTtl } : {}), log });

  let proxy: Proxy | undefined;
  let applied: { version: string; source: "control-plane" | "disk" } | undefined;
  let draining = false;

  // The trust the capture side checks peers against: the config's roots and revocations, plus the CA
  // bundle the certificate agent fetched. Rebuilt only when either changes.
  // Read on every new mesh connection and attempt: compared field by field, no key string built per call.
  let trustOf: { version: string | undefined; count: number; first: number } | undefined;
  let trust: MeshTrust | undefined;
  const currentTrust = (): MeshTrust | undefined => {
    const configured = proxy?.config.trust;
    const caRoots = certificates.roots();
    const version = applied?.version;
    const first = caRoots[0]?.length ?? 0;
    if (trustOf !== undefined && trustOf.version === version && trustOf.count === caRoots.length && trustOf.first === first) return trust;
    trustOf = { version, count: caRoots.length, first };
    const roots = [...new Set([...(configured?.roots ?? []), ...caRoots])];
    trust = roots.length === 0 ? undefined : { trustDomain: configured?.trustDomain ?? settings.identity.trustDomain, roots, revokedSerials: new Set((configured?.revokedSerials ?? []).map((s) => s.toLowerCase())) };
    return trust;
  };
  const tls = { certificate: () => certificates.current(), trust: currentTrust };

  const ownPorts = new Set(Object.values(ports));
  // One TLS context cache (per certificate serial and roots) for both directions.
  const meshTls = createMeshTls(tls);
  const sender = createMeshSender({ tls, meshTls, log, ownPorts, podIp: settings.podIp });
  const telemetry: TelemetrySink[] = options.accessLog !== undefined ? [createAccessLog(options.accessLog)] : [];
  const apply = (config: ProxyConfig) => {
    if (proxy === undefined) proxy = createProxy(config, { send: sender.send, telemetry });
    else proxy.update(config);
  };
  const configs = createSidecarConfigAgent({ client, cacheDir: settings.dataDir, apply, log, onApplied: (version: string, source: "control-plane" | "disk") => (applied = { version, source }) });

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (draining) reasons.push("draining");
    if (applied === undefined) reasons.push("no config yet");
    if (certificates.current() === undefined) reasons.push("no certificate yet");
    return { ready: reasons.length === 0, reasons };
  };

  const capture = createCaptureListeners({
    outboundPort: ports.outbound,
    inboundPort: ports.inbound,
    // IPv6 Pods get a dual-stack listener; IPv4-mapped original destinations are read as IPv4.
    bindAddress: settings.podIp.includes(":") ? "::" : "0.0.0.0",
    podIp: settings.podIp,
    ownPorts,
    proxy: () => proxy,
    tls,
    meshTls,
    log,
  });

  let shutdownPromise: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const servers: http.Server[] = [];

  const view: SidecarView = {
    readiness,
    proxy: () => proxy,
    config: () => applied,
    certificate: () => certificates.current(),
    nextRenewalAt: () => certificates.nextRenewalAt(),
    trust: currentTrust,
    connections: () => capture.connections(),
    startedAt,
    now,
    quit: (reason) => void shutdown(reason),
  };

  const shutdown = (reason: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      draining = true;
      log({ level: "info", event: "draining", reason, drainMs: settings.drainDurationMs, connections: capture.connections() });
      await capture.drain(settings.drainDurationMs);
      // The registration is removed so peers stop sending here before the config's next heartbeat expiry.
      await configs.stop({ deregister: true }).catch((error: unknown) => log({ level: "warn", event: "deregister_failed", error: String(error) }));
      await certificates.stop();
      sender.close();
      await Promise.all(servers.map((s) => closeServer(s)));
      log({ level: "info", event: "stopped", reason });
      resolveDone();
    })();
    return shutdownPromise;
  };

  await capture.listen();
  servers.push(
    await serveApp(adminApp(view), ports.admin, "127.0.0.1"),
    await serveApp(statusApp(view, settings.appMetrics !== undefined ? { appMetrics: settings.appMetrics } : {}), ports.status, "0.0.0.0"),
    await serveApp(healthApp(view), ports.health, "0.0.0.0"),
    await serveApp(prometheusApp(view), ports.prometheus, "0.0.0.0"),
  );
  log({ level: "info", event: "listening", ports, proxy: client.proxyId, controlPlane: settings.controlPlaneUrl });

  // Neither agent's start rejects: each retries with backoff until it has what it needs (or stops).
  void certificates.start().then(() => log({ level: "info", event: "certificate_ready", spiffeId: certificates.current()?.spiffeId, serial: certificates.current()?.serial }));
  void configs.start().then(() => log({ level: "info", event: "config_ready", version: applied?.version, source: applied?.source }));

  return { view, shutdown, done };
}
