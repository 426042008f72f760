// The sidecar's credential: a projected token file read again on every use (Kubernetes rotates it),
// a join token given as a string or a file, and errors that name the file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createCredential, CredentialError } from "../../../../edge-proxy/hosts/sidecar/agent/credential.js";

const dir = mkdtempSync(join(tmpdir(), "weft-credential-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the projected service-account token", () => {
  it("is read again on every use, so a rotated token is sent", async () => {
    const path = join(dir, "istio-token");
    writeFileSync(path, "eyJ.first.token\n");
    const credential = createCredential({ kind: "service-account-token", path });
    expect(await credential.read()).toBe("eyJ.first.token");
    writeFileSync(path, "eyJ.rotated.token");
    expect(await credential.read()).toBe("eyJ.rotated.token");
  });

  it("names the file when it is missing or empty", async () => {
    const missing = createCredential({ kind: "service-account-token", path: join(dir, "absent") });
    await expect(missing.read()).rejects.toThrow(CredentialError);
    await expect(missing.read()).rejects.toThrow(`cannot read the service-account token file ${join(dir, "absent")}: ENOENT`);
    const empty = join(dir, "empty");
    writeFileSync(empty, "  \n");
    await expect(createCredential({ kind: "service-account-token", path: empty }).read()).rejects.toThrow(`the service-account token file ${empty} is empty`);
  });

  it("names the file when it cannot be read (a directory)", async () => {
    await expect(createCredential({ kind: "service-account-token", path: dir }).read()).rejects.toThrow(`cannot read the service-account token file ${dir}: EISDIR`);
  });
});

describe("a join token", () => {
  it("is sent as given, trimmed", async () => {
    expect(await createCredential({ kind: "join-token", token: " wjt.abc \n" }).read()).toBe("wjt.abc");
    await expect(createCredential({ kind: "join-token", token: " " }).read()).rejects.toThrow("the join token is empty");
  });

  it("is read from its file on every use, with errors naming the file", async () => {
    const path = join(dir, "join-token");
    writeFileSync(path, "wjt.one");
    const credential = createCredential({ kind: "join-token-file", path });
    expect(await credential.read()).toBe("wjt.one");
    writeFileSync(path, "wjt.two\n");
    expect(await credential.read()).toBe("wjt.two");
    writeFileSync(path, "");
    await expect(credential.read()).rejects.toThrow(`the join token file ${path} is empty`);
    await expect(createCredential({ kind: "join-token-file", path: join(dir, "nope") }).read()).rejects.toThrow(`cannot read the join token file ${join(dir, "nope")}: ENOENT`);
  });
});
