// Test support: runs the real `openssl` binary in a temporary directory, and small byte helpers.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface OpensslResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A scratch directory with helpers to run openssl in it; remove() deletes it. */
export class OpensslDir {
  readonly path = mkdtempSync(join(tmpdir(), "weft-ca-"));

  /** Runs openssl with `args` in this directory; never throws on a non-zero exit. */
  run(args: string[], input?: string | Uint8Array): OpensslResult {
    const result = spawnSync("openssl", args, { cwd: this.path, input, encoding: "utf8", timeout: 60_000 });
    if (result.error) throw result.error;
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs openssl and throws with its stderr unless it exits 0; returns stdout. */
  ok(args: string[], input?: string | Uint8Array): string {
    const result = this.run(args, input);
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  }

  write(name: string, content: string | Uint8Array): string {
    writeFileSync(join(this.path, name), content);
    return name;
  }

  read(name: string): string {
    return readFileSync(join(this.path, name), "utf8");
  }

  readBytes(name: string): Uint8Array {
    return new Uint8Array(readFileSync(join(this.path, name)));
  }

  /** A CSR made by `openssl req -new` with a fresh key; `keyArgs` choose the key (default EC P-256). */
  csr(name: string, options: { key?: string[]; subject?: string; sans?: string; digest?: string } = {}): string {
    const key = options.key ?? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    const args = ["req", "-new", ...key, "-nodes", "-keyout", `${name}.key`, "-subj", options.subject ?? "/", "-out", `${name}.csr`];
    if (options.sans !== undefined) args.push("-addext", `subjectAltName=${options.sans}`);
    if (options.digest !== undefined) args.push(`-${options.digest}`);
    this.ok(args);
    return this.read(`${name}.csr`);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Seconds since the epoch, for `openssl verify -attime`. */
export function epochSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
