// Applies the real migrations (the files drizzle-kit wrote into migrations/) to the test D1 database,
// and empties every table before each test so tests do not see each other's objects.
import { applyD1Migrations, env } from "cloudflare:test";
import { beforeEach } from "vitest";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

beforeEach(async () => {
  await env.DB.batch(
    ["resources", "changes", "mesh_revision", "write_guards", "api_tokens", "ca_issuer", "ca_roots", "issued_certificates", "revoked_certificates", "workloads", "kube_objects", "registry_revision", "proxy_status"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
  );
});
