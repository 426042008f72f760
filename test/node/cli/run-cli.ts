// Runs the real `weft` CLI in-process through `main(argv, io)`, capturing stdout and stderr. The
// environment is empty and the working directory a fresh temp dir unless a test gives its own, so the
// developer's WEFT_TOKEN or .dev.vars never leak into a test.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../cli/main.js";
import { CORPUS_DIR } from "../../corpus.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
  now?: Date;
}

/** Istio's own samples folder inside the corpus (shared/ beside the checkout). */
export const CORPUS = join(CORPUS_DIR, "samples", "samples");
export const BOOKINFO_NETWORKING = join(CORPUS, "bookinfo", "networking");

export function tempDir(prefix = "weft-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function runCli(argv: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    readStdin: async () => options.stdin ?? "",
    env: options.env ?? {},
    cwd: options.cwd ?? tempDir(),
    now: () => options.now ?? new Date(),
  });
  return { code, stdout, stderr };
}
