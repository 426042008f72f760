// `weft sidecar` refuses unusable settings before opening any port, naming each variable or flag and
// the rule; `weft sidecar wait` exits 0 once the readiness URL answers 200 and 1 (with the last answer)
// when it never does. The running sidecar itself is tested end to end in test/e2e/mesh.test.ts.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

describe("weft sidecar", () => {
  it("names every missing or bad setting and exits 1", async () => {
    const run = await runCli(["sidecar"], { env: { INSTANCE_IP: "10.1.2.300", POD_NAMESPACE: "shop" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("the sidecar's settings are invalid");
    expect(run.stderr).toMatch(/WEFT_CONTROL_PLANE_URL: is required/);
    expect(run.stderr).toMatch(/POD_NAME: /);
    expect(run.stderr).toMatch(/INSTANCE_IP: .*10\.1\.2\.300/);
    expect(run.stdout).toBe("");
  });

  it("refuses a control-plane URL that is not http(s), by the flag's name", async () => {
    const run = await runCli(["sidecar", "--control-plane-url", "ftp://cp"], { env: { POD_NAME: "web-1", POD_NAMESPACE: "shop", SERVICE_ACCOUNT: "web", INSTANCE_IP: "10.1.2.3", WEFT_JOIN_TOKEN: "x" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--control-plane-url: "ftp://cp" is not an http(s) URL');
  });
});

describe("weft sidecar wait", () => {
  it("exits 0 once the proxy answers ready, 1 with the last answer when it never does", async () => {
    let ready = false;
    const server = http.createServer((_req, res) => (ready ? res.end() : res.writeHead(503).end("not ready: no config yet")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz/ready`;
    try {
      const never = await runCli(["sidecar", "wait", "--url", url, "--timeout-seconds", "0.3", "--period-millis", "50"]);
      expect(never.code).toBe(1);
      expect(never.stderr).toContain("last answer: 503 not ready: no config yet");
      setTimeout(() => (ready = true), 200);
      const later = await runCli(["sidecar", "wait", "--url", url, "--timeout-seconds", "5", "--period-millis", "50"]);
      expect(later.code).toBe(0);
      expect(later.stdout).toMatch(/^sidecar ready/);
      const bad = await runCli(["sidecar", "wait", "--timeout-seconds", "soon"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--timeout-seconds soon: must be a positive number");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
