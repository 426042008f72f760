// The proxy core's conformance suite in Node through the head pipelines (planOutbound / planInbound, the
// sidecar fast path's entry points), via conformance/plan-adapter: the same cases, the same loopback
// upstreams and node:http sender as conformance.test.ts. Requests without a plan take the web pipeline,
// as in the sidecar; the last test checks that most were planned.
import { expect, it } from "vitest";
import { viaPlans, type PlanCounts } from "../conformance/plan-adapter.js";
import { conformanceSuite } from "../conformance/suite.js";
import { nodeConformanceHarness } from "./support/node-conformance-harness.js";

const counts: PlanCounts = { planned: 0, web: 0 };

conformanceSuite(nodeConformanceHarness((proxy, send) => viaPlans(proxy, send, counts)));

// Defined after the suite, so it runs after every case of it.
it("planned most of the suite's requests (plain routed and inbound ones), the rest went through the web pipeline", () => {
  console.log(`conformance through plans: ${counts.planned} requests planned, ${counts.web} through the web pipeline`);
  expect(counts.planned).toBeGreaterThan(counts.web);
  expect(counts.web).toBeGreaterThan(0);
});
