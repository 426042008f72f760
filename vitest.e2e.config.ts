// End-to-end tests (`npm run test:e2e`, root only): the sidecar image built from
// deploy/sidecar/Containerfile with buildah and run with podman, and the mesh running in network
// namespaces the tests create. Image builds take minutes on 2 cores, hence the timeouts; one file at a
// time (they share container storage, namespaces' address ranges and the CPU).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    testTimeout: 5 * 60_000,
    hookTimeout: 20 * 60_000,
    teardownTimeout: 2 * 60_000,
    fileParallelism: false,
    maxConcurrency: 1,
  },
});
