/**
 * @module distribution/deliver-access
 * Who may read a proxy's config or answer for it: the proxy itself (a credential for the
 * registration's namespace and service account) or an admin. Nothing else, so one workload cannot
 * learn another's routes, policies or peers.
 */
import type { Caller } from "../ca/authenticate/identity.js";
import { ProxyIdentityMismatch, ProxyNotRegistered } from "../errors.js";
import type { ProxyRegistration } from "./contracts.js";

/**
 * The registration `id` names, if `caller` may act for it. Throws ProxyNotRegistered (404) when there is
 * none (or it expired), ProxyIdentityMismatch (403) when the caller is another workload.
 */
export function checkProxyAccess(caller: Caller, id: string, registration: ProxyRegistration | undefined): ProxyRegistration {
  if (!registration) throw new ProxyNotRegistered(`proxy "${id}" is not registered (or its registration expired): register it with POST /v1/registry/workloads`);
  if (caller.kind === "admin") return registration;
  const { namespace, serviceAccount } = caller.identity;
  if (namespace !== registration.namespace || serviceAccount !== registration.serviceAccount) {
    throw new ProxyIdentityMismatch(
      `${namespace}/${serviceAccount} cannot act for proxy "${id}", which runs as ${registration.namespace}/${registration.serviceAccount}: a proxy reads only its own config`,
    );
  }
  return registration;
}

/** Whether the caller is the proxy itself (an admin's reads are not deliveries). */
export function isProxyItself(caller: Caller): boolean {
  return caller.kind === "workload";
}
