/**
 * @module security/request-view
 * One request's authorization attributes with the derived values computed at most once, when a
 * matcher first asks: parsed IPs, the host without its port, and the peer identity's parts
 * (`<trust domain>/ns/<namespace>/sa/<service account>`, Istio's principal form).
 */
import { hostOfAuthority } from "../routing/authority.js";
import { parseIp } from "./ip-block.js";
import type { AuthorizationAttributes } from "./types.js";

/** The parts of a principal `cluster.local/ns/default/sa/sleep`. */
export interface PrincipalParts {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Parsed principals: a peer's identity repeats on every request of its connections. Bounded: cleared when full. */
const PRINCIPALS = new Map<string, PrincipalParts | null>();
const PRINCIPAL_CACHE_LIMIT = 4096;

/** Splits Istio's principal form; undefined when the principal does not have it. */
export function parsePrincipal(principal: string): PrincipalParts | undefined {
  const cached = PRINCIPALS.get(principal);
  if (cached !== undefined) return cached ?? undefined;
  const parsed = splitPrincipal(principal);
  if (PRINCIPALS.size >= PRINCIPAL_CACHE_LIMIT) PRINCIPALS.clear();
  PRINCIPALS.set(principal, parsed ?? null);
  return parsed;
}

function splitPrincipal(principal: string): PrincipalParts | undefined {
  const parts = principal.split("/");
  for (let i = 1; i + 3 < parts.length; i++) {
    if (parts[i] === "ns" && parts[i + 2] === "sa") {
      return Object.freeze({ trustDomain: parts.slice(0, i).join("/"), namespace: parts[i + 1]!, serviceAccount: parts.slice(i + 3).join("/") });
    }
  }
  return undefined;
}

const UNSET = Symbol("unset");

export class RequestView {
  private sourceIpCache: Uint8Array | undefined | typeof UNSET = UNSET;
  private remoteIpCache: Uint8Array | undefined | typeof UNSET = UNSET;
  private destinationIpCache: Uint8Array | undefined | typeof UNSET = UNSET;
  private identityCache: PrincipalParts | undefined | typeof UNSET = UNSET;
  private serviceAccountCache: string | undefined | typeof UNSET = UNSET;
  private hostCache: string | undefined = undefined;
  private authorityCache: string | undefined = undefined;

  constructor(readonly attributes: AuthorizationAttributes) {}

  get sourceIp(): Uint8Array | undefined {
    if (this.sourceIpCache === UNSET) this.sourceIpCache = ipOf(this.attributes.sourceIp);
    return this.sourceIpCache;
  }

  get remoteIp(): Uint8Array | undefined {
    if (this.remoteIpCache === UNSET) this.remoteIpCache = this.attributes.remoteIp === undefined ? this.sourceIp : ipOf(this.attributes.remoteIp);
    return this.remoteIpCache;
  }

  get destinationIp(): Uint8Array | undefined {
    if (this.destinationIpCache === UNSET) this.destinationIpCache = ipOf(this.attributes.destinationIp);
    return this.destinationIpCache;
  }

  get identity(): PrincipalParts | undefined {
    if (this.identityCache === UNSET) {
      const p = this.attributes.principal;
      this.identityCache = p === undefined ? undefined : parsePrincipal(p);
    }
    return this.identityCache;
  }

  /** `ns/sa` of the peer. */
  get serviceAccount(): string | undefined {
    if (this.serviceAccountCache === UNSET) {
      const id = this.identity;
      this.serviceAccountCache = id === undefined ? undefined : `${id.namespace}/${id.serviceAccount}`;
    }
    return this.serviceAccountCache;
  }

  /** The host without its port, lower case. */
  get host(): string {
    return (this.hostCache ??= hostOfAuthority(this.attributes.host));
  }

  /** The authority with its port, lower case. */
  get authority(): string {
    return (this.authorityCache ??= this.attributes.host.toLowerCase());
  }
}

function ipOf(text: string | undefined): Uint8Array | undefined {
  return text === undefined ? undefined : parseIp(text);
}
