// The command line itself: help, unknown commands and flags (exit 2, the problem named), flags
// accepted anywhere on the line, and the argument checks each command makes before any I/O.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BOOKINFO_NETWORKING, runCli, tempDir } from "./run-cli.js";

const SAMPLE = join(BOOKINFO_NETWORKING, "virtual-service-all-v1.yaml");

describe("help", () => {
  it.each([[["help"]], [["--help"]], [["-h"]], [[]]])("weft %j prints the commands and exits 0", async (argv) => {
    const run = await runCli(argv);
    expect(run.code).toBe(0);
    for (const command of ["apply -f", "get KIND", "delete -f", "validate -f", "token create", "token list", "token revoke", "version"]) {
      expect(run.stdout).toContain(command);
    }
    expect(run.stdout).toContain("virtualservices (vs)");
  });

  it("prints one command's flags for `help get`, `get --help` and `get vs -h`", async () => {
    for (const argv of [["help", "get"], ["get", "--help"], ["get", "vs", "-h"]]) {
      const run = await runCli(argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("weft get KIND [NAME...]");
      expect(run.stdout).toContain("-A, --all-namespaces");
      expect(run.stdout).not.toContain("token create");
    }
  });

  it("lists the token subcommands for `help token`", async () => {
    const run = await runCli(["help", "token"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("weft token create --name NAME --role viewer|admin");
    expect(run.stdout).toContain("weft token revoke NAME");
  });
});

describe("command-line errors exit 2 and name the problem", () => {
  it("an unknown command prints the usage too", async () => {
    const run = await runCli(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: unknown command "frobnicate" for "weft"');
    expect(run.stderr).toContain("Commands:");
    expect(run.stdout).toBe("");
  });

  it("an unknown flag, before or after the command", async () => {
    const after = await runCli(["validate", "-f", SAMPLE, "--frob"]);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain("error: unknown flag: --frob");
    expect(after.stderr).toContain("See 'weft help validate' for usage.");
    const before = await runCli(["--frob"]);
    expect(before.code).toBe(2);
    expect(before.stderr).toContain("error: unknown flag: --frob");
  });

  it("a flag of another command", async () => {
    const run = await runCli(["validate", "-f", SAMPLE, "-o", "yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown flag: -o");
  });

  it("a flag without its value", async () => {
    const run = await runCli(["validate", "-f"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--filename <value>' argument missing");
  });

  it("a missing -f, kind or name", async () => {
    expect(await runCli(["validate"])).toMatchObject({ code: 2, stderr: expect.stringContaining("must specify -f FILE|DIR|-") });
    expect(await runCli(["apply"])).toMatchObject({ code: 2, stderr: expect.stringContaining("must specify -f FILE|DIR|-") });
    expect(await runCli(["get"])).toMatchObject({ code: 2, stderr: expect.stringContaining("you must specify the type of resource to get") });
    expect(await runCli(["delete", "vs"])).toMatchObject({ code: 2, stderr: expect.stringContaining("resource name required: weft delete vs NAME") });
    expect(await runCli(["token", "revoke"])).toMatchObject({ code: 2, stderr: expect.stringContaining("a token name is required") });
    expect(await runCli(["token", "create", "--name", "ci"])).toMatchObject({ code: 2, stderr: expect.stringContaining("a role is required: --role viewer|admin") });
  });

  it("a token family word without a known subcommand", async () => {
    expect(await runCli(["token"])).toMatchObject({ code: 2, stderr: expect.stringContaining('"token" needs a subcommand: one of create, list, revoke') });
    expect(await runCli(["token", "burn"])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "burn" for "weft token"') });
  });

  it("get's incompatible flags and an unknown output format", async () => {
    expect(await runCli(["get", "vs", "reviews", "-A"])).toMatchObject({ code: 2, stderr: expect.stringContaining("cannot be retrieved by name across all namespaces") });
    expect(await runCli(["get", "vs", "reviews", "-l", "app=x"])).toMatchObject({ code: 2, stderr: expect.stringContaining("name cannot be provided when a selector is specified") });
    expect(await runCli(["get", "vs", "-o", "xml"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unable to match a printer suitable for the output format "xml", allowed formats are: json,wide,yaml'),
    });
  });

  it("both -f and KIND NAME for delete", async () => {
    const run = await runCli(["delete", "-f", SAMPLE, "vs", "reviews"]);
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining("give either -f or KIND NAME, not both") });
  });

  it("an invalid --server URL", async () => {
    const run = await runCli(["get", "vs", "--server", "not a url", "--token", "t"]);
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('invalid control plane URL "not a url"') });
  });
});

describe("flags anywhere on the line", () => {
  it("global and command flags before the command", async () => {
    const run = await runCli(["--token", "t", "-f", SAMPLE, "--server", "http://127.0.0.1:1", "validate"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("virtualservice.networking.istio.io/reviews valid");
  });

  it("a repeated -f reads every file in order", async () => {
    const run = await runCli(["validate", "-f", SAMPLE, "-n", "bookinfo", "-f", join(BOOKINFO_NETWORKING, "bookinfo-gateway.yaml")]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([
      "virtualservice.networking.istio.io/productpage valid",
      "virtualservice.networking.istio.io/reviews valid",
      "virtualservice.networking.istio.io/ratings valid",
      "virtualservice.networking.istio.io/details valid",
      "gateway.networking.istio.io/bookinfo-gateway valid",
      "virtualservice.networking.istio.io/bookinfo valid",
    ]);
  });
});

describe("weft version", () => {
  it("prints the package version", async () => {
    const run = await runCli(["version"]);
    expect(run).toEqual({ code: 0, stdout: "weft version 0.1.0\n", stderr: "" });
  });
});

describe("apply checks its files before contacting the server", () => {
  // Port 1 has no listener: reaching the network would fail with "cannot reach", not these errors.
  const offline = ["--server", "http://127.0.0.1:1", "--token", "t"];

  it("names the file of a YAML syntax error", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "broken.yaml"), "kind: [oops\nmetadata: {name: x}\n");
    const run = await runCli(["apply", "-f", "broken.yaml", ...offline], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: broken\.yaml: malformed YAML in document 0 at line \d+/);
  });

  it("refuses to send nothing", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty.yaml"), "# nothing here\n---\n");
    const run = await runCli(["apply", "-f", dir, ...offline]);
    expect(run).toEqual({ code: 1, stdout: "", stderr: "error: no objects passed to apply\n" });
  });
});
