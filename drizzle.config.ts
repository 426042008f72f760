// drizzle-kit reads the schema and writes SQL migrations into migrations/, wrangler's migrations_dir.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./control/store/schema.ts",
  out: "./migrations",
});
