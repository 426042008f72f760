// Run inside a network namespace (`ip netns exec NS node --import tsx original-destination-probe.ts
// JSON`): listens where asked, makes each connection asked, and prints one JSON line with what
// `originalDestination` (the real addon, through the TypeScript loader) said for each accepted socket.
// Argument: { listeners: [{ port, host }], connections: [{ name, host, port }] }.
import net from "node:net";
import { originalDestination } from "../../../../../edge-proxy/hosts/sidecar/traffic/original-destination.js";

interface ProbeInput {
  listeners: { port: number; host: string }[];
  connections: { name: string; host: string; port: number }[];
}

const input = JSON.parse(process.argv[2] ?? "{}") as ProbeInput;
const results: Record<string, unknown> = {};

async function main(): Promise<void> {
  const servers: net.Server[] = [];
  /** Each accepted socket reports on the first line the client sends: its connection's name. */
  const reports = new Map<string, (value: unknown) => void>();
  for (const listener of input.listeners) {
    const server = net.createServer((socket) => {
      let answer: unknown;
      try {
        answer = originalDestination(socket) ?? null;
      } catch (error) {
        answer = { error: (error as Error).message };
      }
      const listenerInfo = `${listener.host}:${listener.port}`;
      socket.setEncoding("utf8").once("data", (name: string) => {
        reports.get(name.trim())?.({ via: listenerInfo, originalDestination: answer });
        socket.end();
      });
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen({ port: listener.port, host: listener.host, ipv6Only: false }, resolve));
    servers.push(server);
  }
  for (const connection of input.connections) {
    results[connection.name] = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ error: "timeout" }), 3000);
      reports.set(connection.name, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      const client = net.connect({ host: connection.host, port: connection.port }, () => client.write(`${connection.name}\n`));
      client.on("error", (error) => {
        clearTimeout(timer);
        resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message });
      });
      client.resume();
    });
  }
  for (const server of servers) server.close();
  console.log(JSON.stringify(results));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.log(JSON.stringify({ fatal: String(error) }));
    process.exit(1);
  },
);
