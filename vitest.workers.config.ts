// Tests that run inside workerd (Miniflare) through the Worker's own fetch, with a real D1 database
// and the real migrations applied by test/workers/apply-migrations.ts.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";
import { loadCorpus } from "./test/corpus.js";

process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

/** A test cluster's service-account token issuer: its public JWKS is trusted, its private key signs test tokens. */
function testIssuer() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "test-cluster", alg: "RS256", use: "sig" };
  const issuers = [{ issuer: "https://kubernetes.default.svc.cluster.local", audiences: ["weft"], jwks: { keys: [jwk] } }];
  return { issuers: JSON.stringify(issuers), privateJwk: JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "test-cluster", alg: "RS256" }) };
}

/** The conformance suite's upstream Worker, bundled to one module (auxiliary Workers take JavaScript). */
function upstreamWorkerScript(): string {
  const built = buildSync({ entryPoints: ["./test/workers/upstream-worker.ts"], bundle: true, format: "esm", platform: "neutral", write: false });
  return built.outputFiles[0]?.text ?? "";
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const issuer = testIssuer();
  return {
    plugins: [
      cloudflareTest({
        main: "./workers/control-plane.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          cf: false,
          workers: [{ name: "conformance-upstreams", modules: true, script: upstreamWorkerScript(), compatibilityDate: "2026-04-01" }],
          serviceBindings: { UPSTREAMS: "conformance-upstreams" },
          bindings: {
            TEST_MIGRATIONS: migrations,
            // Every YAML document of ../shared/istio-corpus, for the corpus tests.
            ISTIO_CORPUS: loadCorpus() as never,
            // A fresh random admin token for every run; tests read it from env.
            WEFT_ADMIN_TOKEN: `test-${crypto.randomUUID()}`,
            WEFT_WATCH_POLL_MS: "50",
            // A fresh CA key and join-token secret for every run, as `npm start` makes them.
            WEFT_CA_KEY: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string,
            WEFT_JOIN_TOKEN_SECRET: randomBytes(32).toString("base64"),
            WEFT_CA_MAX_TTL: "720h",
            WEFT_TRUSTED_ISSUERS: issuer.issuers,
            TEST_ISSUER_PRIVATE_JWK: issuer.privateJwk,
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
