// The proxy core's conformance suite inside workerd: the engine runs in this Worker, upstream endpoints
// are a second Worker (test/workers/upstream-worker.ts) behind the UPSTREAMS service binding, and the dead
// endpoint is a real loopback address nobody listens on (workerd's own fetch is refused).
import { env } from "cloudflare:test";
import { UpstreamFailure } from "../../edge-proxy/core/proxy/host.js";
import type { ConformanceHarness, EndpointAddress } from "../conformance/harness.js";
import { conformanceSuite } from "../conformance/suite.js";

/** Endpoint i is 127.0.0.1:(FIRST_PORT + i) in the config; the harness sends it to the upstream Worker. */
const FIRST_PORT = 18080;
let live = 0;

const harness: ConformanceHarness = {
  runtime: "workerd",
  async start(count) {
    live = count;
  },
  async stop() {},
  endpoint: (i) => ({ address: "127.0.0.1", port: FIRST_PORT + i }),
  deadEndpoint: (): EndpointAddress => ({ address: "127.0.0.1", port: 9 }),
  async send(request, target) {
    const index = target.endpoint.port - FIRST_PORT;
    if (target.endpoint.address === "127.0.0.1" && index >= 0 && index < live) {
      const headers = new Headers(request.headers);
      headers.set("x-test-endpoint", `e${index}`);
      try {
        return await env.UPSTREAMS.fetch(new Request(request, { headers }));
      } catch (error) {
        throw new UpstreamFailure("reset", String(error), { cause: error });
      }
    }
    const url = new URL(request.url);
    try {
      return await fetch(`http://${target.endpoint.address}:${target.endpoint.port}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body: request.body });
    } catch (error) {
      throw new UpstreamFailure("connect-failure", String(error), { cause: error });
    }
  },
};

conformanceSuite(harness);
