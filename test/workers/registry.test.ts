// The service registry through the Worker's fetch with real D1: registration with every credential
// kind (join token, service-account JWT, workload certificate proof, admin), own-identity-only
// refusals, field-named 400s that store nothing, heartbeats, deregistration, expiry with a frozen
// clock and through the cron handler, the registry revision, and Kubernetes sync.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createScheduledController, env } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../../workers/control-plane.js";
import {
  expireRegistrations,
  getRegistration,
  heartbeatRegistration,
  listKubeObjects,
  listRegistrations,
  readRegistryRevision,
  upsertRegistration,
  type WorkloadRecord,
} from "../../control/registry/registry-store.js";
import { call, json } from "./helpers.js";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const ISSUER = "https://kubernetes.default.svc.cluster.local";
const WORKLOADS = "/v1/registry/workloads";
const db = () => drizzle(env.DB);
const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

function workload(overrides: Record<string, unknown> = {}) {
  return {
    name: "reviews-v1-0",
    namespace: "shop",
    serviceAccount: "reviews",
    address: "10.244.0.7",
    labels: { app: "reviews", version: "v1" },
    ports: [{ port: 9080, name: "http", protocol: "HTTP" }],
    node: "node-1",
    ...overrides,
  };
}

async function joinToken(ns: string, sa: string): Promise<string> {
  const res = await call("POST", "/v1/join-tokens", { body: { namespace: ns, serviceAccount: sa, ttl: "1h" } });
  expect(res.status).toBe(201);
  return (await json(res)).token;
}

async function serviceAccountToken(ns: string, sa: string): Promise<string> {
  const key = (await importJWK(JSON.parse(env.TEST_ISSUER_PRIVATE_JWK), "RS256")) as CryptoKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ "kubernetes.io": { namespace: ns, serviceaccount: { name: sa, uid: crypto.randomUUID() } } })
    .setProtectedHeader({ alg: "RS256", kid: "test-cluster" })
    .setIssuer(ISSUER)
    .setSubject(`system:serviceaccount:${ns}:${sa}`)
    .setAudience("weft")
    .setIssuedAt(now - 60)
    .setExpirationTime(now + 600)
    .sign(key);
}

async function viewerToken(): Promise<string> {
  return (await json(await call("POST", "/v1/tokens", { body: { name: "viewer", role: "viewer" } }))).token;
}

/** A workload certificate from the CA for ns/sa: its key and chain (leaf first, PEM). */
async function workloadCertificate(ns: string, sa: string): Promise<{ keys: CryptoKeyPair; chain: string[]; serial: string }> {
  const keys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: EC, extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffe(ns, sa) }])] });
  const res = await call("POST", "/v1/certificates", { body: { csr: csr.toString("pem") } });
  expect(res.status).toBe(201);
  const issued = await json(res);
  return { keys, chain: issued.certChain, serial: issued.serial };
}

const base64Der = (pem: string) => pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");

/** The proof: a JWT signed by the certificate's key, the chain in x5c. */
async function certificateProof(keys: CryptoKeyPair, chain: string[], claims: { aud?: string; exp?: number; iat?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: chain.map(base64Der) })
    .setAudience(claims.aud ?? "weft-control-plane")
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(keys.privateKey);
}

async function register(token: string | null, body: unknown): Promise<Response> {
  return call("POST", WORKLOADS, { token, body });
}

async function revision(): Promise<number> {
  return readRegistryRevision(db());
}

async function expectRefused(res: Response, status: number, text: string, cause?: string): Promise<any> {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.kind).toBe("Status");
  expect(body.message).toContain(text);
  if (cause) expect(body.details.causes[0].reason).toBe(cause);
  return body;
}

