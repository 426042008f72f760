// Dispatch by credential shape: join tokens, Kubernetes JWTs, and the existing admin/viewer API tokens.
import { describe, expect, it } from "vitest";
import { chooseAuthenticator } from "../../../../control/ca/authenticate/dispatch.js";
import { createJoinToken } from "../../../../control/ca/authenticate/join-token.js";
import { newApiToken } from "../../../../control/http/auth.js";
import { base64url, frozenClock, issuerKey, projectedClaims, signToken } from "./fixtures.js";

describe("chooseAuthenticator", () => {
  it("sends a JWT issued by weft to the join-token authenticator", async () => {
    const token = await createJoinToken({ secret: new Uint8Array(32), trustDomain: "cluster.local", namespace: "vms", serviceAccount: "web", ttlSeconds: 60, now: frozenClock });
    expect(chooseAuthenticator(token)).toBe("join-token");
  });

  it("sends any other JWT to the Kubernetes authenticator, including unsigned and undecodable ones", async () => {
    const key = await issuerKey("ES256", "k");
    expect(chooseAuthenticator(await signToken(key, projectedClaims()))).toBe("kubernetes-jwt");
    expect(chooseAuthenticator(`${base64url({ alg: "none" })}.${base64url({ iss: "weft-ish" })}.`)).toBe("kubernetes-jwt");
    expect(chooseAuthenticator("abc.def.ghi")).toBe("kubernetes-jwt");
  });

  it("sends everything else to the API-token check", () => {
    expect(chooseAuthenticator(newApiToken())).toBe("api-token");
    expect(chooseAuthenticator("dev-admin-token")).toBe("api-token");
    expect(chooseAuthenticator("a.b")).toBe("api-token");
    expect(chooseAuthenticator("a.b.c.d.e")).toBe("api-token");
    expect(chooseAuthenticator("a+b.c/d.e=")).toBe("api-token");
    expect(chooseAuthenticator("")).toBe("api-token");
  });
});
