/**
 * @module hosts/sidecar/agent/config-cache
 * The last config the sidecar applied, kept on disk (the Pod's `/var/lib/istio/data` emptyDir) as JSON
 * `{version, config}`, so a restarted proxy container whose control plane is unreachable still routes
 * with policy. Written atomically: a temporary file in the same directory, flushed, then renamed over
 * the old one, so a crash leaves the old config or the new one, never half of either.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { KeptConfig, KeptConfigStore } from "../../worker/kept-config.js";

export const CONFIG_CACHE_FILE = "proxy-config.json";

/** The cache file exists but does not hold `{version, config}`. */
export class ConfigCacheUnreadable extends Error {
  readonly code = "ConfigCacheUnreadable";
  constructor(message: string) {
    super(message);
    this.name = "ConfigCacheUnreadable";
  }
}

export function createConfigCache(dir: string, fileName = CONFIG_CACHE_FILE): KeptConfigStore & { readonly path: string } {
  const path = join(dir, fileName);
  return {
    path,
    async load(): Promise<KeptConfig | undefined> {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (cause) {
        if ((cause as { code?: unknown }).code === "ENOENT") return undefined;
        throw cause;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new ConfigCacheUnreadable(`${path} is not JSON: ${String(cause)}`);
      }
      const kept = body as Partial<KeptConfig> | null;
      if (kept === null || typeof kept !== "object" || typeof kept.version !== "string" || kept.config === undefined) {
        throw new ConfigCacheUnreadable(`${path} does not hold {"version": "...", "config": {...}}`);
      }
      return { version: kept.version, config: kept.config };
    },
    async save(kept: KeptConfig): Promise<void> {
      await mkdir(dir, { recursive: true });
      const temporary = join(dir, `.${fileName}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        const file = await open(temporary, "w", 0o600);
        try {
          await file.writeFile(JSON.stringify({ version: kept.version, config: kept.config }));
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temporary, path);
      } catch (cause) {
        await rm(temporary, { force: true });
        throw cause;
      }
    },
  };
}