describe("registration with each credential", () => {
  it("a join token registers its own workload: 201 with the id, defaults and expiry; again → 200", async () => {
    const token = await joinToken("shop", "reviews");
    const before = Date.now();
    const res = await register(token, workload());
    expect(res.status).toBe(201);
    const reg = await json(res);
    expect(reg).toMatchObject({
      id: "reviews-v1-0.shop",
      name: "reviews-v1-0",
      namespace: "shop",
      serviceAccount: "reviews",
      address: "10.244.0.7",
      labels: { app: "reviews", version: "v1" },
      ports: [{ port: 9080, name: "http", protocol: "HTTP" }],
      node: "node-1",
      kind: "sidecar",
      gateways: [],
      registeredBy: expect.stringMatching(/^join-token:/),
    });
    expect(Date.parse(reg.expiresAt) - Date.parse(reg.lastSeenAt)).toBe(90_000);
    expect(Date.parse(reg.registeredAt)).toBeGreaterThanOrEqual(before - 5);
    const again = await register(token, workload());
    expect(again.status).toBe(200);
    expect((await json(again)).registeredAt).toBe(reg.registeredAt);
    expect((await json(await call("GET", WORKLOADS))).items.map((r: any) => r.id)).toEqual(["reviews-v1-0.shop"]);
  });

  it("a Kubernetes service-account JWT registers a gateway with its gateways and an IPv6 address", async () => {
    const res = await register(await serviceAccountToken("istio-system", "ingress"), {
      name: "ingress-7d9f",
      namespace: "istio-system",
      serviceAccount: "ingress",
      address: "fd00::1:7",
      kind: "gateway",
      gateways: ["shop/web", "istio-system/public"],
      ports: [{ port: 8443 }, { port: 8080, protocol: "http" }],
      ttl: "2m",
    });
    expect(res.status).toBe(201);
    const reg = await json(res);
    expect(reg).toMatchObject({ id: "ingress-7d9f.istio-system", kind: "gateway", gateways: ["istio-system/public", "shop/web"], registeredBy: "system:serviceaccount:istio-system:ingress" });
    expect(reg.ports).toEqual([{ port: 8080, protocol: "HTTP" }, { port: 8443 }]);
    expect(reg.node).toBeUndefined();
    expect(Date.parse(reg.expiresAt) - Date.parse(reg.lastSeenAt)).toBe(120_000);
  });

  it("a workload certificate proof (ES256, x5c chain to the CA's root) registers its own workload", async () => {
    const { keys, chain } = await workloadCertificate("shop", "reviews");
    const res = await register(await certificateProof(keys, chain), workload());
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    expect((await json(res)).registeredBy).toBe(spiffe("shop", "reviews"));
    // The leaf alone (without the root) chains to the trust anchor too.
    expect((await register(await certificateProof(keys, chain.slice(0, 1)), workload())).status).toBe(200);
  });

  it("refuses a certificate proof that is revoked, expired, too long-lived, for another audience, signed by another key or not from this CA", async () => {
    const { keys, chain, serial } = await workloadCertificate("shop", "reviews");
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await register(await certificateProof(keys, chain, { aud: "istio-ca" }), workload()), 401, "wrong audience");
    await expectRefused(await register(await certificateProof(keys, chain, { iat: now - 900, exp: now - 600 }), workload()), 401, "expired");
    await expectRefused(await register(await certificateProof(keys, chain, { exp: now + 3600 }), workload()), 401, "at most 600s");
    const other = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
    await expectRefused(await register(await certificateProof(other, chain), workload()), 401, "signature");
    const forged = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "CN=forged",
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      keys: other,
      signingAlgorithm: EC,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffe("shop", "reviews") }])],
    });
    await expectRefused(await register(await certificateProof(other, [forged.toString("pem")]), workload()), 401, "does not lead to a trust anchor");
    expect((await call("POST", `/v1/certificates/${serial}/revoke`, { body: {} })).status).toBe(200);
    await expectRefused(await register(await certificateProof(keys, chain), workload()), 401, "revoked");
    expect(await listRegistrations(db(), new Date())).toEqual([]);
  });

  it("the admin token and an admin API token register anything; a viewer token cannot; no credential → 401", async () => {
    expect((await register(env.WEFT_ADMIN_TOKEN, workload({ namespace: "vms", serviceAccount: "billing", name: "vm-1" }))).status).toBe(201);
    const adminApi = (await json(await call("POST", "/v1/tokens", { body: { name: "ops", role: "admin" } }))).token;
    const res = await register(adminApi, workload({ name: "vm-2", namespace: "vms", serviceAccount: "billing" }));
    expect(res.status).toBe(201);
    expect((await json(res)).registeredBy).toBe("api-token:ops");
    await expectRefused(await register(await viewerToken(), workload()), 403, "viewer");
    await expectRefused(await register(null, workload()), 401, "missing credential");
    await expectRefused(await register("not-a-token", workload()), 401, "invalid bearer token");
  });
});

