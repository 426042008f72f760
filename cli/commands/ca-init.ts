/**
 * @module cli/commands/ca-init
 * `weft ca init [--out DIR] [--trust-domain TD]`: offline, makes the CA's private key (ECDSA P-256,
 * PKCS#8 PEM) in DIR/ca-key.pem, readable by its owner only and never overwritten, and says how a
 * deployed control plane gets it: as the Worker secret WEFT_CA_KEY, from which the Worker self-signs
 * its root on first use. The key never travels over the API.
 */
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spiffeId } from "../../control/ca/signing/spiffe-id.js";
import type { Command, CommandContext } from "../command.js";
import { InputError, OutputFileExists, UsageError } from "../errors.js";

const TOPIC = "ca init";
export const DEFAULT_CA_DIR = "weft-ca";
export const CA_KEY_FILE = "ca-key.pem";
const DEFAULT_TRUST_DOMAIN = "cluster.local";

export const caInitCommand: Command = {
  path: ["ca", "init"],
  synopsis: "[--out DIR] [--trust-domain TD]",
  summary: "Make a private key for the control plane's CA (offline)",
  options: { out: { type: "string" }, "trust-domain": { type: "string" } },
  flagHelp: [
    `    --out DIR               where to write ${CA_KEY_FILE} (default ./${DEFAULT_CA_DIR}); an existing key is never overwritten`,
    `    --trust-domain TD       the mesh's SPIFFE trust domain, for the next steps (default ${DEFAULT_TRUST_DOMAIN})`,
  ],
  notes: ["Runs offline. 'npm start' makes its own key for the local control plane; this is for a deployed one."],
  run: init,
};

async function init(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const out = ctx.flags.string("out") ?? DEFAULT_CA_DIR;
  if (out === "") throw new UsageError("--out needs a directory", TOPIC);
  const trustDomain = ctx.flags.string("trust-domain");
  if (trustDomain !== undefined) checkTrustDomain(trustDomain);

  const shown = join(out, CA_KEY_FILE);
  const path = resolve(ctx.io.cwd, shown);
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  writeKey(resolve(ctx.io.cwd, out), path, shown, pem);

  const customDomain = trustDomain !== undefined && trustDomain !== DEFAULT_TRUST_DOMAIN;
  const domain = trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const step = (() => {
    let n = 0;
    return (text: string) => ctx.out(`  ${++n}. ${text}`);
  })();
  ctx.out(`wrote the CA private key (ECDSA P-256, PKCS#8) to ${shown}, readable by you only; keep it secret and keep a copy offline`);
  ctx.out("");
  ctx.out("Next steps for a deployed control plane (Cloudflare Worker):");
  step(`npx wrangler secret put WEFT_CA_KEY < ${shown}`);
  if (customDomain) step(`set the trust domain in wrangler.toml, under [vars]: WEFT_TRUST_DOMAIN = "${domain}"`);
  step("npx wrangler deploy");
  step(`fetch the root for your workloads and proxies: curl https://<your-worker>/v1/ca/roots > root-cert.pem`);
  ctx.out("");
  ctx.out(`The Worker self-signs its root CA (10 years) from WEFT_CA_KEY on first use and serves it at /v1/ca/roots;`);
  ctx.out(`workloads then get certificates for SPIFFE IDs such as ${spiffeId(domain, "default", "default")}.`);
  ctx.out("The key never travels over the API: only the Worker secret holds it.");
  ctx.out("");
  ctx.out("To use a CA of your own instead (Istio's plug-in CA files), set WEFT_CA_KEY to its key and run:");
  ctx.out("  weft ca import --cert ca-cert.pem --key ca-key.pem --chain cert-chain.pem --root root-cert.pem");
  return 0;
}

function checkTrustDomain(trustDomain: string): void {
  try {
    spiffeId(trustDomain, "default", "default");
  } catch {
    throw new UsageError(`invalid trust domain "${trustDomain}": use lowercase DNS-style labels such as example.org`, TOPIC);
  }
}

/** Writes the key with mode 0600, creating the directory (0700) if needed; never replaces a file. */
function writeKey(dir: string, path: string, shown: string, pem: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new InputError(`--out ${dir}: cannot create the directory: ${(err as Error).message}`);
  }
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new OutputFileExists(shown, "It may be the key of a CA in use: move it away, or choose another --out DIR.");
    throw new InputError(`--out ${shown}: cannot write the key: ${(err as Error).message}`);
  }
  chmodSync(path, 0o600);
}
