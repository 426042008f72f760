/**
 * @module ca/ca-key
 * The CA private key from its secret: PKCS#8 PEM (real or `\n`-escaped newlines, as .dev.vars and
 * `wrangler secret put` may carry it) or bare base64 DER, normalized to PEM; and the public half
 * of an EC P-256 key, derived so a root can be self-signed from the secret alone.
 */
import { CaNotReady } from "../errors.js";

/** Normalizes the secret to a PKCS#8 PEM, or throws CaNotReady naming the problem. */
export function normalizeCaKey(secret: string): string {
  const text = secret.trim().replace(/\\n/g, "\n");
  const body = text.includes("-----BEGIN")
    ? text.match(/-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/)?.[1]
    : text;
  if (body === undefined) {
    throw new CaNotReady("WEFT_CA_KEY must be a PKCS#8 private key (-----BEGIN PRIVATE KEY-----); convert an EC key with `openssl pkcs8 -topk8 -nocrypt`");
  }
  const b64 = body.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) throw new CaNotReady("WEFT_CA_KEY is not valid base64 PKCS#8");
  return `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Imports the PKCS#8 EC P-256 key and derives its public key, for self-signing a root. */
export async function keyPairFromPkcs8(pem: string): Promise<CryptoKeyPair> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", pemBody(pem) as Uint8Array<ArrayBuffer>, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  } catch (err) {
    throw new CaNotReady(`WEFT_CA_KEY is not an ECDSA P-256 PKCS#8 key: ${(err as Error).message}`);
  }
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  const publicKey = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true }, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
  return { privateKey, publicKey };
}
