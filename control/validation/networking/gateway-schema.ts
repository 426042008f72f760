/**
 * @module gateway-schema
 * The structural shape of Istio's Gateway spec (networking.istio.io v1/v1beta1/v1alpha3) as
 * strict zod objects: unknown fields, wrong types and bad enum values are reported here.
 * Semantic rules (hosts, ports, protocols, TLS combinations) live in gateway.ts and gateway-tls.ts.
 */
import { z } from "zod";
import { labelMap } from "../primitives.js";
import { intRange } from "./vs-schema.js";

const str = z.string().optional();
const strList = z.array(z.string()).optional();

export const TLS_MODES = ["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"] as const;
const TLS_VERSIONS = ["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"] as const;

const gatewayPort = z.strictObject({
  // 0 is allowed by the schema for servers bound to a unix domain socket; gateway.ts checks the range.
  number: intRange(0, 4294967295, "port number"),
  protocol: z.string(),
  name: z.string(),
  targetPort: intRange(0, 4294967295, "targetPort").optional(),
});

const tlsCertificate = z.strictObject({ serverCertificate: str, privateKey: str, caCertificates: str });

export const serverTlsSchema = z.strictObject({
  httpsRedirect: z.boolean().optional(),
  mode: z.enum(TLS_MODES).optional(),
  serverCertificate: str,
  privateKey: str,
  caCertificates: str,
  caCrl: str,
  credentialName: str,
  credentialNames: strList,
  tlsCertificates: z.array(tlsCertificate).optional(),
  subjectAltNames: strList,
  verifyCertificateSpki: strList,
  verifyCertificateHash: strList,
  minProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  maxProtocolVersion: z.enum(TLS_VERSIONS).optional(),
  cipherSuites: strList,
});

const server = z.strictObject({
  port: gatewayPort,
  bind: str,
  hosts: strList,
  tls: serverTlsSchema.optional(),
  defaultEndpoint: str,
  name: str,
});

/** The whole Gateway spec. */
export const gatewaySchema = z.strictObject({
  servers: z.array(server).optional(),
  selector: labelMap.optional(),
});
