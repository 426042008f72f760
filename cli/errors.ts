/**
 * @module cli/errors
 * Named failures of the CLI. Each carries a stable `code` and the process exit code it ends with;
 * `main` is the one place that prints them. A `Status` from the server is kept whole, so commands can
 * print its causes the way they need to.
 */

export type CliErrorCode =
  | "ERR_USAGE"
  | "ERR_INPUT"
  | "ERR_FILE_EXISTS"
  | "ERR_UNKNOWN_KIND"
  | "ERR_NO_TOKEN"
  | "ERR_UNREACHABLE"
  | "ERR_SERVER"
  | "ERR_NO_MATCH"
  | "ERR_AMBIGUOUS";

/** Base class: a failure caused by the user's input, setup or the server's answer, never a bug. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }

  /** The lines printed to stderr. */
  lines(): string[] {
    return [`error: ${this.message}`];
  }
}

/** Bad command line: unknown command or flag, missing argument. Exit code 2. */
export class UsageError extends CliError {
  readonly helpTopic: string;
  constructor(message: string, helpTopic = "") {
    super("ERR_USAGE", message, 2);
    this.helpTopic = helpTopic;
  }

  /** With no help topic, `main` prints the command overview after the error instead. */
  override lines(): string[] {
    return this.helpTopic ? [`error: ${this.message}`, `See 'weft help ${this.helpTopic}' for usage.`] : [`error: ${this.message}`];
  }
}

/** A file or directory given with `-f` is missing, unreadable or not parseable. */
export class InputError extends CliError {
  constructor(message: string) {
    super("ERR_INPUT", message);
  }
}

/** A file the CLI would write already exists; it is never overwritten. */
export class OutputFileExists extends CliError {
  constructor(path: string, hint: string) {
    super("ERR_FILE_EXISTS", `${path} already exists; refusing to overwrite it. ${hint}`);
  }
}

/** A short reference (a fingerprint prefix) matched nothing the server listed. */
export class NoMatch extends CliError {
  constructor(message: string) {
    super("ERR_NO_MATCH", message);
  }
}

/** A short reference (a fingerprint prefix) matched more than one thing; `candidates` are listed. */
export class AmbiguousReference extends CliError {
  readonly candidates: readonly string[];
  constructor(message: string, candidates: readonly string[]) {
    super("ERR_AMBIGUOUS", message);
    this.candidates = candidates;
  }

  override lines(): string[] {
    return [`error: ${this.message}`, ...this.candidates.map((c) => `  ${c}`)];
  }
}

/** No token was given by flag, environment or `.dev.vars`. */
export class MissingToken extends CliError {
  constructor() {
    super(
      "ERR_NO_TOKEN",
      "no token for the Weft control plane: pass --token TOKEN, set WEFT_TOKEN, " +
        "or run from a directory whose .dev.vars file has a line WEFT_ADMIN_TOKEN=...",
    );
  }
}

/** The control plane did not answer at all (connection refused, unknown host). */
export class ControlPlaneUnreachable extends CliError {
  constructor(url: string) {
    super("ERR_UNREACHABLE", `cannot reach the Weft control plane at ${url} (is \`npm start\` running?)`);
  }
}

/** One cause of a refused request, as the server's `Status.details.causes` carries it. */
export interface StatusCause {
  reason?: string;
  field?: string;
  message?: string;
  /** Bulk apply: the index of the refused document. */
  document?: number;
  /** Bulk apply: `virtualservice.networking.istio.io/reviews`. */
  object?: string;
}

/** A Kubernetes `Status` as the control plane sends it with every error. */
export interface Status {
  kind: "Status";
  status?: string;
  reason: string;
  code: number;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
}

/** The server refused a request; printed like kubectl: `Error from server (NotFound): ...`. */
export class ServerError extends CliError {
  readonly status: Status;
  constructor(status: Status) {
    super("ERR_SERVER", status.message);
    this.status = status;
  }

  override lines(): string[] {
    return [`Error from server (${this.status.reason}): ${this.status.message}`];
  }
}

/** A KIND argument that names no kind Weft serves. */
export class UnknownResourceType extends CliError {
  constructor(alias: string) {
    super("ERR_UNKNOWN_KIND", `the server doesn't have a resource type "${alias}"`);
  }
}
