/**
 * @module cli/io
 * Everything the CLI takes from its process: output streams, standard input, environment, working
 * directory and clock. `main` receives one of these, so tests run the real CLI in-process.
 */

/** Where text goes; `process.stdout` is one. */
export interface Writer {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  /** Reads standard input to its end (for `-f -`). */
  readStdin(): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths and `.dev.vars` are looked up here. */
  cwd: string;
  /** The clock used for AGE columns. */
  now(): Date;
}

/** The real process's I/O. */
export function processIo(): CliIo {
  // `weft get vs | head -1`: a closed pipe ends the output, as for any Unix tool, rather than a crash.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: readProcessStdin,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
