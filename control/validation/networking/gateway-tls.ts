/**
 * @module gateway-tls
 * Semantic rules for a Gateway server's TLS settings, as Istio's webhook applies them: which
 * certificate sources each mode needs or forbids (SIMPLE/MUTUAL need a credential or a
 * certificate and key, MUTUAL also a client CA, ISTIO_MUTUAL none at all), at most one
 * certificate source, and where a CRL may be used.
 */
import { type Obj, type Path, type Problems, asObject, asString, nonEmptyList, objectEntries } from "./vs-common.js";

/** The TLS mode in effect: proto3 defaults an unset mode to PASSTHROUGH. */
export function tlsMode(tls: Obj): string {
  return asString(tls.mode) ?? "PASSTHROUGH";
}

function filled(tls: Obj, key: string): boolean {
  return (asString(tls[key]) ?? "") !== "";
}

/** Checks `servers[i].tls`. */
export function checkServerTls(problems: Problems, path: Path, value: unknown): void {
  const tls = asObject(value);
  if (!tls) return;
  const mode = tlsMode(tls);
  const hasCredentialNames = nonEmptyList(tls.credentialNames);
  const hasTlsCertificates = nonEmptyList(tls.tlsCertificates);

  if (mode === "ISTIO_MUTUAL") {
    // ISTIO_MUTUAL uses the workload's own Istio certificates; nothing else may be given.
    const forbidden = ["serverCertificate", "privateKey", "caCertificates", "credentialName"].filter((k) => filled(tls, k));
    if (hasCredentialNames) forbidden.push("credentialNames");
    if (hasTlsCertificates) forbidden.push("tlsCertificates");
    for (const field of forbidden) problems.add([...path, field], `ISTIO_MUTUAL TLS uses Istio's own certificates, so ${field} must not be set`);
    return;
  }

  const sources = [
    filled(tls, "serverCertificate") && filled(tls, "privateKey") ? "serverCertificate/privateKey" : undefined,
    filled(tls, "credentialName") ? "credentialName" : undefined,
    hasCredentialNames ? "credentialNames" : undefined,
    hasTlsCertificates ? "tlsCertificates" : undefined,
  ].filter((s): s is string => s !== undefined);
  if (sources.length > 1) {
    problems.add(path, `only one certificate source may be set, got ${sources.join(", ")}: use one of credentialName, credentialNames, serverCertificate/privateKey or tlsCertificates`);
  }

  const terminating = mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL";
  const usesCredential = filled(tls, "credentialName") || hasCredentialNames;
  if (terminating && !usesCredential) {
    const prefix = mode === "SIMPLE" ? "SIMPLE TLS" : `${mode} TLS`;
    if (mode !== "SIMPLE" && !filled(tls, "caCertificates")) {
      problems.add([...path, "caCertificates"], `${prefix} requires a client CA bundle in caCertificates (or a credentialName holding one)`);
    }
    if (hasTlsCertificates) {
      for (const [i, cert] of objectEntries(tls.tlsCertificates)) {
        for (const field of ["serverCertificate", "privateKey"] as const) {
          if (!filled(cert, field)) problems.add([...path, "tlsCertificates", i, field], `${prefix} requires ${field} in every tlsCertificates entry`);
        }
      }
    } else {
      for (const field of ["serverCertificate", "privateKey"] as const) {
        if (!filled(tls, field)) problems.add([...path, field], `${prefix} requires ${field} (or credentialName)`);
      }
    }
  }

  if (filled(tls, "caCrl")) {
    if (filled(tls, "credentialName")) problems.add([...path, "caCrl"], "caCrl cannot be used with credentialName: put the CRL in the credential instead");
    if (mode === "SIMPLE") problems.add([...path, "caCrl"], "caCrl is not supported with SIMPLE TLS: a CRL only applies to client certificates (MUTUAL)");
  }
}
