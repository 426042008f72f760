/**
 * @module subject-alt-name
 * Reads a subjectAltName extension value (RFC 5280 §4.2.1.6 GeneralNames) into the four name kinds
 * a workload may ask for. Other GeneralName kinds are skipped; they never reach a certificate.
 */
import { formatIpv6 } from "../../../edge-proxy/core/security/ip-block.js";
import { DerSyntaxError, readChildren, readDer } from "./der.js";

export interface SubjectAltNames {
  uris: string[];
  dns: string[];
  ips: string[];
  emails: string[];
}

function ia5(buf: Uint8Array, start: number, end: number, what: string): string {
  let s = "";
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c > 0x7e || c < 0x20) throw new DerSyntaxError(`${what} SAN has a byte that is not printable ASCII`);
    s += String.fromCharCode(c);
  }
  return s;
}


/** The names in a DER GeneralNames (the subjectAltName extnValue's content). */
export function readSubjectAltNames(value: Uint8Array): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dns: [], ips: [], emails: [] };
  const seq = readDer(value, 0);
  if (seq.tag !== 0x30 || seq.end !== value.length) throw new DerSyntaxError("subjectAltName is not one GeneralNames SEQUENCE");
  for (const name of readChildren(value, seq)) {
    const { contentStart: s, end: e } = name;
    switch (name.tag) {
      case 0x81:
        names.emails.push(ia5(value, s, e, "rfc822Name"));
        break;
      case 0x82:
        names.dns.push(ia5(value, s, e, "dNSName"));
        break;
      case 0x86:
        names.uris.push(ia5(value, s, e, "URI"));
        break;
      case 0x87:
        if (e - s === 4) names.ips.push(Array.from(value.subarray(s, e)).join("."));
        else if (e - s === 16) names.ips.push(formatIpv6(value.subarray(s, e)));
        else throw new DerSyntaxError(`iPAddress SAN has ${e - s} bytes; expected 4 or 16`);
        break;
      default:
        if ((name.tag & 0xc0) !== 0x80) throw new DerSyntaxError("GeneralName is not context-tagged");
    }
  }
  if (names.uris.length + names.dns.length + names.ips.length + names.emails.length === 0 && seq.end === seq.contentStart) {
    throw new DerSyntaxError("subjectAltName is empty");
  }
  return names;
}
