// Bindings the Worker tests see: the Worker's own, plus the migrations the config passes in.
import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      DB: D1Database;
      /** The ConfigHub Durable Object (config push streams and long-polls). */
      CONFIG_HUB: DurableObjectNamespace<import("../../workers/control-plane.js").ConfigHub>;
      WEFT_ADMIN_TOKEN: string;
      TEST_MIGRATIONS: D1Migration[];
      ISTIO_CORPUS: import("../corpus.js").CorpusDocument[];
      WEFT_CA_KEY: string;
      WEFT_JOIN_TOKEN_SECRET: string;
      WEFT_TRUSTED_ISSUERS: string;
      TEST_ISSUER_PRIVATE_JWK: string;
      /** The conformance suite's upstream Worker (test/workers/upstream-worker.ts). */
      UPSTREAMS: Fetcher;
    }
  }
}
export {};
