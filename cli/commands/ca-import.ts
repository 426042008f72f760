/**
 * @module cli/commands/ca-import
 * `weft ca import --cert ca-cert.pem --key ca-key.pem [--chain cert-chain.pem] --root root-cert.pem`:
 * plugs in a CA of your own, from the files Istio's plug-in CA ("cacerts") uses. The files are
 * checked here first. The private key never goes over the API: the control plane signs with its
 * WEFT_CA_KEY secret, which must be this key. For a local control plane (`npm start`, with .dev.vars
 * in the working directory) the key is written there; otherwise `wrangler secret put` sets it. Then
 * the certificates are sent, and the server checks the chain and that its key matches.
 */
import { createPrivateKey } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command, CommandContext } from "../command.js";
import { DEV_VARS_FILE, setDevVar, type DevVarChange } from "../dev-vars.js";
import { InputError, ServerError, UsageError } from "../errors.js";
import { shortFingerprint } from "../ca-output.js";
import { certificatesIn, pkcs8KeyIn, readInputFile, subjectLine, type CertificateFile } from "../pem-files.js";

const TOPIC = "ca import";
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const caImportCommand: Command = {
  path: ["ca", "import"],
  synopsis: "--cert ca-cert.pem --key ca-key.pem [--chain cert-chain.pem] --root root-cert.pem",
  summary: "Plug in your own CA (Istio's cacerts files) as the issuing CA",
  options: { cert: { type: "string" }, key: { type: "string" }, chain: { type: "string" }, root: { type: "string" } },
  flagHelp: [
    "    --cert FILE             the CA certificate workload certificates will be signed with (ca-cert.pem)",
    "    --key FILE              its private key, PKCS#8 PEM (ca-key.pem); never sent to the control plane",
    "    --chain FILE            the certificates from it up to the root (cert-chain.pem); optional",
    "    --root FILE             the self-signed root certificate (root-cert.pem)",
  ],
  notes: [
    "The control plane signs with its WEFT_CA_KEY secret, which must hold the --key: for a deployed one,",
    "run 'npx wrangler secret put WEFT_CA_KEY < ca-key.pem' first. For a local one ('npm start'), run this",
    "from the directory of its .dev.vars: the key is written there, and 'npm start' must then be restarted.",
    "The root joins the trust bundle beside the old one; retire the old root with 'weft ca roots retire'.",
  ],
  run: importCa,
};

interface ImportAnswer {
  fingerprint: string;
  root: string;
}

async function importCa(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const certPath = required(ctx, "cert", "ca-cert.pem");
  const keyPath = required(ctx, "key", "ca-key.pem");
  const rootPath = required(ctx, "root", "root-cert.pem");
  const chainPath = ctx.flags.string("chain");
  if (chainPath === "") throw new UsageError("--chain needs a file", TOPIC);

  const read = (flag: string, path: string) => readInputFile(flag, path, ctx.io.cwd);
  const [cert] = certificatesIn("--cert", certPath, await read("--cert", certPath), "one") as [CertificateFile];
  const key = pkcs8KeyIn("--key", keyPath, await read("--key", keyPath));
  const [root] = certificatesIn("--root", rootPath, await read("--root", rootPath), "one") as [CertificateFile];
  const chain = chainPath === undefined ? [] : certificatesIn("--chain", chainPath, await read("--chain", chainPath), "some");
  if (!cert.certificate.ca) throw new InputError(`--cert ${certPath}: ${subjectLine(cert.certificate)} is not a CA certificate (basicConstraints CA:TRUE)`);
  if (!cert.certificate.checkPrivateKey(key.key)) throw new InputError(`--key ${keyPath}: not the private key of the --cert certificate (${subjectLine(cert.certificate)})`);
  if (!root.certificate.ca || !root.certificate.checkIssued(root.certificate)) {
    throw new InputError(`--root ${rootPath}: ${subjectLine(root.certificate)} is not a self-signed CA certificate`);
  }
  checkChain(cert, chain, root, chainPath === undefined ? `--root ${rootPath}` : `--chain ${chainPath}`);

  const client = ctx.client();
  const local = LOCAL_HOSTS.has(new URL(client.url).hostname);
  const devVars = join(ctx.io.cwd, DEV_VARS_FILE);
  let keyChange: DevVarChange | undefined;
  if (local && existsSync(devVars)) {
    keyChange = setDevVar(devVars, "WEFT_CA_KEY", key.pem, (existing) => sameKey(existing, key.pem), `replaced by weft ca import at ${ctx.io.now().toISOString()}`);
    if (keyChange === "unchanged") ctx.out(`${DEV_VARS_FILE} already holds this key as WEFT_CA_KEY`);
    else ctx.out(`wrote the --key to ${DEV_VARS_FILE} as WEFT_CA_KEY; restart \`npm start\` so the control plane signs with it`);
  } else {
    ctx.out(`the key is not sent to the control plane: its WEFT_CA_KEY secret must first be set to it, with: npx wrangler secret put WEFT_CA_KEY < ${keyPath}`);
  }

  let answer: ImportAnswer;
  try {
    answer = (await client.request("POST", "/v1/ca/import", {
      body: JSON.stringify({ certificate: cert.pem, chain: chain.map((c) => c.pem), root: root.pem }),
      contentType: "application/json",
    })) as ImportAnswer;
  } catch (err) {
    if (!(err instanceof ServerError) || err.status.code !== 503) throw err;
    for (const line of err.lines()) ctx.err(line);
    ctx.err(notReadyHint(keyChange, keyPath));
    return 1;
  }
  ctx.out(`CA imported: workload certificates are now signed by ${subjectLine(cert.certificate)} (${shortFingerprint(answer.fingerprint)}), under root ${shortFingerprint(answer.root)}`);
  ctx.out("The root is in the trust bundle beside any older one; once every workload has a new certificate, retire the old root: weft ca roots retire FINGERPRINT");
  return 0;
}

