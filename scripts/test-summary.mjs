#!/usr/bin/env node
// Prints one closing line for a test run from the JSON reports its Vitest projects wrote: "tests: N
// passed, N failed, N skipped". Exits non-zero if a report is missing or a test failed. The reports are
// the arguments (names in .test-results/); `npm test`'s two by default, `e2e.json` for `npm run test:e2e`.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dirname, "..", ".test-results");
let passed = 0;
let failed = 0;
let skipped = 0;
const names = process.argv.length > 2 ? process.argv.slice(2) : ["workers.json", "node.json"];
const label = names.includes("e2e.json") && names.length === 1 ? "e2e tests" : "tests";
for (const name of names) {
  const path = join(dir, name);
  if (!existsSync(path)) {
    console.error(`test-summary: ${path} is missing: did a suite fail to start?`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(path, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
