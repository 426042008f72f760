// Issuer keys fetched from a JWKS URL: a real HTTP server on 127.0.0.1 serves the key set, so the
// fetch, the per-authenticator cache and the failure paths all run for real.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubernetesJwtAuthenticator } from "../../../../control/ca/authenticate/kubernetes-jwt.js";
import { AUDIENCE, expectCredentialInvalid, frozenClock, ISSUER, issuerKey, projectedClaims, signToken, type IssuerKey } from "./fixtures.js";

let key: IssuerKey;
let server: Server;
let baseUrl: string;
/** Requests the server received, by path. */
const hits = new Map<string, number>();

beforeAll(async () => {
  key = await issuerKey("ES256", "ec-remote");
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path.startsWith("/openid/v1/jwks")) {
      res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(key.jwks));
    } else if (path === "/broken") {
      res.writeHead(500).end("internal error");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

function remoteAuthenticator(path: string, fetchImpl?: typeof fetch) {
  return createKubernetesJwtAuthenticator({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: `${baseUrl}${path}` }], now: frozenClock, fetch: fetchImpl });
}

describe("Kubernetes JWT: remote JWKS", () => {
  it("fetches the key set once and reuses it across calls", async () => {
    const path = "/openid/v1/jwks?cache";
    const authenticator = remoteAuthenticator(path);
    expect(hits.get(path)).toBeUndefined(); // nothing is fetched before the first token
    for (const sa of ["bookinfo", "reviews", "ratings"]) {
      const token = await signToken(key, projectedClaims({ sub: `system:serviceaccount:default:${sa}`, "kubernetes.io": undefined }));
      expect(await authenticator.authenticate(token)).toMatchObject({ identity: { namespace: "default", serviceAccount: sa } });
    }
    expect(hits.get(path)).toBe(1);
  });

  it("fetches once for concurrent first calls", async () => {
    const path = "/openid/v1/jwks?concurrent";
    const authenticator = remoteAuthenticator(path);
    const token = await signToken(key, projectedClaims());
    const callers = await Promise.all([1, 2, 3, 4].map(() => authenticator.authenticate(token)));
    expect(callers.map((c) => c.kind)).toEqual(["workload", "workload", "workload", "workload"]);
    expect(hits.get(path)).toBe(1);
  });

  it("uses the injected fetch", async () => {
    const path = "/openid/v1/jwks?injected";
    const requested: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      requested.push(String(input));
      return fetch(input, init);
    };
    const authenticator = remoteAuthenticator(path, countingFetch);
    await authenticator.authenticate(await signToken(key, projectedClaims()));
    await authenticator.authenticate(await signToken(key, projectedClaims()));
    expect(requested).toEqual([`${baseUrl}${path}`]);
    expect(hits.get(path)).toBe(1);
  });

  it("still refuses a forged token with the fetched keys", async () => {
    const authenticator = remoteAuthenticator("/openid/v1/jwks?forged");
    const forger = await issuerKey("ES256", key.kid);
    await expectCredentialInvalid(authenticator.authenticate(await signToken(forger, projectedClaims())), /bad signature/);
  });

  it("names an issuer whose JWKS endpoint answers with an error", async () => {
    const authenticator = remoteAuthenticator("/broken");
    await expectCredentialInvalid(authenticator.authenticate(await signToken(key, projectedClaims())), /keys of issuer .* unavailable or invalid: Expected 200 OK/);
  });

  it("names an issuer whose JWKS endpoint cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const authenticator = createKubernetesJwtAuthenticator({
      issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: `http://127.0.0.1:${port}/openid/v1/jwks` }],
      now: frozenClock,
    });
    await expectCredentialInvalid(authenticator.authenticate(await signToken(key, projectedClaims())), /fetching the keys of issuer .* from http:\/\/127\.0\.0\.1:\d+\/openid\/v1\/jwks failed/);
  });
});
