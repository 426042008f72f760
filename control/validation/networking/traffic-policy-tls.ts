/**
 * @module traffic-policy-tls
 * ClientTLSSettings, the upstream TLS of a DestinationRule traffic policy: mode DISABLE, SIMPLE,
 * MUTUAL or ISTIO_MUTUAL; MUTUAL needs a client certificate and private key unless a
 * credentialName supplies them; file paths and credentialName are exclusive; with
 * insecureSkipVerify there is nothing to verify against (no CA, CRL or subjectAltNames).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { arr, fieldError, hasText, obj, type Path } from "./we-common.js";

export const clientTlsSchema = z.strictObject({
  mode: z.enum(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().nullable().optional(),
  caCrl: z.string().optional(),
});

const FILE_FIELDS = ["clientCertificate", "privateKey", "caCertificates", "caCrl"] as const;

/** Cross-field rules of a ClientTLSSettings at `path`. */
export function checkClientTls(raw: unknown, path: Path): FieldError[] {
  const tls = obj(raw);
  if (!tls) return [];
  const out: FieldError[] = [];
  const mode = tls.mode;
  const originates = mode === "SIMPLE" || mode === "MUTUAL";

  if (originates && hasText(tls, "credentialName")) {
    for (const f of FILE_FIELDS) {
      if (hasText(tls, f)) {
        out.push(fieldError([...path, f], `cannot specify client certificates, CA certificate or CA CRL when credentialName "${String(tls.credentialName)}" is set`));
      }
    }
    return out; // the credential supplies certificate and key
  }
  if (mode === "MUTUAL") {
    if (!hasText(tls, "clientCertificate")) out.push(fieldError([...path, "clientCertificate"], "client certificate required for MUTUAL tls mode (or set credentialName)"));
    if (!hasText(tls, "privateKey")) out.push(fieldError([...path, "privateKey"], "private key required for MUTUAL tls mode (or set credentialName)"));
  }
  if (originates && tls.insecureSkipVerify === true) {
    if ((arr(tls.subjectAltNames)?.length ?? 0) > 0) out.push(fieldError([...path, "subjectAltNames"], "cannot specify subjectAltNames when insecureSkipVerify is true"));
    if (hasText(tls, "caCertificates")) out.push(fieldError([...path, "caCertificates"], "cannot specify caCertificates when insecureSkipVerify is true"));
    if (hasText(tls, "caCrl")) out.push(fieldError([...path, "caCrl"], "cannot specify caCrl when insecureSkipVerify is true"));
  }
  return out;
}
