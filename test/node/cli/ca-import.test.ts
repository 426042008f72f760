// `weft ca import` end to end, the way a developer plugs a CA into the local control plane: run from
// the directory of the .dev.vars `npm start` uses, the command writes WEFT_CA_KEY there and asks for
// a restart; after the restart the same command imports the CA, certificates chain to the new root
// (openssl verifies one), and the old root can be retired. The control plane is restarted on the same
// state and .dev.vars, as a developer restarts `npm start`.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type RunningControlPlane } from "../support/control-plane.js";
import { runCli, tempDir } from "./run-cli.js";

const dir = tempDir("weft-ca-plugin-");
const devVars = join(dir, ".dev.vars");

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}

let cp: RunningControlPlane;
let url: string;
let adminToken: string;

beforeAll(async () => {
  cp = await startControlPlane({ envFile: devVars });
  url = cp.url;
  adminToken = cp.adminToken;
});
afterAll(async () => {
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true }); // it holds CA keys
});

/** weft run from the .dev.vars directory: the token comes from there, as for a developer. */
const weft = (argv: string[]) => runCli([...argv, "--server", url], { cwd: dir });

describe("weft ca import into a local control plane", () => {
  it("writes WEFT_CA_KEY to .dev.vars, imports after the restart, and certificates chain to the plugged-in root", async () => {
    // The control plane made its own key on first start, and its root on first use.
    expect(readFileSync(devVars, "utf8")).toMatch(/^WEFT_CA_KEY="-----BEGIN PRIVATE KEY-----\\n/m);
    const before = await weft(["ca", "roots"]);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/\sactive\n$/);
    const oldRoot = fingerprint(await (await fetch(`${url}/v1/ca/roots`)).text());

    // Istio's plug-in CA files: a root, an intermediate (ca-cert.pem, PKCS#8 ca-key.pem) and cert-chain.pem.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "root-key.pem"), "-out", join(dir, "root-cert.pem"),
      "-subj", "/O=example/CN=Plug-in Root", "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "ca-key.pem"));
    openssl("req", "-new", "-key", join(dir, "ca-key.pem"), "-subj", "/O=example/CN=Plug-in Intermediate", "-out", join(dir, "ca.csr"));
    writeFileSync(join(dir, "ca-ext.cnf"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    openssl("x509", "-req", "-in", join(dir, "ca.csr"), "-CA", join(dir, "root-cert.pem"), "-CAkey", join(dir, "root-key.pem"), "-CAcreateserial", "-days", "365",
      "-extfile", join(dir, "ca-ext.cnf"), "-out", join(dir, "ca-cert.pem"));
    writeFileSync(join(dir, "cert-chain.pem"), readFileSync(join(dir, "ca-cert.pem"), "utf8") + readFileSync(join(dir, "root-cert.pem"), "utf8"));
    const importArgs = ["ca", "import", "--cert", "ca-cert.pem", "--key", "ca-key.pem", "--chain", "cert-chain.pem", "--root", "root-cert.pem"];

    // First run: the running control plane still has its own key.
    const first = await weft(importArgs);
    expect(first.stdout).toBe("wrote the --key to .dev.vars as WEFT_CA_KEY; restart `npm start` so the control plane signs with it\n");
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/^Error from server \(ServiceUnavailable\): .*\nThe control plane still runs with its old WEFT_CA_KEY: restart `npm start`/);
    const written = readFileSync(devVars, "utf8");
    expect(written).toContain(`WEFT_ADMIN_TOKEN=${adminToken}\n`);
    expect(written).toMatch(/^# previous WEFT_CA_KEY, replaced by weft ca import at \S+: "-----BEGIN PRIVATE KEY-----\\n/m); // the generated key is kept

    // Restart on the same state: now the same command imports.
    await cp.restart();
    const second = await weft(importArgs);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const newRoot = fingerprint(readFileSync(join(dir, "root-cert.pem"), "utf8"));
    const issuer = fingerprint(readFileSync(join(dir, "ca-cert.pem"), "utf8"));
    expect(second.stdout).toBe(
      ".dev.vars already holds this key as WEFT_CA_KEY\n" +
        `CA imported: workload certificates are now signed by O=example, CN=Plug-in Intermediate (${issuer.slice(0, 16)}), under root ${newRoot.slice(0, 16)}\n` +
        "The root is in the trust bundle beside any older one; once every workload has a new certificate, retire the old root: weft ca roots retire FINGERPRINT\n",
    );

    // Both roots are trusted during the rotation.
    const roots = await weft(["ca", "roots"]);
    expect(roots.stdout).toMatch(new RegExp(`^${oldRoot.slice(0, 16)}\\s.*\\sactive$`, "m"));
    expect(roots.stdout).toMatch(new RegExp(`^${newRoot.slice(0, 16)}\\s+O=example, CN=Plug-in Root\\s.*\\sactive$`, "m"));

    // A workload certificate now chains through the intermediate to the plugged-in root.
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "w.key"), "-out", join(dir, "w.csr"),
      "-subj", "/", "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/demo");
    const res = await fetch(`${url}/v1/certificates`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ csr: readFileSync(join(dir, "w.csr"), "utf8") }),
    });
    const issued = (await res.json()) as { certChain: string[]; serial: string; message?: string };
    expect(res.status, issued.message).toBe(201);
    expect(issued.certChain.slice(1).map(fingerprint)).toEqual([issuer, newRoot]);
    writeFileSync(join(dir, "w.crt"), issued.certChain[0]!);
    expect(openssl("verify", "-CAfile", join(dir, "root-cert.pem"), "-untrusted", join(dir, "ca-cert.pem"), join(dir, "w.crt"))).toContain(": OK");

    const certs = await weft(["ca", "certs"]);
    expect(certs.stdout).toMatch(new RegExp(`^${issued.serial}\\s+spiffe://cluster\\.local/ns/default/sa/demo\\s+\\S+\\s+admin\\s+Valid\\s`, "m"));

    // The old root no longer anchors the issuer: it can be retired, and only the new one is served.
    const retired = await weft(["ca", "roots", "retire", oldRoot.slice(0, 10)]);
    expect(retired).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^root ${oldRoot.slice(0, 16)} retired `)) });
    expect(fingerprint(await (await fetch(`${url}/v1/ca/roots`)).text())).toBe(newRoot);
  });
});
