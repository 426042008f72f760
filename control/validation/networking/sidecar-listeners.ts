/**
 * @module sidecar-listeners
 * The listeners of a Sidecar: ingress (a required port with a valid number, name and protocol,
 * unique port numbers, an IP bind, a defaultEndpoint of the loopback/any form or a Unix socket, TLS
 * termination limited to what a sidecar supports, per-port connection pool) and egress (an optional
 * port — 0 means a Unix-socket bind — unique ports and sockets, at most one port-less listener and
 * it last, and hosts in `namespace/dnsName` form).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { hostProblem } from "../primitives.js";
import { checkConnectionPool, connectionPoolSchema } from "./traffic-policy.js";
import {
  arr,
  dnsLabelProblem,
  fieldError,
  hasText,
  intRange,
  isIp,
  isSet,
  isTlsProtocol,
  num,
  obj,
  protocolProblem,
  str,
  unixAddressProblem,
  UNIX_PREFIX,
  type Path,
} from "./we-common.js";

const sidecarPortSchema = z.strictObject({
  /** Unset means 0, which on an egress listener selects a Unix-socket bind. */
  number: intRange(0, 65535, "port number").optional(),
  protocol: z.string().optional(),
  name: z.string().optional(),
  /** Deprecated, has no effect. */
  targetPort: intRange(0, 65535, "targetPort").optional(),
});

const CAPTURE_MODES = ["DEFAULT", "IPTABLES", "NONE"] as const;
const TLS_VERSIONS = ["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"] as const;

const serverTlsSchema = z.strictObject({
  httpsRedirect: z.boolean().optional(),
  mode: z.enum(["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"]).optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  credentialName: z.string().optional(),
  credentialNames: z.array(z.string()).optional(),
  tlsCertificates: z
    .array(z.strictObject({ serverCertificate: z.string().optional(), privateKey: z.string().optional(), caCertificates: z.string().optional() }))
    .optional(),
  subjectAltNames: z.array(z.string()).optional(),
  verifyCertificateSpki: z.array(z.string()).optional(),
  verifyCertificateHash: z.array(z.string()).optional(),
  minProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  maxProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  cipherSuites: z.array(z.string()).optional(),
});

export const ingressListenerSchema = z.strictObject({
  port: sidecarPortSchema.optional(),
  bind: z.string().optional(),
  captureMode: z.enum(CAPTURE_MODES).optional(),
  defaultEndpoint: z.string().optional(),
  tls: serverTlsSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
});

export const egressListenerSchema = z.strictObject({
  port: sidecarPortSchema.optional(),
  bind: z.string().optional(),
  captureMode: z.enum(CAPTURE_MODES).optional(),
  hosts: z.array(z.string()),
});

/** Port name (if any) and protocol of a SidecarPort. */
function checkPortNameAndProtocol(p: Record<string, unknown>, at: Path): FieldError[] {
  const out: FieldError[] = [];
  const name = str(p.name);
  if (name) {
    const problem = dnsLabelProblem(name, "port name");
    if (problem) out.push(fieldError([...at, "name"], problem));
  }
  const protocol = str(p.protocol);
  const problem = protocol === undefined ? undefined : protocolProblem(protocol);
  if (problem) out.push(fieldError([...at, "protocol"], problem));
  return out;
}

/** The port number, 0 when unset, undefined when it is not a number (the schema reports that). */
function portNumber(p: Record<string, unknown>): number | undefined {
  return p.number === undefined ? 0 : num(p.number);
}

function bindProblem(bind: string): string | undefined {
  return isIp(bind) ? undefined : `bind "${bind}" must be an IPv4 or IPv6 address`;
}

