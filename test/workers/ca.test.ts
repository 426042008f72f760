// The certificate authority through the Worker's fetch with real D1: bootstrap, issuance for every
// credential kind, own-identity-only refusals, TTLs, revocation and the CRL, the audit log, root
// rotation and plug-in CA import.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { env } from "cloudflare:test";
import { importJWK, SignJWT, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { keyPairFromPkcs8 } from "../../control/ca/ca-key.js";
import { call, json } from "./helpers.js";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as const;
const ISSUER = "https://kubernetes.default.svc.cluster.local";

async function csr(sans: { type: "url" | "dns"; value: string }[], algorithm: typeof EC | typeof RSA = EC): Promise<string> {
  const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: algorithm,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return request.toString("pem");
}

const id = (ns: string, sa: string, td = "cluster.local") => `spiffe://${td}/ns/${ns}/sa/${sa}`;

async function issue(token: string | null, body: unknown): Promise<Response> {
  return call("POST", "/v1/certificates", { token, body });
}

async function serviceAccountToken(claims: { ns: string; sa: string; aud?: string; exp?: number; iss?: string }, key?: CryptoKey): Promise<string> {
  const signingKey = key ?? ((await importJWK(JSON.parse(env.TEST_ISSUER_PRIVATE_JWK), "RS256")) as CryptoKey);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ "kubernetes.io": { namespace: claims.ns, serviceaccount: { name: claims.sa, uid: crypto.randomUUID() } } })
    .setProtectedHeader({ alg: "RS256", kid: "test-cluster" })
    .setIssuer(claims.iss ?? ISSUER)
    .setSubject(`system:serviceaccount:${claims.ns}:${claims.sa}`)
    .setAudience(claims.aud ?? "weft")
    .setIssuedAt(now - 60)
    .setExpirationTime(claims.exp ?? now + 600)
    .sign(signingKey);
}

async function joinToken(ns: string, sa: string): Promise<string> {
  const res = await call("POST", "/v1/join-tokens", { body: { namespace: ns, serviceAccount: sa, ttl: "1h" } });
  expect(res.status).toBe(201);
  return (await json(res)).token;
}

async function roots(): Promise<x509.X509Certificate[]> {
  const res = await call("GET", "/v1/ca/roots", { token: null });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/x-pem-file");
  return ((await res.text()).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new x509.X509Certificate(pem));
}

async function expectRefused(res: Response, status: number, text: string): Promise<void> {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.kind).toBe("Status");
  expect(body.message).toContain(text);
  expect((await json(await call("GET", "/v1/certificates"))).items).toEqual([]);
}

