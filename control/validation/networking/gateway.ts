/**
 * @module gateway
 * Validates a Gateway spec the way Istio's admission webhook does: the strict structural schema
 * first, then the semantic rules on the raw spec: at least one server; each server's hosts
 * (`host` or `namespace/host`), port (number, supported protocol, name, no targetPort), bind
 * address, and whether its protocol needs, allows or forbids TLS settings; unique port and
 * server names. Reports every problem found with its full field path; never throws.
 */
import type { FieldError } from "../../errors.js";
import { checkSchema, ipVersion } from "../primitives.js";
import type { SpecValidator } from "../types.js";
import { checkServerTls, tlsMode } from "./gateway-tls.js";
import { gatewaySchema } from "./gateway-schema.js";
import {
  type Obj,
  type Path,
  Problems,
  asNumber,
  asObject,
  asString,
  isDns1123Label,
  isIpAddress,
  nonEmptyList,
  objectEntries,
  stringEntries,
  wildcardDomainProblem,
} from "./vs-common.js";

const UNIX_PREFIX = "unix://";

/** Protocols Istio recognises (case-insensitive), and which of them are HTTP or carried over TLS. */
const PROTOCOLS = new Set(["http", "https", "grpc", "grpc-web", "http2", "http_proxy", "mongo", "redis", "mysql", "tcp", "udp", "tls"]);
const HTTP_PROTOCOLS = new Set(["http", "http2", "http_proxy", "grpc", "grpc-web"]);
const TLS_PROTOCOLS = new Set(["https", "tls"]);

export const validateGateway: SpecValidator = (spec: unknown): FieldError[] => {
  try {
    const errors = checkSchema(gatewaySchema, spec, ["spec"]);
    const obj = asObject(spec);
    if (!obj) return errors;
    const problems = new Problems();
    checkGateway(problems, obj);
    return [...errors, ...problems.list];
  } catch (err) {
    // Defensive: a validator must never throw on bad input.
    return [{ field: "spec", message: `internal validation error: ${(err as Error).message}` }];
  }
};

function checkGateway(problems: Problems, spec: Obj): void {
  if (!nonEmptyList(spec.servers)) problems.add(["spec", "servers"], "a Gateway must have at least one server");
  const portNames = new Map<string, number>();
  const serverNames = new Map<string, number>();
  for (const [i, server] of objectEntries(spec.servers)) {
    const path = ["spec", "servers", i];
    checkServer(problems, path, server);
    const portName = asString(asObject(server.port)?.name);
    if (portName !== undefined) {
      const first = portNames.get(portName);
      if (first !== undefined) problems.add([...path, "port", "name"], `duplicate port name "${portName}": port names must be unique across servers (also used by spec.servers[${first}])`);
      else portNames.set(portName, i);
    }
    const serverName = asString(server.name);
    if (serverName !== undefined && serverName !== "") {
      const first = serverNames.get(serverName);
      if (first !== undefined) problems.add([...path, "name"], `duplicate server name "${serverName}": server names must be unique (also used by spec.servers[${first}])`);
      else serverNames.set(serverName, i);
    }
  }
}

function checkServer(problems: Problems, path: Path, server: Obj): void {
  if (!nonEmptyList(server.hosts)) problems.add([...path, "hosts"], "server must have at least one host (use \"*\" to match every host)");
  for (const [i, host] of stringEntries(server.hosts)) problems.addIf([...path, "hosts", i], serverHostProblem(host));

  const bind = asString(server.bind) ?? "";
  const port = asObject(server.port);
  const portOk = port ? checkPort(problems, [...path, "port"], port, bind) : false;
  checkBind(problems, path, bind, port);
  checkServerTls(problems, [...path, "tls"], server.tls);

  // Whether the protocol needs, allows or forbids TLS settings (only judged when the port is valid).
  const protocol = asString(port?.protocol)?.toLowerCase();
  const tls = asObject(server.tls);
  if (!portOk || protocol === undefined) return;
  if (TLS_PROTOCOLS.has(protocol) && !tls) {
    problems.add([...path, "tls"], `server must have TLS settings for HTTPS/TLS protocols (protocol is ${port?.protocol})`);
  } else if (!TLS_PROTOCOLS.has(protocol) && tls) {
    if (!HTTP_PROTOCOLS.has(protocol)) {
      problems.add([...path, "tls"], `server cannot have TLS settings for non HTTPS/TLS ports (protocol is ${port?.protocol})`);
    } else {
      // A plain-text HTTP server may only carry `httpsRedirect` (mode left at PASSTHROUGH, no certificates).
      const passthrough = ["PASSTHROUGH", "AUTO_PASSTHROUGH"].includes(tlsMode(tls));
      const certs = ["caCertificates", "privateKey", "serverCertificate"].some((k) => (asString(tls[k]) ?? "") !== "");
      if (!passthrough || certs) {
        problems.add([...path, "tls"], `server cannot have TLS settings for plain text HTTP ports (protocol is ${port?.protocol}): only httpsRedirect may be set`);
      }
    }
  }
}

