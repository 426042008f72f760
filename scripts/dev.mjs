#!/usr/bin/env node
// `npm start`: runs the control plane locally in workerd (wrangler dev) with a local D1 database.
// On first start it writes to .dev.vars (git-ignored) a random admin token, a CA private key (ECDSA
// P-256, PKCS#8; the Worker self-signs its root from it on first use) and a join-token secret,
// applies every migration, then serves on http://127.0.0.1:8787 (override with --port N;
// --persist-to DIR moves the state).
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    ip: { type: "string", default: "127.0.0.1" },
    "persist-to": { type: "string" },
    "env-file": { type: "string" },
    // wrangler's devtools port (default 9229): give each control plane its own when several run at once.
    "inspector-port": { type: "string" },
  },
});
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const varsFile = values["env-file"] ?? join(root, ".dev.vars");

/** Secrets the local control plane needs, each made once and kept in .dev.vars. */
const SECRETS = {
  WEFT_ADMIN_TOKEN: () => "weft_" + randomBytes(32).toString("base64url"),
  WEFT_CA_KEY: () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return JSON.stringify(privateKey.export({ type: "pkcs8", format: "pem" })); // one line, \n escaped
  },
  WEFT_JOIN_TOKEN_SECRET: () => randomBytes(32).toString("base64"),
};

function ensureSecrets() {
  let text = existsSync(varsFile) ? readFileSync(varsFile, "utf8") : "";
  const created = [];
  for (const [name, make] of Object.entries(SECRETS)) {
    if (new RegExp(`^${name}=`, "m").test(text)) continue;
    text += `${text && !text.endsWith("\n") ? "\n" : ""}${name}=${make()}\n`;
    created.push(name);
  }
  if (created.length > 0) {
    writeFileSync(varsFile, text, { mode: 0o600 });
    chmodSync(varsFile, 0o600);
  }
  return { created };
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(wrangler, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited with ${code}`))));
  });
}

const { created } = ensureSecrets();
const persist = values["persist-to"] ? ["--persist-to", values["persist-to"]] : [];
console.log("weft: applying D1 migrations to the local database");
await run(["d1", "migrations", "apply", "DB", "--local", ...persist]);

const url = `http://${values.ip}:${values.port}`;
console.log(`
weft: control plane starting on ${url}
weft: ${created.length > 0 ? `created ${created.join(", ")} in` : "using the secrets in"} ${varsFile}; the admin token is WEFT_ADMIN_TOKEN
      the CLI reads it from there: npx weft get virtualservices -A
      with curl: curl -H "Authorization: Bearer $(sed -n 's/^WEFT_ADMIN_TOKEN=//p' .dev.vars)" ${url}/apis
`);
const dev = spawn(
  wrangler,
  [
    "dev",
    "--local",
    "--ip",
    values.ip,
    "--port",
    values.port,
    "--show-interactive-dev-session=false",
    "--env-file",
    varsFile,
    ...persist,
    ...(values["inspector-port"] ? ["--inspector-port", values["inspector-port"]] : []),
  ],
  { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