describe("refusals store nothing", () => {
  it("a workload credential registering another namespace or service account → 403 RegistrationIdentityMismatch", async () => {
    const token = await joinToken("shop", "reviews");
    await expectRefused(await register(token, workload({ serviceAccount: "payments" })), 403, "only its own namespace and service account", "RegistrationIdentityMismatch");
    await expectRefused(await register(await serviceAccountToken("shop", "reviews"), workload({ namespace: "bank" })), 403, "shop/reviews", "RegistrationIdentityMismatch");
    expect(await listRegistrations(db(), new Date())).toEqual([]);
    expect(await revision()).toBe(0);
  });

  it("another service account of the namespace cannot take over a live registration", async () => {
    expect((await register(await joinToken("shop", "reviews"), workload())).status).toBe(201);
    const before = await revision();
    await expectRefused(await register(await joinToken("shop", "intruder"), workload({ serviceAccount: "intruder", address: "10.0.0.66" })), 403, "another service account", "RegistrationIdentityMismatch");
    const [stored] = await listRegistrations(db(), new Date());
    expect(stored).toMatchObject({ serviceAccount: "reviews", address: "10.244.0.7" });
    expect(await revision()).toBe(before);
  });

  it("bad input → 400 naming every bad field", async () => {
    const token = env.WEFT_ADMIN_TOKEN;
    const res = await register(token, {
      name: "Bad_Name",
      namespace: "shop",
      serviceAccount: "reviews",
      address: "300.1.2.3",
      labels: { app: 7 },
      ports: [{ port: 70000 }, { port: 80, protocol: "carrier-pigeon" }, { port: 80, name: "Not_A_Name" }],
      kind: "sidecar",
      gateways: ["nowhere"],
      ttl: "1s",
      extra: true,
    });
    const body = await expectRefused(res, 400, "workload registration is invalid");
    expect(body.reason).toBe("BadRequest");
    const fields = body.details.causes.map((c: { field: string }) => c.field);
    expect(fields).toEqual(
      expect.arrayContaining(["name", "address", "labels.app", "ports[0].port", "ports[1].protocol", "ports[2].name", "gateways[0]", "ttl", "extra"]),
    );
    const badLabel = await expectRefused(await register(token, workload({ labels: { "bad key!": "x" } })), 400, "invalid label key");
    expect(badLabel.details.causes.map((c: { field: string }) => c.field)).toEqual(["labels[bad key!]"]);
    const sidecarWithGateways = await expectRefused(await register(token, workload({ gateways: ["shop/web"] })), 400, "gateways");
    expect(sidecarWithGateways.details.causes.map((c: { field: string }) => c.field)).toEqual(["gateways"]);
    const duplicate = await expectRefused(await register(token, workload({ ports: [{ port: 80 }, { port: 80 }] })), 400, "listed twice");
    expect(duplicate.details.causes[0].field).toBe("ports[1].port");
    await expectRefused(await register(token, { namespace: "shop" }), 400, "name: Required value");
    expect(await listRegistrations(db(), new Date())).toEqual([]);
    expect(await revision()).toBe(0);
  });
});

describe("heartbeat and deregistration", () => {
  it("a heartbeat pushes the expiry (its own lifetime again, or a new ttl) without bumping the revision", async () => {
    const token = await joinToken("shop", "reviews");
    const first = await json(await register(token, workload({ ttl: "30s" })));
    const rev = await revision();
    await new Promise((r) => setTimeout(r, 5));
    const beat = await call("PUT", `${WORKLOADS}/reviews-v1-0.shop/heartbeat`, { token });
    expect(beat.status).toBe(200);
    const renewed = await json(beat);
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    expect(Date.parse(renewed.expiresAt) - Date.parse(renewed.lastSeenAt)).toBe(30_000);
    const longer = await json(await call("PUT", `${WORKLOADS}/reviews-v1-0.shop/heartbeat`, { token, body: { ttl: "5m" } }));
    expect(Date.parse(longer.expiresAt) - Date.parse(longer.lastSeenAt)).toBe(300_000);
    expect(longer.registeredAt).toBe(first.registeredAt);
    expect(await revision()).toBe(rev);
  });

  it("heartbeats of an unknown workload → 404; of another identity's → 403; a bad ttl → 400", async () => {
    const token = await joinToken("shop", "reviews");
    await expectRefused(await call("PUT", `${WORKLOADS}/nobody.shop/heartbeat`, { token }), 404, "not registered");
    await register(token, workload());
    await expectRefused(await call("PUT", `${WORKLOADS}/reviews-v1-0.shop/heartbeat`, { token: await joinToken("shop", "other") }), 403, "renew", "RegistrationIdentityMismatch");
    await expectRefused(await call("PUT", `${WORKLOADS}/reviews-v1-0.shop/heartbeat`, { token, body: { ttl: "forever" } }), 400, "ttl");
  });

  it("the owner deregisters (revision bumps); then it is gone (404)", async () => {
    const token = await serviceAccountToken("shop", "reviews");
    await register(token, workload());
    const rev = await revision();
    await expectRefused(await call("DELETE", `${WORKLOADS}/reviews-v1-0.shop`, { token: await serviceAccountToken("shop", "x") }), 403, "deregister");
    const res = await call("DELETE", `${WORKLOADS}/reviews-v1-0.shop`, { token });
    expect(res.status).toBe(200);
    expect(await revision()).toBe(rev + 1);
    await expectRefused(await call("GET", `${WORKLOADS}/reviews-v1-0.shop`), 404, "not registered");
    await expectRefused(await call("DELETE", `${WORKLOADS}/reviews-v1-0.shop`, { token }), 404, "not registered");
  });

  it("admins and viewers list and get registrations; a workload credential cannot list", async () => {
    await register(env.WEFT_ADMIN_TOKEN, workload());
    await register(env.WEFT_ADMIN_TOKEN, workload({ name: "a-0", namespace: "other" }));
    const viewer = await viewerToken();
    const all = await json(await call("GET", WORKLOADS, { token: viewer }));
    expect(all.items.map((r: any) => r.id)).toEqual(["a-0.other", "reviews-v1-0.shop"]);
    expect(all.registryRevision).toBe(2);
    expect((await json(await call("GET", `${WORKLOADS}?namespace=shop`, { token: viewer }))).items.map((r: any) => r.id)).toEqual(["reviews-v1-0.shop"]);
    expect((await json(await call("GET", `${WORKLOADS}/a-0.other`, { token: viewer }))).address).toBe("10.244.0.7");
    expect((await call("GET", WORKLOADS, { token: await joinToken("shop", "reviews") })).status).toBe(401);
  });
});

