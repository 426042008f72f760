/**
 * @module name
 * X.501 Names: encoding the simple subjects the CA gives its own certificates, and rendering any
 * Name as RFC 4514 text for logs and messages (informational; identity comes from SANs only).
 */
import { decodeOid, derOid, derSequence, derSetOf, derUtf8String, readChildren, readDer, DerSyntaxError, type DerNode } from "./der.js";
import { OID } from "./oids.js";

const SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** A Name of CN and O attributes (each optional), as UTF8Strings, in the order O then CN. */
export function encodeName(attributes: { commonName?: string; organization?: string }): Uint8Array<ArrayBuffer> {
  const rdns: Uint8Array[] = [];
  if (attributes.organization !== undefined) rdns.push(derSetOf([derSequence([derOid(OID.organization), derUtf8String(attributes.organization)])]));
  if (attributes.commonName !== undefined) rdns.push(derSetOf([derSequence([derOid(OID.commonName), derUtf8String(attributes.commonName)])]));
  return derSequence(rdns);
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\",+;<>=]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  if (out.startsWith(" ") || out.startsWith("#")) out = `\\${out}`;
  if (out.endsWith(" ") && !out.endsWith("\\ ")) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function valueText(buf: Uint8Array, node: DerNode): string | undefined {
  const content = buf.subarray(node.contentStart, node.end);
  switch (node.tag) {
    case 0x0c: // UTF8String
      return new TextDecoder("utf-8", { fatal: true }).decode(content);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString, read as Latin-1 like most tools
      return String.fromCharCode(...content);
    case 0x1e: {
      // BMPString, UCS-2 big-endian
      if (content.length % 2 !== 0) return undefined;
      let s = "";
      for (let i = 0; i < content.length; i += 2) s += String.fromCharCode((content[i]! << 8) | content[i + 1]!);
      return s;
    }
    default:
      return undefined;
  }
}

/** RFC 4514 text of the DER Name at `node` ("" for the empty Name). Throws DerSyntaxError if malformed. */
export function nameToString(buf: Uint8Array, node: DerNode = readDer(buf, 0)): string {
  if (node.tag !== 0x30) throw new DerSyntaxError("Name is not a SEQUENCE");
  const rdns: string[] = [];
  for (const rdn of readChildren(buf, node)) {
    if (rdn.tag !== 0x31) throw new DerSyntaxError("RelativeDistinguishedName is not a SET");
    const avas: string[] = [];
    for (const ava of readChildren(buf, rdn)) {
      const [type, value] = readChildren(buf, ava);
      if (ava.tag !== 0x30 || type === undefined || value === undefined) throw new DerSyntaxError("AttributeTypeAndValue is malformed");
      const oid = decodeOid(buf, type);
      let text: string | undefined;
      try {
        text = valueText(buf, value);
      } catch {
        text = undefined;
      }
      avas.push(`${SHORT_NAMES[oid] ?? oid}=${text === undefined ? `#${hex(buf.subarray(value.start, value.end))}` : escapeValue(text)}`);
    }
    rdns.push(avas.join("+"));
  }
  return rdns.reverse().join(",");
}
