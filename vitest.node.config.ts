// Tests that run in Node: the CLI, offline validation, and end-to-end checks that start workerd themselves.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts", "control/**/*.test.ts", "cli/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
