// Which control plane and token the CLI uses: --server/--url and --token first, then WEFT_URL and
// WEFT_TOKEN, then WEFT_ADMIN_TOKEN from ./.dev.vars with the local default URL. Checked both on
// resolveConnection and end to end against a small HTTP listener that records what arrives.
import { writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_URL, resolveConnection } from "../../../cli/connection.js";
import { MissingToken } from "../../../cli/errors.js";
import { runCli, tempDir } from "./run-cli.js";

function cwdWithDevVars(text: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, ".dev.vars"), text);
  return dir;
}

describe("resolveConnection", () => {
  const devCwd = cwdWithDevVars("# local secrets\nOTHER=1\nWEFT_ADMIN_TOKEN=from-dev-vars\n");

  it("prefers flags over the environment over .dev.vars", () => {
    const env = { WEFT_URL: "http://env.example:9000", WEFT_TOKEN: "from-env" };
    expect(resolveConnection({ server: "https://flag.example/", token: "from-flag", env, cwd: devCwd })).toEqual({
      url: "https://flag.example",
      token: "from-flag",
    });
    expect(resolveConnection({ env, cwd: devCwd })).toEqual({ url: "http://env.example:9000", token: "from-env" });
    expect(resolveConnection({ env: {}, cwd: devCwd })).toEqual({ url: DEFAULT_URL, token: "from-dev-vars" });
  });

  it("reads quoted and exported .dev.vars values", () => {
    expect(resolveConnection({ env: {}, cwd: cwdWithDevVars('export WEFT_ADMIN_TOKEN="quoted"\n') }).token).toBe("quoted");
    expect(resolveConnection({ env: {}, cwd: cwdWithDevVars("WEFT_ADMIN_TOKEN = spaced # comment\r\n") }).token).toBe("spaced");
  });

  it("treats empty variables as unset", () => {
    expect(resolveConnection({ env: { WEFT_URL: "", WEFT_TOKEN: "" }, cwd: devCwd })).toMatchObject({ url: DEFAULT_URL, token: "from-dev-vars" });
  });

  it("throws MissingToken naming the three ways to give one", () => {
    expect(() => resolveConnection({ env: {}, cwd: tempDir() })).toThrow(MissingToken);
    expect(() => resolveConnection({ env: {}, cwd: cwdWithDevVars("OTHER=1\n") })).toThrow(/--token TOKEN.*WEFT_TOKEN.*\.dev\.vars.*WEFT_ADMIN_TOKEN/);
  });
});

describe("the CLI's requests", () => {
  let server: Server;
  let url: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualServiceList", metadata: {}, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function lastRequest(argv: string[], options: Parameters<typeof runCli>[1] = {}) {
    seen.length = 0;
    const run = await runCli(argv, options);
    expect(run.stderr).toMatch(/^No resources found in \w+ namespace.\n$/);
    expect(run.code).toBe(0);
    expect(seen).toHaveLength(1);
    return seen[0]!;
  }

  it("sends --token to --server, with flags after the arguments", async () => {
    const request = await lastRequest(["get", "vs", "--server", url, "--token", "flag-token"]);
    expect(request.headers.authorization).toBe("Bearer flag-token");
    expect(request.url).toBe("/apis/networking.istio.io/v1/namespaces/default/virtualservices");
  });

  it("accepts --url as an alias of --server", async () => {
    const request = await lastRequest(["--url", url, "get", "virtualservices", "--token", "t"]);
    expect(request.headers.authorization).toBe("Bearer t");
  });

  it("uses WEFT_URL and WEFT_TOKEN when no flag is given, over .dev.vars", async () => {
    const request = await lastRequest(["get", "vs"], { env: { WEFT_URL: url, WEFT_TOKEN: "env-token" }, cwd: cwdWithDevVars("WEFT_ADMIN_TOKEN=dev\n") });
    expect(request.headers.authorization).toBe("Bearer env-token");
  });

  it("uses .dev.vars of the working directory when neither flag nor variable gives a token", async () => {
    const request = await lastRequest(["get", "vs"], { env: { WEFT_URL: url }, cwd: cwdWithDevVars("WEFT_ADMIN_TOKEN=dev-token\n") });
    expect(request.headers.authorization).toBe("Bearer dev-token");
  });

  it("sends -l as labelSelector and -A to the all-namespaces path", async () => {
    const selected = await lastRequest(["get", "dr", "-l", "app=reviews,version!=v1", "-n", "bookinfo", "--server", url, "--token", "t"]);
    expect(selected.url).toBe("/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules?labelSelector=app%3Dreviews%2Cversion%21%3Dv1");
    seen.length = 0;
    const all = await runCli(["get", "pa", "-A", "--server", url, "--token", "t"]);
    expect(all).toMatchObject({ code: 0, stderr: "No resources found\n" });
    expect(seen[0]?.url).toBe("/apis/security.istio.io/v1/peerauthentications");
  });

  it("fails with the three ways to give a token when there is none", async () => {
    const run = await runCli(["get", "vs", "--server", url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: no token for the Weft control plane: pass --token TOKEN, set WEFT_TOKEN, or run from a directory whose .dev.vars file has a line WEFT_ADMIN_TOKEN=...\n",
    );
  });
});

describe("an unreachable control plane", () => {
  it("is named with its URL and a hint", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli(["get", "vs", "--server", `http://127.0.0.1:${port}`, "--token", "t"]);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: cannot reach the Weft control plane at http://127.0.0.1:${port} (is \`npm start\` running?)\n`,
    });
  });
});
