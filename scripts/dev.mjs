#!/usr/bin/env node
// `npm start`: runs the control plane locally in workerd (wrangler dev) with a local D1 database.
// On first start it writes a random admin token to .dev.vars (git-ignored), applies every migration,
// then serves on http://127.0.0.1:8787 (override with --port N; --persist-to DIR moves the state).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
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
  },
});
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const varsFile = values["env-file"] ?? join(root, ".dev.vars");

function ensureAdminToken() {
  const existing = existsSync(varsFile) ? readFileSync(varsFile, "utf8") : "";
  const found = existing.match(/^WEFT_ADMIN_TOKEN=(.+)$/m);
  if (found) return { token: found[1].trim(), created: false };
  const token = "weft_" + randomBytes(32).toString("base64url");
  writeFileSync(varsFile, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}WEFT_ADMIN_TOKEN=${token}\n`, { mode: 0o600 });
  chmodSync(varsFile, 0o600);
  return { token, created: true };
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(wrangler, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited with ${code}`))));
  });
}

const { created } = ensureAdminToken();
const persist = values["persist-to"] ? ["--persist-to", values["persist-to"]] : [];
console.log("weft: applying D1 migrations to the local database");
await run(["d1", "migrations", "apply", "DB", "--local", ...persist]);

const url = `http://${values.ip}:${values.port}`;
console.log(`
weft: control plane starting on ${url}
weft: ${created ? "created" : "using"} the admin token in ${varsFile} (WEFT_ADMIN_TOKEN)
      the CLI reads it from there: npx weft get virtualservices -A
      with curl: curl -H "Authorization: Bearer $(sed -n 's/^WEFT_ADMIN_TOKEN=//p' .dev.vars)" ${url}/apis
`);
const dev = spawn(
  wrangler,
  ["dev", "--local", "--ip", values.ip, "--port", values.port, "--show-interactive-dev-session=false", "--env-file", varsFile, ...persist],
  { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
