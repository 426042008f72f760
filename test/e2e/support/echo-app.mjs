// The application of a test pod: answers every request with JSON describing what it received (method,
// path, the headers as it saw them, the peer address), so a test can see what the sidecar delivered.
//   node echo-app.mjs PORT NAME
import http from "node:http";

const [port, name] = process.argv.slice(2);
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (c) => chunks.push(c));
  request.on("end", () => {
    const body = JSON.stringify({ app: name, method: request.method, path: request.url, headers: request.headers, peer: request.socket.remoteAddress, bytes: Buffer.concat(chunks).length });
    response.writeHead(200, { "content-type": "application/json", "x-app": name });
    response.end(body);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(port), "0.0.0.0", () => process.stdout.write("listening\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
