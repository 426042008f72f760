/**
 * @module hosts/sidecar/admin/serve-apps
 * Binds the sidecar's status and admin apps (web fetch handlers) to node:http listeners.
 */
import http from "node:http";
import { toWebRequest, writeWebResponse } from "../../node/serve-http.js";

export type FetchHandler = { fetch(request: Request): Response | Promise<Response> };

/** Listens on `host:port` and answers with `app`; resolves once listening. */
export function serveApp(app: FetchHandler, port: number, host: string): Promise<http.Server> {
  const server = http.createServer((incoming, outgoing) => {
    const { request } = toWebRequest(incoming);
    Promise.resolve()
      .then(() => app.fetch(request))
      .then((response) => writeWebResponse(response, outgoing))
      .catch((error: unknown) => {
        if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain" });
        outgoing.end(`internal error: ${String(error)}\n`);
      });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

/** Closes `server` and its idle connections; resolves when closed. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
