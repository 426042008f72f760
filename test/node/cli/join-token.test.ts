// `weft token create` in its join-token form (--namespace/--service-account/--ttl) beside the API-token
// form (--name/--role): the flags choose the form, a mix or neither is a usage error naming both, and
// against a real control plane the join token is the last line of stdout and gets a workload its
// certificate.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type RunningControlPlane } from "../support/control-plane.js";
import { runCli, tempDir } from "./run-cli.js";

// Port 1 has no listener: a command that got as far as the network would fail with "cannot reach".
const OFFLINE = ["--server", "http://127.0.0.1:1", "--token", "t"];
const BOTH_FORMS = /weft token create --name NAME --role viewer\|admin.*weft token create --namespace NS --service-account SA \[--ttl 1h\]/;

function lines(text: string): string[] {
  return text.trimEnd().split("\n");
}

describe("weft token create: choosing the form", () => {
  it("refuses a mix of the two forms, naming both (exit 2)", async () => {
    for (const argv of [
      ["--name", "ci", "--namespace", "default"],
      ["--role", "admin", "--service-account", "demo"],
      ["--name", "ci", "--role", "viewer", "--namespace", "default", "--service-account", "demo"],
      ["ci", "--ttl", "1h"],
    ]) {
      const run = await runCli(["token", "create", ...argv, ...OFFLINE]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(BOTH_FORMS);
      expect(run.stderr).toContain("See 'weft help token create' for usage.");
    }
  });

  it("refuses neither form, naming both (exit 2)", async () => {
    const run = await runCli(["token", "create", ...OFFLINE]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: say which token to create: /);
    expect(run.stderr).toMatch(BOTH_FORMS);
  });

  it("needs both the namespace and the service account for a join token", async () => {
    expect(await runCli(["token", "create", "-n", "default", ...OFFLINE])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("a service account is required for a join token: --service-account SA"),
    });
    expect(await runCli(["token", "create", "--service-account", "demo", "--ttl", "5m", ...OFFLINE])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("a namespace is required for a join token: --namespace NS"),
    });
  });

  it("keeps the API-token form's own checks", async () => {
    expect(await runCli(["token", "create", "--name", "ci", ...OFFLINE])).toMatchObject({ code: 2, stderr: expect.stringContaining("a role is required: --role viewer|admin") });
    expect(await runCli(["token", "create", "--role", "viewer", ...OFFLINE])).toMatchObject({ code: 2, stderr: expect.stringContaining("a token name is required: --name NAME") });
  });

  it("documents both forms in its help", async () => {
    const run = await runCli(["help", "token", "create"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("weft token create --name NAME --role viewer|admin | --namespace NS --service-account SA [--ttl 1h]");
    expect(run.stdout).toContain("--service-account SA");
    expect(run.stdout).toContain("--ttl DURATION");
  });
});

describe("weft token create against the control plane", () => {
  let cp: RunningControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane();
  });
  afterAll(async () => {
    await cp?.stop();
  });

  const weft = (argv: string[]) => runCli([...argv, "--server", cp.url, "--token", cp.adminToken]);

  it("prints a note, then the join token as the last line; the token gets its workload a certificate", async () => {
    const run = await weft(["token", "create", "--namespace", "default", "--service-account", "demo", "--ttl", "10m"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^join token for spiffe:\/\/cluster\.local\/ns\/default\/sa\/demo, valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; it is shown only this once:$/);
    const token = out[1]!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const validUntil = Date.parse(/valid until (\S+);/.exec(out[0]!)![1]!);
    expect(validUntil - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(validUntil - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 5_000);

    // A workload that holds the join token asks for its own identity.
    const dir = tempDir("weft-join-");
    execFileSync(
      "openssl",
      ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.csr"), "-subj", "/",
        "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/demo"],
      { stdio: "ignore" },
    );
    const res = await fetch(`${cp.url}/v1/certificates`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ csr: readFileSync(join(dir, "c.csr"), "utf8") }),
    });
    const body = (await res.json()) as { certChain?: string[]; serial?: string; message?: string };
    expect(res.status, body.message).toBe(201);
    expect(body.certChain?.[0]).toContain("-----BEGIN CERTIFICATE-----");

    // The issuance log names the join token (its id) as the requester.
    const { jti } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { jti: string };
    const listed = await weft(["ca", "certs"]);
    expect(listed.stdout).toMatch(new RegExp(`^${body.serial}\\s+spiffe://cluster\\.local/ns/default/sa/demo\\s+\\S+\\s+join-token:${jti.replace(/[.]/g, "\\.")}\\s+Valid\\s+\\d+s$`, "m"));
  });

  it("defaults the join token's lifetime to 1h", async () => {
    const run = await weft(["token", "create", "-n", "payments", "--service-account", "ledger"]);
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out[0]).toContain("spiffe://cluster.local/ns/payments/sa/ledger");
    const validUntil = Date.parse(/valid until (\S+);/.exec(out[0]!)![1]!);
    expect(validUntil - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(validUntil - Date.now()).toBeLessThanOrEqual(60 * 60_000 + 5_000);
  });

  it("passes on the server's refusal of a bad ttl or identity (exit 1)", async () => {
    const ttl = await weft(["token", "create", "--namespace", "default", "--service-account", "demo", "--ttl", "soon"]);
    expect(ttl.code).toBe(1);
    expect(ttl.stdout).toBe("");
    expect(ttl.stderr).toMatch(/^Error from server \(Invalid\): join token request is invalid: ttl: must be a duration/);
    const namespace = await weft(["token", "create", "--namespace", "Not_A_Label", "--service-account", "demo"]);
    expect(namespace.code).toBe(1);
    expect(namespace.stderr).toMatch(/^Error from server \(Invalid\): .*namespace: must be a lowercase RFC 1123 label/);
  });

  it("still creates API tokens, and a viewer may not create join tokens", async () => {
    const created = await weft(["token", "create", "--role", "viewer", "--name", "join-viewer"]);
    expect(created.code).toBe(0);
    const out = lines(created.stdout);
    expect(out[0]).toBe('token "join-viewer" created with role viewer; it is shown only this once:');
    const viewerToken = out[out.length - 1]!;
    const refused = await runCli(["token", "create", "--namespace", "default", "--service-account", "demo", "--server", cp.url, "--token", viewerToken]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^Error from server \(Forbidden\): /);
  });
});
