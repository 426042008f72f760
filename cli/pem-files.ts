/**
 * @module cli/pem-files
 * Reads the PEM files the `weft ca` commands take (Istio's plug-in CA layout: ca-cert.pem,
 * ca-key.pem, cert-chain.pem, root-cert.pem) and checks them before anything is sent: each must exist
 * and hold what its flag promises. Every failure is an `InputError` naming the flag and the file.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "./errors.js";

export interface PemBlock {
  /** The label: `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`. */
  type: string;
  /** The whole block, BEGIN to END line, with a final newline. */
  pem: string;
}

export interface CertificateFile {
  pem: string;
  certificate: X509Certificate;
}

/** Every PEM block of `text`, in order. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g)) {
    blocks.push({ type: match[1]!, pem: match[0].replace(/\r\n/g, "\n") + "\n" });
  }
  return blocks;
}

/** `--cert ca-cert.pem`: how a file is named in errors. */
function where(flag: string, path: string): string {
  return `${flag} ${path}`;
}

/** Reads a file relative to `cwd` (`-` is standard input when `stdin` is given). */
export async function readInputFile(flag: string, path: string, cwd: string, stdin?: () => Promise<string>): Promise<string> {
  if (path === "-" && stdin) return stdin();
  try {
    return readFileSync(resolve(cwd, path), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`${where(flag, path)}: no such file`);
    if (code === "EISDIR") throw new InputError(`${where(flag, path)}: is a directory, not a PEM file`);
    throw new InputError(`${where(flag, path)}: cannot read it: ${(err as Error).message}`);
  }
}

/** The certificates in `text`, each checked to parse; `count` "one" refuses a file holding several. */
export function certificatesIn(flag: string, path: string, text: string, count: "one" | "some"): CertificateFile[] {
  const blocks = pemBlocks(text);
  const certificates = blocks.filter((b) => b.type === "CERTIFICATE" || b.type === "TRUSTED CERTIFICATE");
  if (certificates.length === 0) {
    const found = blocks.length > 0 ? `it holds ${blocks.map((b) => b.type).join(", ")}` : "it holds no PEM block";
    throw new InputError(`${where(flag, path)}: not a PEM certificate (-----BEGIN CERTIFICATE-----): ${found}`);
  }
  if (count === "one" && certificates.length > 1) {
    throw new InputError(`${where(flag, path)}: holds ${certificates.length} certificates; give a file with exactly one`);
  }
  return certificates.map((block, i) => {
    try {
      return { pem: block.pem, certificate: new X509Certificate(block.pem) };
    } catch (err) {
      const which = certificates.length > 1 ? ` (certificate ${i + 1})` : "";
      throw new InputError(`${where(flag, path)}${which}: not a valid X.509 certificate: ${(err as Error).message}`);
    }
  });
}

/** The PKCS#8 private key in `text`, as a key object and a normalized PEM. */
export function pkcs8KeyIn(flag: string, path: string, text: string): { key: KeyObject; pem: string } {
  const blocks = pemBlocks(text);
  const types = blocks.map((b) => b.type);
  const convert = `convert it with: openssl pkcs8 -topk8 -nocrypt -in ${path} -out ca-key.pkcs8.pem`;
  if (types.includes("EC PRIVATE KEY")) {
    throw new InputError(`${where(flag, path)}: an EC private key in SEC1 form (BEGIN EC PRIVATE KEY); Weft takes a PKCS#8 key (BEGIN PRIVATE KEY): ${convert}`);
  }
  if (types.includes("RSA PRIVATE KEY")) {
    throw new InputError(`${where(flag, path)}: an RSA private key in PKCS#1 form (BEGIN RSA PRIVATE KEY); Weft takes a PKCS#8 key (BEGIN PRIVATE KEY): ${convert}`);
  }
  if (types.includes("ENCRYPTED PRIVATE KEY")) {
    throw new InputError(`${where(flag, path)}: the private key is encrypted; Weft takes an unencrypted PKCS#8 key: decrypt it with: openssl pkcs8 -topk8 -nocrypt -in ${path} -out ca-key.pkcs8.pem`);
  }
  const block = blocks.find((b) => b.type === "PRIVATE KEY");
  if (!block) {
    const found = blocks.length > 0 ? `it holds ${types.join(", ")}` : "it holds no PEM block";
    throw new InputError(`${where(flag, path)}: not a PKCS#8 private key (-----BEGIN PRIVATE KEY-----): ${found}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.pem, format: "pem" });
  } catch (err) {
    throw new InputError(`${where(flag, path)}: not a valid PKCS#8 private key: ${(err as Error).message}`);
  }
  return { key, pem: key.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** `CN=Weft Root CA, O=cluster.local` from node's one-attribute-per-line form. */
export function subjectLine(certificate: X509Certificate): string {
  return certificate.subject.split("\n").filter(Boolean).join(", ");
}