describe("registry revision and expiry", () => {
  it("bumps on a new or changed registration, not on an identical re-registration or a heartbeat", async () => {
    const token = await joinToken("shop", "reviews");
    expect(await revision()).toBe(0);
    await register(token, workload());
    expect(await revision()).toBe(1);
    await register(token, workload({ labels: { version: "v1", app: "reviews" } })); // same labels, other order
    expect(await revision()).toBe(1);
    await call("PUT", `${WORKLOADS}/reviews-v1-0.shop/heartbeat`, { token });
    expect(await revision()).toBe(1);
    await register(token, workload({ labels: { app: "reviews", version: "v2" } }));
    expect(await revision()).toBe(2);
    await register(token, workload({ labels: { app: "reviews", version: "v2" }, ttl: "5m" })); // only the expiry changes
    expect(await revision()).toBe(2);
  });

  it("with a frozen clock: a registration is invisible once expired and the sweep removes it, bumping the revision", async () => {
    const t0 = new Date("2030-01-01T00:00:00.000Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const record: WorkloadRecord = { name: "vm-1", namespace: "vms", serviceAccount: "billing", address: "192.0.2.10", labels: {}, ports: [], kind: "sidecar", gateways: [], registeredBy: "admin" };
    const created = await upsertRegistration(db(), record, t0, 90_000);
    expect(created).toMatchObject({ created: true, changed: true, registration: { id: "vm-1.vms", expiresAt: "2030-01-01T00:01:30.000Z" } });
    expect(await revision()).toBe(1);
    expect(await heartbeatRegistration(db(), "vm-1.vms", at(60_000))).toMatchObject({ lastSeenAt: "2030-01-01T00:01:00.000Z", expiresAt: "2030-01-01T00:02:30.000Z" });
    expect(await expireRegistrations(db(), at(149_999))).toEqual([]);
    expect(await revision()).toBe(1);
    expect(await getRegistration(db(), "vm-1.vms", at(149_999))).toBeDefined();
    expect(await getRegistration(db(), "vm-1.vms", at(150_000))).toBeUndefined();
    expect(await listRegistrations(db(), at(150_000))).toEqual([]);
    expect(await heartbeatRegistration(db(), "vm-1.vms", at(150_000))).toBeUndefined();
    expect(await expireRegistrations(db(), at(150_000))).toEqual(["vm-1.vms"]);
    expect(await revision()).toBe(2);
    expect(await expireRegistrations(db(), at(300_000))).toEqual([]);
    expect(await revision()).toBe(2);
  });

  it("an expired registration may be taken over as new (201) by another service account", async () => {
    const record: WorkloadRecord = { name: "vm-1", namespace: "vms", serviceAccount: "old", address: "192.0.2.10", labels: {}, ports: [], kind: "sidecar", gateways: [], registeredBy: "admin" };
    await upsertRegistration(db(), record, new Date(Date.now() - 3_600_000), 60_000);
    const res = await register(await joinToken("vms", "new"), { name: "vm-1", namespace: "vms", serviceAccount: "new", address: "192.0.2.11" });
    expect(res.status).toBe(201);
    expect((await json(res)).serviceAccount).toBe("new");
  });

  it("the Worker's cron handler removes expired registrations", async () => {
    const record: WorkloadRecord = { name: "gone", namespace: "shop", serviceAccount: "reviews", address: "10.0.0.1", labels: {}, ports: [], kind: "sidecar", gateways: [], registeredBy: "admin" };
    await upsertRegistration(db(), record, new Date(Date.now() - 3_600_000), 60_000);
    await register(env.WEFT_ADMIN_TOKEN, workload());
    const rev = await revision();
    await worker.scheduled!(createScheduledController(), env);
    const rows = await env.DB.prepare("SELECT id FROM workloads ORDER BY id").all<{ id: string }>();
    expect(rows.results.map((r) => r.id)).toEqual(["reviews-v1-0.shop"]);
    expect(await revision()).toBe(rev + 1);
  });
});

describe("Kubernetes sync", () => {
  const svc = (ns: string, name: string, port = 80) => ({
    metadata: { name, namespace: ns, uid: `uid-${name}`, managedFields: [{ manager: "kubectl" }] },
    spec: { clusterIP: "10.96.0.10", ports: [{ name: "http", port, protocol: "TCP", targetPort: 8080 }], selector: { app: name } },
  });
  const slice = (ns: string, name: string, service: string, ip: string) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  });
  const sync = (cluster: string, body: unknown, token: string | null = env.WEFT_ADMIN_TOKEN) => call("PUT", `/v1/registry/kubernetes/${cluster}`, { token, body });

  it("replaces one cluster's set atomically; the revision bumps only when the set changed", async () => {
    const first = await sync("east", { services: [svc("shop", "reviews"), svc("shop", "ratings")], endpointSlices: [slice("shop", "reviews-1", "reviews", "10.1.0.1")] });
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ cluster: "east", services: 2, endpointSlices: 1, added: 3, updated: 0, removed: 0, changed: true, registryRevision: 1 });
    await sync("west", { services: [svc("default", "web")] });
    expect(await revision()).toBe(2);

    const same = await json(await sync("east", { services: [svc("shop", "ratings"), svc("shop", "reviews")], endpointSlices: [slice("shop", "reviews-1", "reviews", "10.1.0.1")] }));
    expect(same).toMatchObject({ changed: false, unchanged: 3, registryRevision: 2 });

    const next = await json(await sync("east", { services: [svc("shop", "reviews", 9080)], endpointSlices: [] }));
    expect(next).toMatchObject({ added: 0, updated: 1, removed: 2, changed: true, registryRevision: 3 });
    const stored = await listKubeObjects(db());
    expect(stored.map((o) => `${o.cluster} ${o.kind} ${o.namespace}/${o.name}`)).toEqual(["east Service shop/reviews", "west Service default/web"]);
    expect(stored[0]!.object).toMatchObject({ apiVersion: "v1", kind: "Service", metadata: { name: "reviews", uid: "uid-reviews" }, spec: { ports: [{ port: 9080 }] } });
    expect(stored[0]!.object.metadata.managedFields).toBeUndefined();
  });

  it("refuses bad objects naming the field, duplicates and a bad cluster name (400); stores nothing", async () => {
    const bad = await json(
      await sync("east", {
        services: [{ metadata: { name: "reviews" }, spec: { ports: [{ port: 0 }] } }],
        endpointSlices: [{ metadata: { name: "s", namespace: "shop" }, endpoints: [{ addresses: [] }] }, { kind: "Service", metadata: { name: "t", namespace: "shop" }, addressType: "IPv4" }],
      }),
    );
    expect(bad.code).toBe(400);
    expect(bad.details.causes.map((c: { field: string }) => c.field)).toEqual(
      expect.arrayContaining(["services[0].metadata.namespace", "services[0].spec.ports[0].port", "endpointSlices[0].addressType", "endpointSlices[0].endpoints[0].addresses", "endpointSlices[1].kind"]),
    );
    const duplicate = await json(await sync("east", { services: [svc("shop", "a"), svc("shop", "a")] }));
    expect(duplicate).toMatchObject({ code: 400, details: { causes: [{ field: "services[1].metadata.name" }] } });
    expect((await sync("East_1", { services: [] })).status).toBe(400);
    expect(await listKubeObjects(db())).toEqual([]);
    expect(await revision()).toBe(0);
  });

  it("needs an admin: a viewer → 403, a workload credential → 401", async () => {
    await expectRefused(await sync("east", { services: [] }, await viewerToken()), 403, "viewer");
    await expectRefused(await sync("east", { services: [] }, await joinToken("shop", "reviews")), 401, "invalid bearer token");
    await expectRefused(await sync("east", { services: [] }, null), 401, "missing bearer token");
  });
});