export function checkIngress(raw: unknown, path: Path): FieldError[] {
  const out: FieldError[] = [];
  const ports = new Set<number>();
  arr(raw)?.forEach((entry, i) => {
    const listener = obj(entry);
    if (!listener) return;
    const at: Path = [...path, i];
    const p = obj(listener.port);
    if (!isSet(listener, "port")) out.push(fieldError([...at, "port"], "Required value: port is required for ingress listeners"));
    if (p) {
      out.push(...checkPortNameAndProtocol(p, [...at, "port"]));
      const n = portNumber(p);
      if (n === 0) out.push(fieldError([...at, "port", "number"], "port must be between 1-65535, got 0 (ingress listeners cannot bind a Unix domain socket)"));
      if (n !== undefined && n !== 0) {
        if (ports.has(n)) out.push(fieldError([...at, "port", "number"], `Duplicate value: ${n}: ports on IP bound listeners must be unique`));
        ports.add(n);
      }
    }
    const bind = str(listener.bind);
    if (bind) {
      const problem = bind.startsWith(UNIX_PREFIX) ? `ingress listeners cannot bind a Unix domain socket, got "${bind}"` : bindProblem(bind);
      if (problem) out.push(fieldError([...at, "bind"], problem));
    }
    const endpoint = str(listener.defaultEndpoint);
    if (endpoint) {
      const problem = defaultEndpointProblem(endpoint);
      if (problem) out.push(fieldError([...at, "defaultEndpoint"], problem));
    }
    out.push(...checkServerTls(listener.tls, [...at, "tls"], str(p?.protocol) ?? ""));
    out.push(...checkConnectionPool(listener.connectionPool, [...at, "connectionPool"]));
  });
  return out;
}

const ENDPOINT_HOSTS = new Set(["", "127.0.0.1", "0.0.0.0", "::1", "::"]);

/** `127.0.0.1:PORT`, `[::1]:PORT`, `0.0.0.0:PORT`, `[::]:PORT`, `:PORT` or `unix:///path`. */
function defaultEndpointProblem(endpoint: string): string | undefined {
  if (endpoint.startsWith(UNIX_PREFIX)) return unixAddressProblem(endpoint);
  const form = "defaultEndpoint must be of form 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port>, unix://filepath, or unset";
  let host: string;
  let portText: string;
  if (endpoint.startsWith("[")) {
    const close = endpoint.indexOf("]:");
    if (close < 0) return `invalid defaultEndpoint "${endpoint}": ${form}`;
    host = endpoint.slice(1, close);
    portText = endpoint.slice(close + 2);
  } else {
    const colon = endpoint.lastIndexOf(":");
    if (colon < 0 || endpoint.indexOf(":") !== colon) return `invalid defaultEndpoint "${endpoint}": ${form}`;
    host = endpoint.slice(0, colon);
    portText = endpoint.slice(colon + 1);
  }
  if (!ENDPOINT_HOSTS.has(host)) return `invalid defaultEndpoint "${endpoint}": ${form}`;
  if (!/^\d+$/.test(portText)) return `defaultEndpoint port "${portText}" is not a number`;
  const n = Number(portText);
  if (n < 1 || n > 65535) return `defaultEndpoint port must be between 1-65535, got ${n}`;
  return undefined;
}

