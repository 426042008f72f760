// Run inside a network namespace as the proxy's uid (`ip netns exec NS setpriv --reuid=1337 ... node
// --import tsx capture-probe.ts JSON`): real capture listeners (the SO_ORIGINAL_DST addon, no
// injection) with a proxy core whose config knows no host (HTTP goes to the PassthroughCluster), plus
// the "services" the captured connections were meant for: a TCP echo and an HTTP server answering
// `app:<port> <path>`. Prints "ready", then one JSON line per sidecar log event.
// Argument: { address, echoPort, httpPort, outboundPort, inboundPort }.
import http from "node:http";
import net from "node:net";
import { PROXY_CONFIG_VERSION } from "../../../../../edge-proxy/core/config/proxy-config.js";
import { createProxy } from "../../../../../edge-proxy/core/proxy/proxy.js";
import { createCaptureListeners } from "../../../../../edge-proxy/hosts/sidecar/traffic/capture-listeners.js";
import { createMeshSender } from "../../../../../edge-proxy/hosts/sidecar/traffic/mesh-sender.js";

interface ProbeInput {
  address: string;
  echoPort: number;
  httpPort: number;
  outboundPort: number;
  inboundPort: number;
}

const input = JSON.parse(process.argv[2] ?? "{}") as ProbeInput;
const log = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const tls = { certificate: () => undefined, trust: () => undefined };
const ownPorts = new Set([input.outboundPort, input.inboundPort]);

async function main(): Promise<void> {
  const echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  const app = http.createServer((incoming, outgoing) => outgoing.end(`app:${input.httpPort} ${incoming.url}`));
  await new Promise<void>((resolve) => echo.listen(input.echoPort, input.address, resolve));
  await new Promise<void>((resolve) => app.listen(input.httpPort, input.address, resolve));
  const sender = createMeshSender({ tls, log, ownPorts, podIp: input.address });
  const proxy = createProxy({ version: PROXY_CONFIG_VERSION, proxy: { kind: "sidecar", namespace: "default", labels: {}, gateways: ["mesh"] }, listeners: [], clusters: [] }, { send: sender.send });
  const listeners = createCaptureListeners({ outboundPort: input.outboundPort, inboundPort: input.inboundPort, podIp: input.address, ownPorts, proxy: () => proxy, tls, log, protocolDetectionTimeoutMs: 300 });
  await listeners.listen();
  console.log("ready");
}

main().catch((error: unknown) => {
  console.log(JSON.stringify({ fatal: String(error) }));
  process.exit(1);
});