/** Returns true when the port is usable (its protocol is known and its number valid). */
function checkPort(problems: Problems, path: Path, port: Obj, bind: string): boolean {
  let ok = true;
  const protocol = asString(port.protocol);
  if (protocol !== undefined && !PROTOCOLS.has(protocol.toLowerCase())) {
    problems.add([...path, "protocol"], `unsupported protocol "${protocol}": use one of HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS (also REDIS, MYSQL, UDP, HTTP_PROXY)`);
    ok = false;
  }
  const number = asNumber(port.number);
  if (number !== undefined && Number.isInteger(number) && (number > 0 || !bind.startsWith(UNIX_PREFIX)) && (number < 1 || number > 65535)) {
    problems.add([...path, "number"], `port must be between 1-65535, got ${number}`);
    ok = false;
  }
  const target = asNumber(port.targetPort);
  if (target !== undefined && target > 0) problems.add([...path, "targetPort"], "targetPort has no effect on Gateways: remove it");
  if (asString(port.name) === "") problems.add([...path, "name"], "port name must be set");
  return ok && protocol !== undefined && number !== undefined;
}

/** `bind`: an IP address, or `unix://<absolute path>` (then the port number must be 0). */
function checkBind(problems: Problems, serverPath: Path, bind: string, port: Obj | undefined): void {
  if (bind === "") return;
  const path = [...serverPath, "bind"];
  if (bind.startsWith(UNIX_PREFIX)) {
    const socket = bind.slice(UNIX_PREFIX.length);
    if (socket === "") problems.add(path, "unix domain socket path must not be empty");
    else if (!socket.startsWith("@") && (!socket.startsWith("/") || socket.endsWith("/"))) {
      problems.add(path, `invalid bind "${bind}": ${socket} is not an absolute path to a file`);
    }
    const number = asNumber(port?.number);
    if (number !== undefined && number !== 0) problems.add([...serverPath, "port", "number"], `port number must be 0 for a server bound to a unix domain socket, got ${number}`);
    return;
  }
  if (ipVersion(bind) === undefined) problems.add(path, `invalid bind "${bind}": must be an IP address or unix://<path>`);
}

/**
 * A server host: `[namespace/]dnsName`. The namespace may be `*`, `.` or a namespace name; the
 * name must be a FQDN (no short names), `*`, `*.<domain>` (no partial wildcards) or an IP address.
 */
export function serverHostProblem(host: string): string | undefined {
  const slash = host.indexOf("/");
  if (slash >= 0) {
    const ns = host.slice(0, slash);
    const name = host.slice(slash + 1);
    if (ns === "" || name === "") return `invalid host "${host}": namespace and host name in "namespace/host" must both be non-empty`;
    if (ns !== "*" && ns !== "." && !isDns1123Label(ns)) return `invalid host "${host}": namespace "${ns}" must be "*", "." or a namespace name (DNS-1123 label)`;
    const problem = hostNameProblem(name);
    return problem ? `invalid host "${host}": ${problem}` : undefined;
  }
  return hostNameProblem(host);
}

function hostNameProblem(name: string): string | undefined {
  if (isIpAddress(name)) return undefined;
  if (name !== "*" && !name.includes(".")) return `short name "${name}" is not allowed in a Gateway: use a fully qualified domain name or "*"`;
  if (name.includes("*") && name !== "*" && !name.startsWith("*.")) return `partial wildcard "${name}" is not allowed: use "*" or "*.<domain>"`;
  return wildcardDomainProblem(name);
}
