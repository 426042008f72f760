/**
 * @module ca/authenticate/workload-authenticator
 * Puts the workload authenticators together: a join token goes to the join-token authenticator,
 * any other JWT to the Kubernetes service-account authenticator. Built once per isolate, so the
 * remote JWKS caches inside live across requests.
 */
import { CredentialInvalid } from "../../errors.js";
import { chooseAuthenticator } from "./dispatch.js";
import type { Caller } from "./identity.js";
import { createJoinTokenAuthenticator } from "./join-token.js";
import { createKubernetesJwtAuthenticator } from "./kubernetes-jwt.js";
import type { TrustedIssuer } from "./trusted-issuers.js";

export interface WorkloadAuthenticatorOptions {
  trustDomain: string;
  issuers: TrustedIssuer[];
  joinTokenSecret: Uint8Array | undefined;
  now: () => Date;
  fetch?: typeof fetch;
}

export function createWorkloadAuthenticator(options: WorkloadAuthenticatorOptions): (token: string) => Promise<Caller> {
  const kubernetes = createKubernetesJwtAuthenticator({ issuers: options.issuers, now: options.now, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const join = options.joinTokenSecret
    ? createJoinTokenAuthenticator({ secret: options.joinTokenSecret, trustDomain: options.trustDomain, now: options.now })
    : undefined;
  return async (token) => {
    switch (chooseAuthenticator(token)) {
      case "join-token":
        if (!join) throw new CredentialInvalid("join tokens are disabled on this control plane (no WEFT_JOIN_TOKEN_SECRET)");
        return join.authenticate(token);
      case "kubernetes-jwt":
        return kubernetes.authenticate(token);
      default:
        throw new CredentialInvalid("the credential is neither a service-account JWT nor a join token");
    }
  };
}
