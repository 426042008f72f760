/**
 * @module cli/commands/ca-roots-add
 * `weft ca roots add -f root.pem`: adds trust anchors (the first step of a root rotation: workloads
 * learn to trust the new root before anything is signed under it). Every certificate in the file is
 * added; each must be a self-signed CA certificate.
 */
import type { Command, CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { shortFingerprint, timestamp } from "../ca-output.js";
import { certificatesIn, readInputFile, type CertificateFile } from "../pem-files.js";

interface AddedRoot {
  fingerprint: string;
  subject: string;
  notAfter: string;
}

const TOPIC = "ca roots add";

export const caRootsAddCommand: Command = {
  path: ["ca", "roots", "add"],
  synopsis: "-f root.pem",
  summary: "Add root certificates to the trust bundle",
  options: { filename: { type: "string", short: "f", multiple: true } },
  flagHelp: ["-f, --filename FILE|-        a PEM file of one or more self-signed CA certificates, or - for stdin"],
  run: addRoots,
};

async function addRoots(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`, TOPIC);
  const files = ctx.flags.strings("filename");
  if (files.length === 0) throw new UsageError("must specify -f root.pem", TOPIC);
  const certificates: CertificateFile[] = [];
  for (const file of files) {
    const text = await readInputFile("-f", file, ctx.io.cwd, () => ctx.io.readStdin());
    certificates.push(...certificatesIn("-f", file, text, "some"));
  }
  const client = ctx.client();
  for (const { pem } of certificates) {
    const added = (await client.request("POST", "/v1/ca/roots", { body: JSON.stringify({ certificate: pem }), contentType: "application/json" })) as AddedRoot;
    ctx.out(`root ${shortFingerprint(added.fingerprint)} added (${added.subject}, expires ${timestamp(added.notAfter)})`);
  }
  return 0;
}