function checkServerTls(raw: unknown, path: Path, protocol: string): FieldError[] {
  const tls = obj(raw);
  if (!tls) return [];
  const out: FieldError[] = [];
  if ((arr(tls.subjectAltNames)?.length ?? 0) > 0) out.push(fieldError([...path, "subjectAltNames"], "subjectAltNames is not supported in sidecar ingress tls"));
  if (tls.httpsRedirect === true) out.push(fieldError([...path, "httpsRedirect"], "httpsRedirect is not supported in sidecar ingress tls"));
  if (hasText(tls, "credentialName") || (arr(tls.credentialNames)?.length ?? 0) > 0) {
    out.push(fieldError([...path, hasText(tls, "credentialName") ? "credentialName" : "credentialNames"], "credentialName is not currently supported in sidecar ingress tls"));
  }
  const mode = typeof tls.mode === "string" ? tls.mode : "PASSTHROUGH";
  if (mode === "ISTIO_MUTUAL" || mode === "AUTO_PASSTHROUGH") {
    out.push(fieldError([...path, "mode"], `cannot set mode to ${mode} in sidecar ingress tls`));
  }
  if (!isTlsProtocol(protocol)) {
    out.push(fieldError(path, `server cannot have TLS settings for non HTTPS/TLS ports, got protocol "${protocol}"`));
  }
  const hasCertList = (arr(tls.tlsCertificates)?.length ?? 0) > 0;
  if ((mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") && !hasCertList) {
    if (!hasText(tls, "serverCertificate")) out.push(fieldError([...path, "serverCertificate"], `${mode} TLS requires a server certificate`));
    if (!hasText(tls, "privateKey")) out.push(fieldError([...path, "privateKey"], `${mode} TLS requires a private key`));
    if (mode !== "SIMPLE" && !hasText(tls, "caCertificates")) out.push(fieldError([...path, "caCertificates"], `${mode} TLS requires a client CA bundle`));
  }
  const min = str(tls.minProtocolVersion);
  const max = str(tls.maxProtocolVersion);
  if (min && max && min !== "TLS_AUTO" && max !== "TLS_AUTO" && min > max) {
    out.push(fieldError([...path, "minProtocolVersion"], `minProtocolVersion ${min} cannot be greater than maxProtocolVersion ${max}`));
  }
  return out;
}

export function checkEgress(raw: unknown, path: Path): FieldError[] {
  const out: FieldError[] = [];
  const listeners = arr(raw) ?? [];
  const ports = new Set<number>();
  const sockets = new Set<string>();
  let portless = false;
  listeners.forEach((entry, i) => {
    const listener = obj(entry);
    if (!listener) return;
    const at: Path = [...path, i];
    const p = obj(listener.port);
    const bind = str(listener.bind) ?? "";
    if (!isSet(listener, "port")) {
      if (portless) out.push(fieldError(at, "egress can have only one listener with empty port"));
      else if (i !== listeners.length - 1) out.push(fieldError(at, "the egress listener with empty port should be the last listener in the list"));
      portless = true;
      if (bind) out.push(fieldError([...at, "bind"], `port must be specified when bind is set, got bind "${bind}"`));
    } else if (p) {
      out.push(...checkPortNameAndProtocol(p, [...at, "port"]));
      const n = portNumber(p);
      if (n === 0) {
        if (!bind.startsWith(UNIX_PREFIX)) out.push(fieldError([...at, "bind"], "ports with 0 value must have a unix domain socket bind address"));
        else {
          const problem = unixAddressProblem(bind);
          if (problem) out.push(fieldError([...at, "bind"], problem));
          if (sockets.has(bind)) out.push(fieldError([...at, "bind"], `Duplicate value: "${bind}": unix domain socket values for listeners must be unique`));
          sockets.add(bind);
        }
        const mode = listener.captureMode;
        if (mode !== undefined && mode !== "DEFAULT" && mode !== "NONE") {
          out.push(fieldError([...at, "captureMode"], `captureMode must be DEFAULT/NONE for unix domain socket listeners, got ${String(mode)}`));
        }
      } else if (n !== undefined) {
        if (ports.has(n)) out.push(fieldError([...at, "port", "number"], `Duplicate value: ${n}: ports on IP bound listeners must be unique`));
        ports.add(n);
        if (bind) {
          const problem = bindProblem(bind);
          if (problem) out.push(fieldError([...at, "bind"], problem));
        }
      }
    }
    const hosts = arr(listener.hosts);
    if (hosts && hosts.length === 0) out.push(fieldError([...at, "hosts"], "Required value: egress listener must contain at least one host"));
    hosts?.forEach((h, j) => {
      if (typeof h !== "string") return;
      const problem = egressHostProblem(h);
      if (problem) out.push(fieldError([...at, "hosts", j], problem));
    });
  });
  return out;
}

/** `namespace/dnsName`: namespace `*`, `.`, `~` or a name; dnsName `*`, a wildcard domain or an FQDN. */
export function egressHostProblem(host: string): string | undefined {
  const slash = host.indexOf("/");
  if (slash < 0) return `invalid egress host "${host}": host must be of form namespace/dnsName`;
  const ns = host.slice(0, slash);
  const dnsName = host.slice(slash + 1);
  if (ns === "" || dnsName === "") return `invalid egress host "${host}": config namespace and dnsName in host entry cannot be empty`;
  if (ns !== "*" && ns !== "." && ns !== "~" && dnsLabelProblem(ns, "namespace")) {
    return `invalid namespace value "${ns}" in sidecar egress host "${host}": use "*", ".", "~" or a namespace name`;
  }
  if (dnsName === "*") return undefined;
  const problem = hostProblem(dnsName);
  return problem ? `invalid egress host "${host}": ${problem}` : undefined;
}
