// The `weft ca` commands. Offline: `ca init` writes a P-256 PKCS#8 key readable by its owner only and
// never overwrites one, every command checks its arguments (exit 2) and `ca import` its files (exit 1)
// before the network. Against a real control plane (`npm start`'s script): the root is made on first
// use and listed, roots are added and retired by fingerprint prefix, a certificate issued with the
// admin token is listed and revoked, and an import whose key the server does not hold is refused
// with what to do about it.
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type RunningControlPlane } from "../support/control-plane.js";
import { runCli, tempDir, type CliRunOptions } from "./run-cli.js";

// Port 1 has no listener: a command that got as far as the network would fail with "cannot reach".
const OFFLINE = ["--server", "http://127.0.0.1:1", "--token", "t"];
const DEMO_ID = "spiffe://cluster.local/ns/default/sa/demo";

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function lines(text: string): string[] {
  return text.trimEnd().split("\n");
}

/** The SHA-256 fingerprint as the API spells it: lowercase hex, no colons. */
function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** A self-signed CA certificate and its PKCS#8 key, as Istio's plug-in CA tooling makes them. */
function makeRoot(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
    "-subj", `/O=example/CN=${name}`, "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  return { cert, key };
}

/** An intermediate CA (ca-cert.pem, ca-key.pem) signed by `root`, with Istio's cert-chain.pem. */
function makeIntermediate(dir: string, root: { cert: string; key: string }): { cert: string; key: string; chain: string } {
  const cert = join(dir, "ca-cert.pem");
  const key = join(dir, "ca-key.pem");
  const chain = join(dir, "cert-chain.pem");
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
  openssl("req", "-new", "-key", key, "-subj", "/O=example/CN=Intermediate CA", "-out", join(dir, "ca.csr"));
  writeFileSync(join(dir, "ca-ext.cnf"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
  openssl("x509", "-req", "-in", join(dir, "ca.csr"), "-CA", root.cert, "-CAkey", root.key, "-CAcreateserial", "-days", "365", "-extfile", join(dir, "ca-ext.cnf"), "-out", cert);
  writeFileSync(chain, readFileSync(cert, "utf8") + readFileSync(root.cert, "utf8"));
  return { cert, key, chain };
}

/** A PKCS#10 CSR for `identity`, made with openssl. */
function makeCsr(dir: string, name: string, identity: string): string {
  const csr = join(dir, `${name}.csr`);
  openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", csr,
    "-subj", "/", "-addext", `subjectAltName=URI:${identity}`);
  return readFileSync(csr, "utf8");
}

describe("weft ca init (offline)", () => {
  it("writes an ECDSA P-256 PKCS#8 key with mode 0600 to ./weft-ca/ca-key.pem, and prints the next steps", async () => {
    const dir = tempDir();
    const run = await runCli(["ca", "init"], { cwd: dir }); // no server, no token: nothing is contacted
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    const keyFile = join(dir, "weft-ca", "ca-key.pem");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const pem = readFileSync(keyFile, "utf8");
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const text = openssl("pkey", "-in", keyFile, "-noout", "-text");
    expect(text).toContain("Private-Key: (256 bit)");
    expect(text).toContain("ASN1 OID: prime256v1");

    const out = run.stdout;
    expect(lines(out)[0]).toBe("wrote the CA private key (ECDSA P-256, PKCS#8) to weft-ca/ca-key.pem, readable by you only; keep it secret and keep a copy offline");
    expect(out).toContain("1. npx wrangler secret put WEFT_CA_KEY < weft-ca/ca-key.pem");
    expect(out).toContain("2. npx wrangler deploy");
    expect(out.indexOf("wrangler secret put")).toBeLessThan(out.indexOf("wrangler deploy"));
    expect(out).toContain("self-signs its root CA (10 years) from WEFT_CA_KEY on first use and serves it at /v1/ca/roots");
    expect(out).toContain("weft ca import --cert ca-cert.pem --key ca-key.pem --chain cert-chain.pem --root root-cert.pem");
    expect(out).not.toContain(pem.split("\n")[1]!); // the key itself is never printed
  });

  it("takes --out DIR and --trust-domain, and says where the trust domain goes", async () => {
    const dir = tempDir();
    const run = await runCli(["ca", "init", "--out", "secrets/prod-ca", "--trust-domain", "mesh.example.org"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(statSync(join(dir, "secrets", "prod-ca", "ca-key.pem")).mode & 0o777).toBe(0o600);
    expect(run.stdout).toContain("npx wrangler secret put WEFT_CA_KEY < secrets/prod-ca/ca-key.pem");
    expect(run.stdout).toContain('WEFT_TRUST_DOMAIN = "mesh.example.org"');
    expect(run.stdout).toContain("spiffe://mesh.example.org/ns/default/sa/default");
  });

  it("refuses to overwrite an existing key (exit 1), leaving it as it was", async () => {
    const dir = tempDir();
    expect((await runCli(["ca", "init"], { cwd: dir })).code).toBe(0);
    const keyFile = join(dir, "weft-ca", "ca-key.pem");
    const before = readFileSync(keyFile, "utf8");
    const again = await runCli(["ca", "init"], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(/^error: weft-ca\/ca-key\.pem already exists; refusing to overwrite it\./);
    expect(readFileSync(keyFile, "utf8")).toBe(before);

    writeFileSync(join(dir, "ca-key.pem"), "not mine to replace\n");
    const over = await runCli(["ca", "init", "--out", "."], { cwd: dir });
    expect(over.code).toBe(1);
    expect(readFileSync(join(dir, "ca-key.pem"), "utf8")).toBe("not mine to replace\n");
  });

  it("refuses a bad trust domain or an extra argument (exit 2), writing nothing", async () => {
    const dir = tempDir();
    const bad = await runCli(["ca", "init", "--trust-domain", "Not A Domain"], { cwd: dir });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('invalid trust domain "Not A Domain"') });
    const extra = await runCli(["ca", "init", "somewhere"], { cwd: dir });
    expect(extra).toMatchObject({ code: 2, stderr: expect.stringContaining('unexpected argument "somewhere"') });
    expect(existsSync(join(dir, "weft-ca"))).toBe(false);
  });
});

describe("weft ca: command-line errors exit 2 before any request", () => {
  it("names the subcommands of `ca` and of `ca roots`", async () => {
    expect(await runCli(["ca"])).toMatchObject({ code: 2, stderr: expect.stringContaining('"ca" needs a subcommand: one of init, import, roots, certs, revoke') });
    expect(await runCli(["ca", "sign"])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "sign" for "weft ca"') });
    expect(await runCli(["ca", "roots", "rotate", ...OFFLINE])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "rotate" for "weft ca roots": one of add, retire'),
    });
  });

  it("checks each command's arguments and flags", async () => {
    const cases: [string[], string][] = [
      [["ca", "revoke"], "a serial is required: weft ca revoke SERIAL"],
      [["ca", "revoke", "not-hex"], '"not-hex" is not a certificate serial'],
      [["ca", "revoke", "ab", "cd"], 'unexpected argument "cd"'],
      [["ca", "certs", "-o", "wide"], 'unable to match a printer suitable for the output format "wide", allowed formats are: json,yaml'],
      [["ca", "certs", "-n", "default", "-A"], "give either -n NS or -A, not both"],
      [["ca", "roots", "-o", "table"], 'unable to match a printer suitable for the output format "table"'],
      [["ca", "roots", "add"], "must specify -f root.pem"],
      [["ca", "roots", "retire"], "a fingerprint is required: weft ca roots retire FINGERPRINT"],
      [["ca", "roots", "retire", "xyz"], '"xyz" is not a fingerprint'],
      [["ca", "import", "--key", "k.pem", "--root", "r.pem"], "--cert is required: --cert ca-cert.pem"],
      [["ca", "import", "--cert", "c.pem", "--root", "r.pem"], "--key is required: --key ca-key.pem"],
      [["ca", "import", "--cert", "c.pem", "--key", "k.pem"], "--root is required: --root root-cert.pem"],
      [["ca", "certs", "--reason", "x"], "unknown flag: --reason"],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli([...argv, ...OFFLINE]);
      expect({ argv, code: run.code, stdout: run.stdout }).toEqual({ argv, code: 2, stdout: "" });
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain(`See 'weft help ca`);
    }
  });

  it("shows the subcommands on `help ca roots` and every ca command on `help ca`", async () => {
    const roots = await runCli(["help", "ca", "roots"]);
    expect(roots.code).toBe(0);
    expect(roots.stdout).toContain("weft ca roots [-o json|yaml]");
    expect(roots.stdout).toContain("Subcommands:");
    expect(roots.stdout).toContain("weft ca roots add -f root.pem");
    expect(roots.stdout).toContain("weft ca roots retire FINGERPRINT");
    const add = await runCli(["ca", "roots", "add", "--help"]);
    expect(add.stdout).toContain("-f, --filename FILE|-");
    const family = await runCli(["help", "ca"]);
    for (const usage of ["ca init [--out DIR]", "ca import --cert", "ca roots [-o", "ca roots add", "ca roots retire", "ca certs [-n NS | -A]", "ca revoke SERIAL"]) {
      expect(family.stdout).toContain(`weft ${usage}`);
    }
  });
});

describe("weft ca import checks its files before any request (exit 1, naming the flag)", () => {
  const dir = tempDir("weft-ca-files-");
  const root = makeRoot(dir, "root-cert");
  const ca = makeIntermediate(dir, root);
  const other = makeRoot(dir, "other-root");
  const importArgs = (over: Partial<Record<"cert" | "key" | "chain" | "root", string>>) => {
    const files = { cert: ca.cert, key: ca.key, chain: ca.chain, root: root.cert, ...over };
    return ["ca", "import", "--cert", files.cert, "--key", files.key, "--chain", files.chain, "--root", files.root, ...OFFLINE];
  };

  it("a SEC1 'EC PRIVATE KEY' gets the openssl pkcs8 conversion to run", async () => {
    const sec1 = join(dir, "sec1-key.pem");
    openssl("ec", "-in", ca.key, "-out", sec1);
    expect(readFileSync(sec1, "utf8")).toContain("-----BEGIN EC PRIVATE KEY-----");
    const run = await runCli(importArgs({ key: sec1 }));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `error: --key ${sec1}: an EC private key in SEC1 form (BEGIN EC PRIVATE KEY); Weft takes a PKCS#8 key (BEGIN PRIVATE KEY): ` +
        `convert it with: openssl pkcs8 -topk8 -nocrypt -in ${sec1} -out ca-key.pkcs8.pem\n`,
    );
  });

  it("a missing file, a file that is not a certificate or not a key, a key of another certificate", async () => {
    const csr = join(dir, "ca.csr");
    const cases: [Parameters<typeof importArgs>[0], string][] = [
      [{ cert: join(dir, "missing.pem") }, `error: --cert ${join(dir, "missing.pem")}: no such file`],
      [{ cert: csr }, `error: --cert ${csr}: not a PEM certificate (-----BEGIN CERTIFICATE-----): it holds CERTIFICATE REQUEST`],
      [{ root: ca.key }, `error: --root ${ca.key}: not a PEM certificate (-----BEGIN CERTIFICATE-----): it holds PRIVATE KEY`],
      [{ chain: join(dir, "ca-ext.cnf") }, `error: --chain ${join(dir, "ca-ext.cnf")}: not a PEM certificate (-----BEGIN CERTIFICATE-----): it holds no PEM block`],
      [{ key: ca.cert }, `error: --key ${ca.cert}: not a PKCS#8 private key (-----BEGIN PRIVATE KEY-----): it holds CERTIFICATE`],
      [{ cert: ca.chain }, `error: --cert ${ca.chain}: holds 2 certificates; give a file with exactly one`],
      [{ key: root.key }, `error: --key ${root.key}: not the private key of the --cert certificate (O=example, CN=Intermediate CA)`],
      [{ root: ca.cert }, `error: --root ${ca.cert}: O=example, CN=Intermediate CA is not a self-signed CA certificate`],
      [{ key: dir }, `error: --key ${dir}: is a directory, not a PEM file`],
      // cert-chain.pem ends with root-cert, which other-root did not sign
      [{ root: other.cert }, `error: --chain ${ca.chain}: the certificates do not chain from --cert to --root: O=example, CN=root-cert is not signed by O=example, CN=other-root`],
      [{ chain: other.cert }, `error: --chain ${other.cert}: the certificates do not chain from --cert to --root: O=example, CN=Intermediate CA is not signed by O=example, CN=other-root`],
    ];
    for (const [over, message] of cases) {
      const run = await runCli(importArgs(over));
      expect({ over, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ over, code: 1, stdout: "", stderr: `${message}\n` });
    }
  });

  it("reads files relative to the working directory", async () => {
    const run = await runCli(["ca", "import", "--cert", "nope.pem", "--key", "ca-key.pem", "--root", "root-cert.pem", ...OFFLINE], { cwd: dir });
    expect(run).toEqual({ code: 1, stdout: "", stderr: "error: --cert nope.pem: no such file\n" });
  });
});

describe("weft ca against the control plane", () => {
  let cp: RunningControlPlane;
  const dir = tempDir("weft-ca-server-");
  beforeAll(async () => {
    cp = await startControlPlane();
  });
  afterAll(async () => {
    await cp?.stop();
  });

  const weft = (argv: string[], options: CliRunOptions = {}) => runCli([...argv, "--server", cp.url, "--token", cp.adminToken], options);

  /** Issues a certificate for `identity` with the admin token, as an operator's script would. */
  async function issue(name: string, identity: string): Promise<{ serial: string; expiresAt: string }> {
    const res = await fetch(`${cp.url}/v1/certificates`, {
      method: "POST",
      headers: { authorization: `Bearer ${cp.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ csr: makeCsr(dir, name, identity) }),
    });
    const body = (await res.json()) as { serial: string; expiresAt: string; certChain: string[]; message?: string };
    expect(res.status, body.message).toBe(201);
    writeFileSync(join(dir, `${name}.crt`), body.certChain[0]!);
    return body;
  }

  it("lists one active root, made on first use, with the fingerprint of the served bundle", async () => {
    const run = await weft(["ca", "roots"]); // the first request of the CA: the root does not exist yet
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const [header, ...rows] = lines(run.stdout);
    expect(header).toMatch(/^FINGERPRINT\s{3,}SUBJECT\s{3,}NOT AFTER\s{3,}STATUS$/);
    expect(rows).toHaveLength(1);

    const bundle = await (await fetch(`${cp.url}/v1/ca/roots`)).text();
    const served = fingerprint(bundle);
    const notAfter = new X509Certificate(bundle).validTo;
    expect(rows[0]).toMatch(new RegExp(`^${served.slice(0, 16)}\\s+\\S.*\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\s+active$`));
    const years = (Date.parse(notAfter) - Date.now()) / (365 * 24 * 3_600_000);
    expect(years).toBeGreaterThan(9.9);

    const json = await weft(["ca", "roots", "-o", "json"]);
    const items = (JSON.parse(json.stdout) as { items: { fingerprint: string; retiredAt: string | null }[] }).items;
    expect(items).toEqual([expect.objectContaining({ fingerprint: served, retiredAt: null })]);
  });

  it("lists a certificate issued with the admin token, revokes it, and shows Valid, Revoked and Expired", async () => {
    const demo = await issue("demo", DEMO_ID);
    const other = await issue("other", "spiffe://cluster.local/ns/payments/sa/ledger");
    const keep = await issue("keep", "spiffe://cluster.local/ns/default/sa/keep");

    const listed = await weft(["ca", "certs"]);
    expect(listed.code).toBe(0);
    const [header, ...rows] = lines(listed.stdout);
    expect(header?.split(/\s{3,}/)).toEqual(["SERIAL", "IDENTITY", "NOT AFTER", "REQUESTER", "STATUS", "AGE"]);
    expect(rows).toHaveLength(2); // the default namespace only
    const demoRow = rows.find((r) => r.startsWith(demo.serial));
    expect(demoRow?.split(/\s+/)).toEqual([demo.serial, DEMO_ID, demo.expiresAt.replace(/\.\d{3}Z$/, "Z"), "admin", "Valid", expect.stringMatching(/^\d+s$/)]);
    expect(listed.stdout).not.toContain(other.serial);

    const payments = await weft(["ca", "certs", "-n", "payments"]);
    expect(lines(payments.stdout).slice(1).map((r) => r.split(/\s+/)[0])).toEqual([other.serial]);
    const all = await weft(["ca", "certs", "-A"]);
    expect(lines(all.stdout)[0]?.split(/\s{3,}/)).toEqual(["NAMESPACE", "SERIAL", "IDENTITY", "NOT AFTER", "REQUESTER", "STATUS", "AGE"]);
    expect(all.stdout).toMatch(new RegExp(`^payments\\s+${other.serial}\\s+spiffe://cluster\\.local/ns/payments/sa/ledger\\s`, "m"));
    expect(lines(all.stdout)).toHaveLength(4);
    const empty = await weft(["ca", "certs", "-n", "nobody"]);
    expect(empty).toEqual({ code: 0, stdout: "", stderr: "No certificates found in nobody namespace.\n" });

    // The serial as openssl prints it (upper case, colons) is accepted too.
    const pasted = demo.serial.toUpperCase().replace(/(..)(?=.)/g, "$1:");
    const revoked = await weft(["ca", "revoke", pasted, "--reason", "key compromise"]);
    expect(revoked).toEqual({ code: 0, stdout: `certificate ${demo.serial} revoked\n`, stderr: "" });

    const after = await weft(["ca", "certs"]);
    expect(after.stdout).toMatch(new RegExp(`^${demo.serial}\\s+${DEMO_ID.replace(/\./g, "\\.")}\\s+\\S+\\s+admin\\s+Revoked\\s+\\d+s$`, "m"));
    expect(after.stdout).toMatch(new RegExp(`^${keep.serial}\\s.*\\sValid\\s+\\d+s$`, "m"));

    // The CRL lists the serial.
    writeFileSync(join(dir, "crl.pem"), await (await fetch(`${cp.url}/v1/ca/crl`)).text());
    expect(openssl("crl", "-in", join(dir, "crl.pem"), "-noout", "-text").toLowerCase()).toContain(`serial number: ${demo.serial}`);

    // Two days on (the io clock), the unrevoked certificate has expired and the revoked one stays Revoked.
    const later = new Date(Date.now() + 2 * 24 * 3_600_000);
    const future = await weft(["ca", "certs"], { now: later });
    expect(future.stdout).toMatch(new RegExp(`^${keep.serial}\\s.*\\sExpired\\s+2d$`, "m"));
    expect(future.stdout).toMatch(new RegExp(`^${demo.serial}\\s.*\\sRevoked\\s+2d$`, "m"));

    const json = await weft(["ca", "certs", "-o", "json"]);
    const items = (JSON.parse(json.stdout) as { items: { serial: string; revokedAt: string | null; requester: string }[] }).items;
    expect(items.find((i) => i.serial === demo.serial)).toMatchObject({ requester: "admin", revokedAt: expect.any(String) });
    expect(items.find((i) => i.serial === keep.serial)).toMatchObject({ revokedAt: null });
    const yaml = await weft(["ca", "certs", "-o", "yaml"]);
    expect(yaml.stdout).toContain(`- serial: ${keep.serial}`);
  });

  it("says NotFound for a serial the CA never issued (exit 1)", async () => {
    const run = await weft(["ca", "revoke", "0badc0de"]);
    expect(run).toEqual({ code: 1, stdout: "", stderr: "Error from server (NotFound): no certificate with serial 0badc0de was issued by this CA\n" });
  });

  it("adds roots, retires one by a unique fingerprint prefix, and refuses an ambiguous, unknown or issuing root", async () => {
    const issuing = fingerprint(await (await fetch(`${cp.url}/v1/ca/roots`)).text());
    const first = makeRoot(dir, "rotation-root");
    const added = await weft(["ca", "roots", "add", "-f", first.cert]);
    const addedFp = fingerprint(readFileSync(first.cert, "utf8"));
    expect(added).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`^root ${addedFp.slice(0, 16)} added \\(O=example, CN=rotation-root, expires \\d{4}-`)), stderr: "" });

    const listed = await weft(["ca", "roots"]);
    expect(listed.stdout).toMatch(new RegExp(`^${addedFp.slice(0, 16)}\\s+O=example, CN=rotation-root\\s+\\S+\\s+active$`, "m"));
    const bundle = await (await fetch(`${cp.url}/v1/ca/roots`)).text();
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    const retired = await weft(["ca", "roots", "retire", addedFp.slice(0, 8).toUpperCase()]);
    expect(retired).toEqual({ code: 0, stdout: `root ${addedFp.slice(0, 16)} retired (O=example, CN=rotation-root)\n`, stderr: "" });
    expect((await weft(["ca", "roots"])).stdout).toMatch(new RegExp(`^${addedFp.slice(0, 16)}\\s.*\\sretired$`, "m"));
    expect((await (await fetch(`${cp.url}/v1/ca/roots`)).text()).match(/BEGIN CERTIFICATE/g)).toHaveLength(1);

    expect(await weft(["ca", "roots", "retire", addedFp])).toEqual({ code: 1, stdout: "", stderr: `error: root ${addedFp.slice(0, 16)} is already retired\n` });
    const unknown = "0123456789abcdef".split("").find((d) => ![issuing, addedFp].some((f) => f.startsWith(d)))!;
    expect(await weft(["ca", "roots", "retire", unknown])).toEqual({ code: 1, stdout: "", stderr: `error: no root has a fingerprint starting "${unknown}" (see 'weft ca roots')\n` });
    const anchor = await weft(["ca", "roots", "retire", issuing.slice(0, 12)]);
    expect(anchor.code).toBe(1);
    expect(anchor.stderr).toBe(`Error from server (Conflict): root ${issuing} anchors the issuing CA: import a new issuer first, then retire this root\n`);

    // Add roots (several in one file, as a bundle) until two active ones start with the same digit.
    const active = [issuing];
    let shared: string | undefined;
    for (let i = 0; shared === undefined && i < 8; i++) {
      const pair = [makeRoot(dir, `extra-${i}a`), makeRoot(dir, `extra-${i}b`)];
      const bundleFile = join(dir, `extra-${i}.pem`);
      writeFileSync(bundleFile, pair.map((r) => readFileSync(r.cert, "utf8")).join(""));
      const run = await weft(["ca", "roots", "add", "-f", bundleFile]);
      expect(run.code).toBe(0);
      expect(lines(run.stdout)).toHaveLength(2);
      active.push(...pair.map((r) => fingerprint(readFileSync(r.cert, "utf8"))));
      shared = active.map((f) => f[0]!).find((d, j, all) => all.indexOf(d) !== j);
    }
    expect(shared).toBeDefined();
    const ambiguous = await weft(["ca", "roots", "retire", shared!]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stdout).toBe("");
    const [message, ...candidates] = lines(ambiguous.stderr);
    expect(message).toMatch(new RegExp(`^error: "${shared}" starts the fingerprints of \\d+ active roots; give more of it:$`));
    for (const candidate of candidates) expect(candidate).toMatch(new RegExp(`^  ${shared}[0-9a-f]{63}  O=`));
    expect(candidates.length).toBe(active.filter((f) => f.startsWith(shared!)).length);
  });

  it("refuses roots add for a file that is no certificate, before any request", async () => {
    const csr = join(dir, "demo.csr");
    expect(await weft(["ca", "roots", "add", "-f", csr])).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: -f ${csr}: not a PEM certificate (-----BEGIN CERTIFICATE-----): it holds CERTIFICATE REQUEST\n`,
    });
    const leaf = await weft(["ca", "roots", "add", "-f", join(dir, "demo.crt")]);
    expect(leaf.code).toBe(1);
    expect(leaf.stderr).toMatch(/^Error from server \(BadRequest\): a trust anchor must be a self-signed CA certificate/);
  });

  describe("ca import when the control plane does not hold the key", () => {
    const files = tempDir("weft-ca-import-");
    const root = makeRoot(files, "root-cert");
    const ca = makeIntermediate(files, root);
    const argv = ["ca", "import", "--cert", ca.cert, "--key", ca.key, "--chain", ca.chain, "--root", root.cert];

    it("says WEFT_CA_KEY must be set with wrangler secret put, and prints the server's 503 clearly", async () => {
      const run = await weft(argv); // a working directory without .dev.vars
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`the key is not sent to the control plane: its WEFT_CA_KEY secret must first be set to it, with: npx wrangler secret put WEFT_CA_KEY < ${ca.key}\n`);
      const [error, hint] = lines(run.stderr);
      expect(error).toMatch(/^Error from server \(ServiceUnavailable\): /);
      expect(hint).toBe(`The control plane's WEFT_CA_KEY is not the key of --cert: run \`npx wrangler secret put WEFT_CA_KEY < ${ca.key}\`, then run this command again.`);
      // Nothing changed: the old root is still the only one served.
      expect((await (await fetch(`${cp.url}/v1/ca/roots`)).text())).not.toContain(readFileSync(root.cert, "utf8").split("\n")[1]);
    });

    it("writes the key into .dev.vars of a local control plane, keeping the other lines, and says to restart npm start", async () => {
      const cwd = tempDir("weft-ca-devvars-");
      const devVars = join(cwd, ".dev.vars");
      writeFileSync(devVars, `WEFT_ADMIN_TOKEN=${cp.adminToken}\nWEFT_CA_KEY="-----BEGIN PRIVATE KEY-----\\nold\\n-----END PRIVATE KEY-----\\n"\nWEFT_JOIN_TOKEN_SECRET=abc\n`);
      const now = new Date("2026-01-02T03:04:05.000Z");
      const run = await runCli([...argv, "--server", cp.url], { cwd, now }); // the token comes from .dev.vars
      expect(run.stdout).toBe("wrote the --key to .dev.vars as WEFT_CA_KEY; restart `npm start` so the control plane signs with it\n");
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual([
        expect.stringMatching(/^Error from server \(ServiceUnavailable\): /),
        "The control plane still runs with its old WEFT_CA_KEY: restart `npm start` (it reads .dev.vars when it starts), then run this command again.",
      ]);

      const written = readFileSync(devVars, "utf8").split("\n");
      expect(written[0]).toBe(`WEFT_ADMIN_TOKEN=${cp.adminToken}`);
      // The old key is kept, as a one-line comment above the new one.
      expect(written[1]).toBe('# previous WEFT_CA_KEY, replaced by weft ca import at 2026-01-02T03:04:05.000Z: "-----BEGIN PRIVATE KEY-----\\nold\\n-----END PRIVATE KEY-----\\n"');
      expect(written[2]).toMatch(/^WEFT_CA_KEY="-----BEGIN PRIVATE KEY-----\\n.+\\n-----END PRIVATE KEY-----\\n"$/);
      expect(written[3]).toBe("WEFT_JOIN_TOKEN_SECRET=abc");
      expect(written).toHaveLength(5);
      const value = JSON.parse(written[2]!.slice("WEFT_CA_KEY=".length)) as string;
      expect(createPrivateKey(value).export({ type: "pkcs8", format: "der" }).equals(createPrivateKey(readFileSync(ca.key, "utf8")).export({ type: "pkcs8", format: "der" }))).toBe(true);
      expect(statSync(devVars).mode & 0o777).toBe(0o600);

      // Run again: the line is already right and is left alone.
      const again = await runCli([...argv, "--server", cp.url], { cwd });
      expect(again.stdout).toBe(".dev.vars already holds this key as WEFT_CA_KEY\n");
      expect(readFileSync(devVars, "utf8")).toBe(written.join("\n"));
    });

    it("adds a WEFT_CA_KEY line to a .dev.vars without one", async () => {
      const cwd = tempDir("weft-ca-devvars-");
      writeFileSync(join(cwd, ".dev.vars"), `WEFT_ADMIN_TOKEN=${cp.adminToken}`);
      const run = await runCli([...argv, "--server", cp.url], { cwd });
      expect(run.code).toBe(1);
      const written = readFileSync(join(cwd, ".dev.vars"), "utf8");
      expect(written).toMatch(new RegExp(`^WEFT_ADMIN_TOKEN=${cp.adminToken}\\nWEFT_CA_KEY="-----BEGIN PRIVATE KEY-----\\\\n[^\\n]+"\\n$`));
    });
  });
});
