// The conformance suite's upstreams inside workerd: a second Worker, reached through a service binding,
// running the same upstream app as the Node loopback servers. The harness names the endpoint in a header.
import { createUpstreamApp } from "../conformance/upstream-app.js";

const app = createUpstreamApp();

export default {
  fetch(request: Request): Promise<Response> {
    return app(request, request.headers.get("x-test-endpoint") ?? "unknown");
  },
};
