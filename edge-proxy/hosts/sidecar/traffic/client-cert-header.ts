/**
 * @module hosts/sidecar/traffic/client-cert-header
 * The `X-Forwarded-Client-Cert` header of an inbound request, as an Istio sidecar's inbound listener
 * sets it (Envoy's forward_client_cert_details APPEND_FORWARD with Subject, URI and DNS): over mutual
 * TLS the client certificate's element `By=<our SPIFFE ID>;Hash=<SHA-256 of its DER, hex>;
 * Subject="<its subject>";URI=<its SPIFFE ID>` is appended to what the caller sent; over plain text
 * a received header is removed, since nothing vouches for it.
 */
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate } from "node:tls";
import type { HeaderMap } from "../../../core/http/header-list.js";

export const XFCC = "x-forwarded-client-cert";

const quote = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/** This hop's XFCC element for a verified client certificate. */
export function clientCertElement(ourSpiffeId: string, certificate: DetailedPeerCertificate, peerSpiffeId: string): string {
  const hash = certificate.fingerprint256.replaceAll(":", "").toLowerCase();
  let subject = "";
  let dns: string[] = [];
  try {
    const x509 = new X509Certificate(certificate.raw);
    // X509Certificate prints the subject one attribute per line, in certificate order; RFC 2253 reverses it.
    const printed = x509.subject as string | undefined; // undefined for an empty subject (SPIFFE leaves)
    subject = printed === undefined || printed === "" ? "" : printed.split("\n").reverse().join(",");
    dns = (x509.subjectAltName ?? "")
      .split(", ")
      .filter((entry) => entry.startsWith("DNS:"))
      .map((entry) => entry.slice(4));
  } catch {
    // The chain was verified already; an unparsable certificate just yields no subject.
  }
  return [`By=${ourSpiffeId}`, `Hash=${hash}`, `Subject=${quote(subject)}`, `URI=${peerSpiffeId}`, ...dns.map((name) => `DNS=${name}`)].join(";");
}

/** Sets (mutual TLS: appends `element`) or removes (plain text: `element` undefined) the header. */
export function applyClientCertHeader(headers: HeaderMap, element: string | undefined): void {
  if (element === undefined) {
    headers.delete(XFCC);
    return;
  }
  const received = headers.get(XFCC);
  headers.set(XFCC, received === null || received === "" ? element : `${received},${element}`);
}
