// Applies the real migrations (the files drizzle-kit wrote into migrations/) to the test D1 database.
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
