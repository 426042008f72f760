// Tests that run inside workerd (Miniflare) through the Worker's own fetch, with a real D1 database
// and the real migrations applied by test/workers/apply-migrations.ts.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { loadCorpus } from "./test/corpus.js";

process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./workers/control-plane.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          cf: false,
          bindings: {
            TEST_MIGRATIONS: migrations,
            // Every YAML document of ../shared/istio-corpus, for the corpus tests.
            ISTIO_CORPUS: loadCorpus() as never,
            // A fresh random admin token for every run; tests read it from env.
            WEFT_ADMIN_TOKEN: `test-${crypto.randomUUID()}`,
            WEFT_WATCH_POLL_MS: "50",
          },
        },
      }),
    ],
    test: {
      include: ["test/workers/**/*.test.ts"],
      setupFiles: ["./test/workers/apply-migrations.ts"],
      testTimeout: 30_000,
    },
  };
});
