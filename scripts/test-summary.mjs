#!/usr/bin/env node
// Prints one closing line for the whole `npm test` run from the JSON reports both Vitest projects
// wrote: "tests: N passed, N failed, N skipped". Exits non-zero if a report is missing or a test failed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dirname, "..", ".test-results");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of ["workers.json", "node.json"]) {
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
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
