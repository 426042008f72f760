/**
 * @module cli/connection
 * Decides which control plane to talk to and with which token: the `--server`/`--url` and `--token`
 * flags first, then `WEFT_URL`/`WEFT_TOKEN`, then the `.dev.vars` file of the working directory (the
 * admin token `npm start` uses) with the local default URL.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MissingToken, UsageError } from "./errors.js";

export const DEFAULT_URL = "http://127.0.0.1:8787";
const DEV_VARS_FILE = ".dev.vars";
const DEV_VARS_TOKEN_KEY = "WEFT_ADMIN_TOKEN";

export interface Connection {
  /** Base URL without a trailing slash. */
  url: string;
  token: string;
}

export interface ConnectionInputs {
  /** `--server` or `--url`. */
  server?: string;
  /** `--token`. */
  token?: string;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** Resolves URL and token; throws `MissingToken` when none of the three ways gives a token. */
export function resolveConnection(inputs: ConnectionInputs): Connection {
  const url = normalizeUrl(inputs.server ?? nonEmpty(inputs.env.WEFT_URL) ?? DEFAULT_URL);
  const token = nonEmpty(inputs.token) ?? nonEmpty(inputs.env.WEFT_TOKEN) ?? nonEmpty(readDevVars(inputs.cwd)[DEV_VARS_TOKEN_KEY]);
  if (token === undefined) throw new MissingToken();
  return { url, token };
}

function normalizeUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`invalid control plane URL "${raw}": give an absolute URL such as ${DEFAULT_URL}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`invalid control plane URL "${raw}": only http and https are supported`);
  }
  return raw.replace(/\/+$/, "");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Reads `KEY=value` lines (dotenv style: `#` comments, optional quotes); a missing file is empty. */
function readDevVars(cwd: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(cwd, DEV_VARS_FILE), "utf8");
  } catch {
    return {};
  }
  const vars: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(rawLine);
    if (!match) continue;
    const [, key, rawValue] = match as unknown as [string, string, string];
    vars[key] = unquote(rawValue);
  }
  return vars;
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  if (quoted) return quoted[2] ?? "";
  return value.replace(/\s+#.*$/, "");
}
