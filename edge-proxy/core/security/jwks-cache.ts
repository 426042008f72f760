/**
 * @module security/jwks-cache
 * Remote JSON Web Key Sets, fetched through the host's `fetchJwks` and kept for `ttlMs` (Istio's
 * jwksResolver refreshes every 20 minutes). Concurrent requests share one fetch. A token whose key is
 * not in the cached set may force one refetch (key rotation), at most once per 60 s per URI, so
 * tokens with made-up key ids cannot make the proxy hammer the issuer. A failed fetch is not cached;
 * while a refresh fails the stale set stays in use.
 * Without `jwksUri` the key set is found by OpenID discovery on the issuer, as Istio does.
 */
import { createLocalJWKSet } from "jose";

/** Finds the key for a token (jose's local JWKS function). */
export type KeyLookup = ReturnType<typeof createLocalJWKSet>;

/** The JWKS could not be fetched or is not a key set. */
export class JwksFetchError extends Error {
  readonly code = "ERR_JWKS_FETCH";
  constructor(readonly uri: string, options?: { cause?: unknown }) {
    super(`could not fetch a JSON Web Key Set from ${uri}`, options);
    this.name = "JwksFetchError";
  }
}

/** How often an unknown key id may force a refetch of the same URI. */
export const UNKNOWN_KEY_REFETCH_MS = 60_000;

interface Entry {
  keys: KeyLookup;
  fetchedAt: number;
}

/** Parses a key set given as JSON text or an object; throws when it is not one. */
export function keySetOf(value: unknown): KeyLookup {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return createLocalJWKSet(parsed as Parameters<typeof createLocalJWKSet>[0]);
}

export class JwksCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly forcedAt = new Map<string, number>();
  private readonly discovered = new Map<string, { uri: string; at: number }>();

  constructor(
    private readonly fetchJwks: (uri: string) => Promise<unknown>,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  /** The cached key set of `uri`, fetching it when absent or older than the TTL. */
  async keys(uri: string): Promise<KeyLookup> {
    const entry = this.entries.get(uri);
    if (entry && this.now() - entry.fetchedAt < this.ttlMs) return entry.keys;
    try {
      return (await this.fetch(uri)).keys;
    } catch (error) {
      // A stale set beats none while the issuer is unreachable.
      if (entry) return entry.keys;
      throw error;
    }
  }

  /**
   * After a token named a key the cached set lacks: refetches once if no such refetch happened in the
   * last 60 s, and returns the new set; undefined when the refetch is not allowed yet.
   */
  async refetchForUnknownKey(uri: string): Promise<KeyLookup | undefined> {
    const now = this.now();
    const last = this.forcedAt.get(uri);
    if (last !== undefined && now - last < UNKNOWN_KEY_REFETCH_MS) return undefined;
    this.forcedAt.set(uri, now);
    return (await this.fetch(uri)).keys;
  }

  /** The `jwks_uri` of an issuer's OpenID configuration, cached like a key set. */
  async discover(issuer: string): Promise<string> {
    const cached = this.discovered.get(issuer);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.uri;
    const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    let uri: unknown;
    try {
      const doc: unknown = await this.fetchJwks(url);
      const parsed: unknown = typeof doc === "string" ? JSON.parse(doc) : doc;
      uri = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).jwks_uri : undefined;
    } catch (cause) {
      throw new JwksFetchError(url, { cause });
    }
    if (typeof uri !== "string" || uri === "") throw new JwksFetchError(url);
    this.discovered.set(issuer, { uri, at: this.now() });
    return uri;
  }

  private fetch(uri: string): Promise<Entry> {
    const inFlight = this.pending.get(uri);
    if (inFlight) return inFlight;
    const promise = (async () => {
      try {
        const keys = keySetOf(await this.fetchJwks(uri));
        const entry = { keys, fetchedAt: this.now() };
        this.entries.set(uri, entry);
        return entry;
      } catch (cause) {
        throw new JwksFetchError(uri, { cause });
      } finally {
        this.pending.delete(uri);
      }
    })();
    this.pending.set(uri, promise);
    return promise;
  }
}
