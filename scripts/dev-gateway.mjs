#!/usr/bin/env node
// `npm run dev:gateway`: runs the edge gateway Worker locally (wrangler dev -c wrangler.gateway.toml) against
// the local control plane (`npm start`, default http://127.0.0.1:8787; --weft-url or WEFT_URL to change).
// With the control plane's admin token from .dev.vars it creates a join token for the gateway's identity
// (POST /v1/join-tokens, as `weft token create -n NS --service-account SA` does) and writes the gateway's
// own env file (.dev.vars.gateway, git-ignored: WEFT_URL, WEFT_JOIN_TOKEN, WEFT_ADMIN_TOKEN for /__weft/),
// then serves on http://127.0.0.1:8788 with a free devtools port.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8788" },
    ip: { type: "string", default: "127.0.0.1" },
    "weft-url": { type: "string", default: process.env.WEFT_URL ?? "http://127.0.0.1:8787" },
    // The control plane's .dev.vars (its admin token) and the gateway's generated env file (not --env-file: Node 20 reads that flag itself).
    "control-plane-vars": { type: "string", default: join(root, ".dev.vars") },
    "vars-file": { type: "string", default: join(root, ".dev.vars.gateway") },
    namespace: { type: "string", default: "istio-system" },
    "service-account": { type: "string", default: "weft-edge-gateway" },
    "token-ttl": { type: "string", default: "24h" },
    "inspector-port": { type: "string" },
    "persist-to": { type: "string" },
  },
});
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const weftUrl = values["weft-url"].replace(/\/+$/, "");

function fail(message) {
  console.error(`weft: ${message}`);
  process.exit(1);
}

/** KEY=value lines of a .dev.vars-style file. */
function readVars(file) {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.match(/^([A-Z0-9_]+)=(.*)$/))
      .filter((m) => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(String(port)));
    });
  });
}

const adminToken = readVars(values["control-plane-vars"]).WEFT_ADMIN_TOKEN;
if (!adminToken) fail(`no WEFT_ADMIN_TOKEN in ${values["control-plane-vars"]}: start the control plane once with \`npm start\``);

let created;
try {
  const response = await fetch(`${weftUrl}/v1/join-tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ namespace: values.namespace, serviceAccount: values["service-account"], ttl: values["token-ttl"] }),
  });
  if (!response.ok) fail(`the control plane at ${weftUrl} refused a join token: ${response.status} ${await response.text()}`);
  created = await response.json();
} catch (error) {
  fail(`cannot reach the control plane at ${weftUrl} (${error.cause?.code ?? error.message}): run \`npm start\` first`);
}

const previous = readVars(values["vars-file"]);
const gatewayVars = {
  WEFT_URL: weftUrl,
  WEFT_JOIN_TOKEN: created.token,
  WEFT_ADMIN_TOKEN: previous.WEFT_ADMIN_TOKEN ?? "weft_gw_" + randomBytes(24).toString("base64url"),
  WEFT_GATEWAY_NAMESPACE: values.namespace,
  WEFT_GATEWAY_SERVICE_ACCOUNT: values["service-account"],
};
writeFileSync(values["vars-file"], Object.entries(gatewayVars).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
chmodSync(values["vars-file"], 0o600);

const inspectorPort = values["inspector-port"] ?? (await freePort());
const url = `http://${values.ip}:${values.port}`;
console.log(`
weft: edge gateway starting on ${url}, config from ${weftUrl}
weft: join token for ${created.identity} (valid until ${created.expiresAt}) in ${values["vars-file"]}
      admin endpoints: curl -H "Authorization: Bearer $(sed -n 's/^WEFT_ADMIN_TOKEN=//p' ${values["vars-file"]})" ${url}/__weft/config_dump
      try a route:     curl -H 'Host: www.example.com' ${url}/
`);
const dev = spawn(
  wrangler,
  [
    "dev",
    "-c",
    "wrangler.gateway.toml",
    "--local",
    "--ip",
    values.ip,
    "--port",
    values.port,
    "--inspector-port",
    inspectorPort,
    "--show-interactive-dev-session=false",
    "--env-file",
    values["vars-file"],
    ...(values["persist-to"] ? ["--persist-to", values["persist-to"]] : []),
  ],
  { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
