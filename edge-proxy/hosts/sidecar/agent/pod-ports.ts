/**
 * @module hosts/sidecar/agent/pod-ports
 * The app containers' ports (ISTIO_META_POD_PORTS: the Pod spec's container ports as JSON,
 * `[{"containerPort":9080,"name":"http","protocol":"TCP"}]`) as the registry takes them: the number,
 * the name, and the Istio protocol the name implies by Istio's naming convention (`http`, `http-web`,
 * `grpc-api`, `tcp-db`: the part before the first dash; `grpc-web` whole). A UDP port is UDP; SCTP is
 * left out (the mesh does not carry it); a number listed twice (TCP and UDP) is registered once.
 */
import type { RegisteredPort } from "../../control-plane-client.js";

/** Istio's protocol names by the lowercase prefix of a port name. */
const PROTOCOL_BY_PREFIX = new Map(
  ["HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-Web", "HTTP_PROXY", "Mongo", "MySQL", "Redis", "TCP", "TLS", "UDP"].map((p) => [p.toLowerCase(), p]),
);
/** An IANA service name, as Kubernetes port names are. */
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The Istio protocol a port name implies, if any. */
export function protocolFromPortName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === "grpc-web" || lower.startsWith("grpc-web-")) return "GRPC-Web";
  return PROTOCOL_BY_PREFIX.get(lower.split("-")[0]!);
}

export type PodPortsParse = { ok: true; ports: RegisteredPort[] } | { ok: false; problems: string[] };

export function parsePodPorts(text: string): PodPortsParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problems: ['must be a JSON array of container ports, e.g. [{"containerPort":9080,"name":"http","protocol":"TCP"}]'] };
  }
  if (!Array.isArray(value)) return { ok: false, problems: ['must be a JSON array of container ports, e.g. [{"containerPort":9080,"name":"http","protocol":"TCP"}]'] };
  const problems: string[] = [];
  const ports: RegisteredPort[] = [];
  const seen = new Set<number>();
  value.forEach((entry: unknown, i) => {
    const at = `[${i}]`;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return void problems.push(`${at}: must be an object with containerPort`);
    const { containerPort, name, protocol } = entry as Record<string, unknown>;
    if (typeof containerPort !== "number" || !Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
      return void problems.push(`${at}.containerPort: must be a whole number from 1 to 65535`);
    }
    if (name !== undefined && (typeof name !== "string" || name.length > 15 || !PORT_NAME.test(name))) {
      return void problems.push(`${at}.name: must be an IANA service name: lowercase alphanumerics and '-', at most 15 characters`);
    }
    const transport = protocol === undefined ? "TCP" : protocol;
    if (transport !== "TCP" && transport !== "UDP" && transport !== "SCTP") return void problems.push(`${at}.protocol: must be TCP, UDP or SCTP`);
    if (transport === "SCTP" || seen.has(containerPort)) return;
    seen.add(containerPort);
    const istio = transport === "UDP" ? "UDP" : name !== undefined ? protocolFromPortName(name) : undefined;
    ports.push({ port: containerPort, ...(name !== undefined ? { name } : {}), ...(istio !== undefined ? { protocol: istio } : {}) });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, ports };
}
