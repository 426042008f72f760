/**
 * @module test/node/support/node-conformance-harness
 * The conformance suite's Node harness: upstreams are loopback HTTP servers running the shared upstream
 * app, attempts go out through the Node host's node:http sender. `adapt` wraps each proxy the suite makes
 * (conformance-plans.test.ts runs it through the head pipelines).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpSender } from "../../../edge-proxy/hosts/node/send-http.js";
import { toWebRequest, writeWebResponse } from "../../../edge-proxy/hosts/node/serve-http.js";
import type { ConformanceHarness, EndpointAddress } from "../../conformance/harness.js";
import { createUpstreamApp } from "../../conformance/upstream-app.js";

export function nodeConformanceHarness(adapt?: ConformanceHarness["adapt"]): ConformanceHarness {
  const servers: http.Server[] = [];
  const addresses: EndpointAddress[] = [];
  let dead: EndpointAddress = { address: "127.0.0.1", port: 1 };
  const sender = createHttpSender();
  return {
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
      // A port that was just free: nothing listens there, so connecting is refused.
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
    ...(adapt !== undefined ? { adapt } : {}),
  };
}
