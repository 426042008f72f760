// The proxy core's conformance suite in Node through the head pipelines (planOutbound / planInbound, the
// sidecar fast path's entry points), via conformance/plan-adapter: the same cases, the same loopback
// upstreams and node:http sender as conformance.test.ts. Requests without a plan take the web pipeline,
// as in the sidecar; the counts at the end show that most cases were planned.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { createHttpSender } from "../../edge-proxy/hosts/node/send-http.js";
import { toWebRequest, writeWebResponse } from "../../edge-proxy/hosts/node/serve-http.js";
import type { ConformanceHarness, EndpointAddress } from "../conformance/harness.js";
import { viaPlans, type PlanCounts } from "../conformance/plan-adapter.js";
import { conformanceSuite } from "../conformance/suite.js";
import { createUpstreamApp } from "../conformance/upstream-app.js";

const servers: http.Server[] = [];
const addresses: EndpointAddress[] = [];
let dead: EndpointAddress = { address: "127.0.0.1", port: 1 };
const sender = createHttpSender();
const counts: PlanCounts = { planned: 0, web: 0 };

const harness: ConformanceHarness = {
  runtime: "node",
  async start(count) {
    const app = createUpstreamApp();
    for (let i = 0; i < count; i++) {
      const server = http.createServer((incoming, outgoing) => {
        const { request } = toWebRequest(incoming);
        app(request, `e${i}`).then((response) => writeWebResponse(response, outgoing), () => outgoing.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      addresses.push({ address: "127.0.0.1", port: (server.address() as AddressInfo).port });
    }
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    dead = { address: "127.0.0.1", port: (probe.address() as AddressInfo).port };
    await new Promise((resolve) => probe.close(resolve));
  },
  async stop() {
    sender.close();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
  endpoint: (i) => addresses[i] as EndpointAddress,
  deadEndpoint: () => dead,
  send: (request, target) => sender.send(request, target),
  adapt: (proxy, send) => viaPlans(proxy, send, counts),
};

conformanceSuite(harness);

// Defined after the suite, so it runs after every case of it.
it("planned most of the suite's requests (plain routed and inbound ones), the rest went through the web pipeline", () => {
  console.log(`conformance through plans: ${counts.planned} requests planned, ${counts.web} through the web pipeline`);
  expect(counts.planned).toBeGreaterThan(counts.web);
  expect(counts.web).toBeGreaterThan(0);
});