describe("bootstrap and trust bundle", () => {
  it("self-signs one ECDSA P-256 root for 10 years on first use and serves it without auth", async () => {
    const [root, ...rest] = await roots();
    expect(rest).toEqual([]);
    expect(root!.publicKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    expect(root!.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(true);
    const years = (root!.notAfter.getTime() - root!.notBefore.getTime()) / (365.25 * 86_400_000);
    expect(Math.round(years)).toBe(10);
    expect((await roots())[0]!.equal(root!)).toBe(true);
  });
});

describe("issuance", () => {
  it("an admin gets a SPIFFE leaf with the issue's extensions and a chain to the root", async () => {
    const res = await issue(env.WEFT_ADMIN_TOKEN, { csr: await csr([{ type: "url", value: id("default", "bookinfo") }]) });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.serial).toMatch(/^[0-9a-f]{16,40}$/);
    expect(body.certChain).toHaveLength(2);
    const [leaf, root] = body.certChain.map((p: string) => new x509.X509Certificate(p));
    expect(leaf.serialNumber.toLowerCase().replace(/^0+/, "")).toBe(body.serial.replace(/^0+/, ""));
    expect(leaf.subject).toBe("");
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.names.toJSON()).toEqual([{ type: "url", value: id("default", "bookinfo") }]);
    expect(leaf.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false);
    expect(leaf.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(root.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(await leaf.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
    expect(root.equal((await roots())[0]!)).toBe(true);
    const hours = (leaf.notAfter.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    expect(Math.abs(Date.parse(body.expiresAt) - leaf.notAfter.getTime())).toBeLessThan(1000);
  });

  it("accepts RSA 2048 CSRs (Istio's default) and a TTL up to the maximum", async () => {
    const res = await issue(env.WEFT_ADMIN_TOKEN, { csr: await csr([{ type: "url", value: id("default", "reviews") }], RSA), ttl: "48h" });
    expect(res.status).toBe(201);
    const leaf = new x509.X509Certificate((await json(res)).certChain[0]);
    expect(leaf.publicKey.algorithm.name).toBe("RSASSA-PKCS1-v1_5");
    expect(Math.round((leaf.notAfter.getTime() - Date.now()) / 3_600_000)).toBe(48);
  });

  it("a Kubernetes service-account JWT gets its own identity, and the audit log records it", async () => {
    const token = await serviceAccountToken({ ns: "shop", sa: "cart" });
    const res = await issue(token, { csr: await csr([{ type: "url", value: id("shop", "cart") }]) });
    expect(res.status).toBe(201);
    const serial = (await json(res)).serial;
    const audit = await json(await call("GET", "/v1/certificates"));
    expect(audit.items).toEqual([
      expect.objectContaining({ serial, spiffeId: id("shop", "cart"), namespace: "shop", serviceAccount: "cart", requester: "system:serviceaccount:shop:cart", revokedAt: null }),
    ]);
  });

  it("a join token gets its own identity; a CSR without a SAN is filled with it", async () => {
    const token = await joinToken("vms", "billing");
    const res = await issue(token, { csr: await csr([]) });
    expect(res.status).toBe(201);
    const leaf = new x509.X509Certificate((await json(res)).certChain[0]);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([{ type: "url", value: id("vms", "billing") }]);
  });
});

describe("refusals store nothing", () => {
  it("no credential → 401; a viewer token → 403", async () => {
    await expectRefused(await issue(null, { csr: await csr([{ type: "url", value: id("default", "a") }]) }), 401, "missing credential");
    const viewer = (await json(await call("POST", "/v1/tokens", { body: { name: "v", role: "viewer" } }))).token;
    await expectRefused(await issue(viewer, { csr: await csr([{ type: "url", value: id("default", "a") }]) }), 403, "viewer");
  });

  it("another identity, another trust domain, extra SANs → 403 with a named reason", async () => {
    const token = await serviceAccountToken({ ns: "shop", sa: "cart" });
    await expectRefused(await issue(token, { csr: await csr([{ type: "url", value: id("shop", "payments") }]) }), 403, "for its own identity only");
    await expectRefused(await issue(token, { csr: await csr([{ type: "url", value: id("shop", "cart", "evil.example") }]) }), 403, 'trust domain "evil.example"');
    await expectRefused(await issue(token, { csr: await csr([{ type: "url", value: id("shop", "cart") }, { type: "dns", value: "cart.shop.svc" }]) }), 403, "extra subject alternative names");
    const res = await json(await issue(token, { csr: await csr([{ type: "url", value: id("shop", "payments") }]) }));
    expect(res.reason).toBe("Forbidden");
    expect(res.details.causes[0].reason).toBe("IdentityMismatch");
  });

  it("forged, expired, wrong-audience and unknown-issuer JWTs → 401", async () => {
    const csrPem = await csr([{ type: "url", value: id("shop", "cart") }]);
    const { privateKey: otherKey } = await generateKeyPair("RS256");
    await expectRefused(await issue(await serviceAccountToken({ ns: "shop", sa: "cart" }, otherKey as CryptoKey), { csr: csrPem }), 401, "signature");
    await expectRefused(await issue(await serviceAccountToken({ ns: "shop", sa: "cart", exp: Math.floor(Date.now() / 1000) - 3600 }), { csr: csrPem }), 401, "expired");
    await expectRefused(await issue(await serviceAccountToken({ ns: "shop", sa: "cart", aud: "istio-ca" }), { csr: csrPem }), 401, "audience");
    await expectRefused(await issue(await serviceAccountToken({ ns: "shop", sa: "cart", iss: "https://other.example" }), { csr: csrPem }), 401, "unknown issuer");
  });

  it("garbage and a bad CSR signature → 400; a TTL over the maximum → 400 with the limit", async () => {
    await expectRefused(await issue(env.WEFT_ADMIN_TOKEN, { csr: "not a csr" }), 400, "");
    const good = await csr([{ type: "url", value: id("default", "a") }]);
    const der = Uint8Array.from(atob(good.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    der[der.length - 5] = der[der.length - 5]! ^ 0xff; // inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${btoa(String.fromCharCode(...der))}\n-----END CERTIFICATE REQUEST-----\n`;
    await expectRefused(await issue(env.WEFT_ADMIN_TOKEN, { csr: tampered }), 400, "signature");
    const long = await issue(env.WEFT_ADMIN_TOKEN, { csr: good, ttl: "721h" });
    const longBody = await json(long.clone());
    expect(longBody.details.causes[0].reason).toBe("TtlTooLong");
    await expectRefused(long, 400, "maximum certificate lifetime of 720h");
    await expectRefused(await issue(env.WEFT_ADMIN_TOKEN, { csr: good, tll: "1h" }), 422, "tll");
  });
});

describe("revocation", () => {
  it("an admin revokes; the CRL (no auth) lists the serial, signed by the issuing CA", async () => {
    const serial = (await json(await issue(env.WEFT_ADMIN_TOKEN, { csr: await csr([{ type: "url", value: id("default", "old") }]) }))).serial;
    const viewer = (await json(await call("POST", "/v1/tokens", { body: { name: "v", role: "viewer" } }))).token;
    expect((await call("POST", `/v1/certificates/${serial}/revoke`, { token: viewer, body: {} })).status).toBe(403);
    expect((await call("POST", "/v1/certificates/abcdef0123/revoke", { body: {} })).status).toBe(404);
    const res = await call("POST", `/v1/certificates/${serial}/revoke`, { body: { reason: "key compromise" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ serial, reason: "key compromise" });
    const crlRes = await call("GET", "/v1/ca/crl", { token: null });
    expect(crlRes.status).toBe(200);
    const crl = new x509.X509Crl(await crlRes.text());
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^0+/, ""))).toEqual([serial.replace(/^0+/, "")]);
    const [root] = await roots();
    expect(await crl.verify({ publicKey: root!.publicKey })).toBe(true);
    const audit = await json(await call("GET", "/v1/certificates"));
    expect(audit.items[0].revokedAt).not.toBeNull();
  });
});

describe("root rotation and plug-in CA", () => {
  async function selfSignedRoot(name: string) {
    const keys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: `CN=${name}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * 86_400_000),
      keys,
      signingAlgorithm: EC,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
    });
    return { cert, keys };
  }

  it("serves old and new roots side by side until one is retired; the issuer's own root cannot be retired", async () => {
    const [original] = await roots();
    const next = await selfSignedRoot("Next Root");
    const added = await call("POST", "/v1/ca/roots", { body: { certificate: next.cert.toString("pem") } });
    expect(added.status).toBe(201);
    const { fingerprint } = await json(added);
    expect(await roots()).toHaveLength(2);
    const originalFp = Array.from(new Uint8Array(await original!.getThumbprint("SHA-256")), (b) => b.toString(16).padStart(2, "0")).join("");
    const refused = await call("DELETE", `/v1/ca/roots/${originalFp}`);
    expect(refused.status).toBe(409);
    expect((await json(refused)).message).toContain("anchors the issuing CA");
    expect((await call("DELETE", `/v1/ca/roots/${fingerprint}`)).status).toBe(200);
    expect((await roots()).map((r) => r.subject)).toEqual([original!.subject]);
    const list = await json(await call("GET", "/v1/ca/roots/list"));
    expect(list.items.find((r: { fingerprint: string }) => r.fingerprint === fingerprint).retiredAt).not.toBeNull();
  });

  it("imports an intermediate signed by the operator's root; leaves chain leaf → intermediate → operator root", async () => {
    await roots(); // the self-signed bootstrap root exists first
    const operator = await selfSignedRoot("Operator Root");
    const caKeys = await keyPairFromPkcs8(env.WEFT_CA_KEY);
    const intermediate = await x509.X509CertificateGenerator.create({
      serialNumber: "02",
      subject: "CN=Weft Intermediate",
      issuer: operator.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 180 * 86_400_000),
      publicKey: caKeys.publicKey,
      signingKey: operator.keys.privateKey,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(operator.keys.publicKey),
      ],
    });
    const wrongRoot = await selfSignedRoot("Wrong Root");
    const broken = await call("POST", "/v1/ca/import", { body: { certificate: intermediate.toString("pem"), chain: [], root: wrongRoot.cert.toString("pem") } });
    expect(broken.status).toBe(400);
    expect((await json(broken)).message).toContain("does not verify");

    const res = await call("POST", "/v1/ca/import", { body: { certificate: intermediate.toString("pem"), chain: [intermediate.toString("pem"), operator.cert.toString("pem")], root: operator.cert.toString("pem") } });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
    expect((await roots()).map((r) => r.subject)).toEqual(expect.arrayContaining(["CN=Operator Root"]));
    const issued = await json(await issue(env.WEFT_ADMIN_TOKEN, { csr: await csr([{ type: "url", value: id("default", "plugged") }]) }));
    const [leaf, inter, root] = issued.certChain.map((p: string) => new x509.X509Certificate(p));
    expect(issued.certChain).toHaveLength(3);
    expect(inter.subject).toBe("CN=Weft Intermediate");
    expect(root.equal(operator.cert)).toBe(true);
    expect(await leaf.verify({ publicKey: inter.publicKey, signatureOnly: true })).toBe(true);
    expect(await inter.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
  });
});