/**
 * The certificates must chain from --cert through --chain to --root, each signed by the next, before
 * anything changes (the server checks again). Istio's cert-chain.pem starts with ca-cert itself and
 * ends with the root: those two are skipped in it.
 */
function checkChain(cert: CertificateFile, chain: readonly CertificateFile[], root: CertificateFile, where: string): void {
  const ends = new Set([cert.certificate.fingerprint256, root.certificate.fingerprint256]);
  const between = chain.filter((c) => !ends.has(c.certificate.fingerprint256));
  const path = cert.certificate.fingerprint256 === root.certificate.fingerprint256 ? [cert] : [cert, ...between, root];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!.certificate;
    const parent = path[i + 1]!.certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new InputError(`${where}: the certificates do not chain from --cert to --root: ${subjectLine(child)} is not signed by ${subjectLine(parent)}`);
    }
  }
}

function required(ctx: CommandContext, flag: string, example: string): string {
  const value = ctx.flags.string(flag);
  if (value === undefined || value === "") throw new UsageError(`--${flag} is required: --${flag} ${example}`, TOPIC);
  return value;
}

/** What to do when the control plane's WEFT_CA_KEY is not the key of --cert (503 CaNotReady). */
function notReadyHint(keyChange: DevVarChange | undefined, keyPath: string): string {
  if (keyChange === "added" || keyChange === "replaced") {
    return `The control plane still runs with its old WEFT_CA_KEY: restart \`npm start\` (it reads ${DEV_VARS_FILE} when it starts), then run this command again.`;
  }
  if (keyChange === "unchanged") return `The control plane's WEFT_CA_KEY is not this key: restart \`npm start\` from this directory, then run this command again.`;
  return `The control plane's WEFT_CA_KEY is not the key of --cert: run \`npx wrangler secret put WEFT_CA_KEY < ${keyPath}\`, then run this command again.`;
}

/** Whether a WEFT_CA_KEY value (PEM, \n-escaped PEM or bare base64) is the same key as `pem`. */
function sameKey(existing: string, pem: string): boolean {
  try {
    const text = existing.replace(/\\n/g, "\n").trim();
    const asPem = text.includes("-----BEGIN") ? text : `-----BEGIN PRIVATE KEY-----\n${text}\n-----END PRIVATE KEY-----\n`;
    const der = (k: string) => createPrivateKey({ key: k, format: "pem" }).export({ type: "pkcs8", format: "der" });
    return der(asPem).equals(der(pem));
  } catch {
    return false;
  }
}
