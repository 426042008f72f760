// The sidecar's last-known-good config on disk: JSON {version, config}, written by temp file and
// rename so readers see the old file or the new one, never a torn write.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigCacheUnreadable, createConfigCache } from "../../../../edge-proxy/hosts/sidecar/agent/config-cache.js";

const root = mkdtempSync(join(tmpdir(), "weft-config-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the disk cache", () => {
  it("creates its directory, and reads back what it wrote", async () => {
    const dir = join(root, "a", "data");
    const cache = createConfigCache(dir);
    expect(await cache.load()).toBeUndefined();
    await cache.save({ version: "v1", config: { n: 1 } });
    expect(JSON.parse(readFileSync(join(dir, "proxy-config.json"), "utf8"))).toEqual({ version: "v1", config: { n: 1 } });
    expect(await cache.load()).toEqual({ version: "v1", config: { n: 1 } });
  });

  it("leaves one whole file and no temporary ones after many writes at once", async () => {
    const dir = join(root, "b");
    const cache = createConfigCache(dir);
    const big = (i: number) => ({ version: `v${i}`, config: { i, padding: "x".repeat(200_000 + i) } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.save(big(i))));
    expect(readdirSync(dir)).toEqual(["proxy-config.json"]);
    const kept = (await cache.load())!;
    const i = Number(kept.version.slice(1));
    expect(kept).toEqual(big(i));
  });

  it("ignores a temporary file a crashed write left, and names the file when it is not a kept config", async () => {
    const dir = join(root, "c");
    const cache = createConfigCache(dir);
    await cache.save({ version: "v1", config: { n: 1 } });
    writeFileSync(join(dir, ".proxy-config.json.999.abcdef.tmp"), '{"version":"v2","conf');
    expect(await cache.load()).toEqual({ version: "v1", config: { n: 1 } });
    writeFileSync(join(dir, "proxy-config.json"), '{"config": {}}');
    await expect(cache.load()).rejects.toThrow(ConfigCacheUnreadable);
    await expect(cache.load()).rejects.toThrow(`${join(dir, "proxy-config.json")} does not hold {"version": "...", "config": {...}}`);
  });
});
