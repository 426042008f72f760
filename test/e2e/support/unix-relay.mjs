// A byte relay between a TCP port and a Unix socket. Unix sockets cross network namespaces (they live in
// the filesystem), so two relays let pods in their own namespaces reach a control plane on the host's
// loopback without giving the host any new address:
//   node unix-relay.mjs tcp-to-unix HOST PORT SOCKET   (inside a namespace)
//   node unix-relay.mjs unix-to-tcp SOCKET HOST PORT   (on the host)
import { rmSync } from "node:fs";
import net from "node:net";

const [mode, ...args] = process.argv.slice(2);
const pipe = (client, connect) => {
  const upstream = connect();
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
};

let server;
if (mode === "tcp-to-unix") {
  const [host, port, socket] = args;
  server = net.createServer((client) => pipe(client, () => net.connect(socket)));
  server.listen(Number(port), host, () => process.stdout.write("listening\n"));
} else if (mode === "unix-to-tcp") {
  const [socket, host, port] = args;
  rmSync(socket, { force: true });
  server = net.createServer((client) => pipe(client, () => net.connect(Number(port), host)));
  server.listen(socket, () => process.stdout.write("listening\n"));
} else {
  process.stderr.write("usage: unix-relay.mjs tcp-to-unix HOST PORT SOCKET | unix-to-tcp SOCKET HOST PORT\n");
  process.exit(2);
}
process.on("SIGTERM", () => server.close(() => process.exit(0)));
