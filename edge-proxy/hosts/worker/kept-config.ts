/**
 * @module hosts/worker/kept-config
 * The last config the gateway applied, kept in the Cache API under a synthetic https URL, so a cold
 * isolate that cannot reach the control plane still routes with policy. Stored on each new version;
 * read only when the control plane is unreachable. The Cache API is per data center and best effort:
 * an eviction means a cold isolate without the control plane answers 503 NC.
 */

/** A config as received (validated again when read) and the version it was served as. */
export interface KeptConfig {
  version: string;
  config: unknown;
}

export interface KeptConfigStore {
  load(): Promise<KeptConfig | undefined>;
  save(kept: KeptConfig): Promise<void>;
}

/** Cache entries live a year; a newer version overwrites. */
const KEEP_SECONDS = 365 * 24 * 3600;

/** A store in `cache` (default `caches.default`) for the gateway `proxyId`. */
export function createKeptConfigStore(proxyId: string, cache: Cache | (() => Cache) = () => (caches as unknown as { default: Cache }).default): KeptConfigStore {
  const key = `https://weft-edge-gateway.invalid/__weft/kept-config/${encodeURIComponent(proxyId)}`;
  const open = () => (typeof cache === "function" ? cache() : cache);
  return {
    async load() {
      const hit = await open().match(key);
      if (hit === undefined) return undefined;
      const body = (await hit.json()) as Partial<KeptConfig>;
      return typeof body.version === "string" && body.config !== undefined ? { version: body.version, config: body.config } : undefined;
    },
    async save(kept) {
      const response = new Response(JSON.stringify(kept), { headers: { "content-type": "application/json", "cache-control": `public, max-age=${KEEP_SECONDS}` } });
      await open().put(key, response);
    },
  };
}
