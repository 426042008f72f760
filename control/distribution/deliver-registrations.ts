/**
 * @module distribution/deliver-registrations
 * Registrations as the delivery routes read them on every poll, held by the isolate per registry
 * revision: the revisions are read anyway (they decide the current config), so a poll answered 304
 * costs one D1 read instead of two. Every registration change moves the registry revision; a
 * heartbeat does not, but it only pushes the expiry forward, so an entry past its expiry is read again.
 */
import type { ProxyRegistration } from "./contracts.js";
import { getRegistration } from "../registry/registry-store.js";
import type { WeftDatabase } from "../store/resource-store.js";

export interface RegistrationCache {
  /** The live registration `id` at `now`, as of `registryRevision` (read just before). */
  get(db: WeftDatabase, id: string, now: Date, registryRevision: number): Promise<ProxyRegistration | undefined>;
}

export const DEFAULT_REGISTRATION_ENTRIES = 10_000;

/** A least-recently-used map of registrations (and of ids with none), at most `maxEntries`. */
export function createRegistrationCache(maxEntries = DEFAULT_REGISTRATION_ENTRIES): RegistrationCache {
  const entries = new Map<string, { revision: number; registration: ProxyRegistration | undefined }>();
  return {
    async get(db, id, now, registryRevision) {
      const held = entries.get(id);
      if (held && held.revision === registryRevision && (!held.registration || Date.parse(held.registration.expiresAt) > now.getTime())) {
        entries.delete(id);
        entries.set(id, held);
        return held.registration;
      }
      const registration = await getRegistration(db, id, now);
      entries.delete(id);
      entries.set(id, { revision: registryRevision, registration });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return registration;
    },
  };
}
