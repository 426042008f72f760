/**
 * @module hosts/sidecar/agent/credential
 * The sidecar's credential for the control plane: the Pod's projected service-account token (a file
 * Kubernetes rewrites before the token expires, so it is read again on every use), or a join token
 * (`weft token create`), given as a string or in a file. A file that cannot be read or holds nothing is
 * an error that names the file.
 */
import { readFile } from "node:fs/promises";

export type CredentialSource =
  | { kind: "service-account-token"; path: string }
  | { kind: "join-token"; token: string }
  | { kind: "join-token-file"; path: string };

export interface ControlPlaneCredential {
  readonly source: CredentialSource;
  /** The bearer token to send now. */
  read(): Promise<string>;
}

/** The credential is missing, unreadable or empty. */
export class CredentialError extends Error {
  readonly code = "CredentialError";
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

const WHAT: Record<CredentialSource["kind"], string> = {
  "service-account-token": "service-account token file",
  "join-token": "join token",
  "join-token-file": "join token file",
};

export function createCredential(source: CredentialSource, read: (path: string) => Promise<string> = (path) => readFile(path, "utf8")): ControlPlaneCredential {
  if (source.kind === "join-token") {
    const token = source.token.trim();
    return {
      source,
      async read() {
        if (token === "") throw new CredentialError("the join token is empty");
        return token;
      },
    };
  }
  const what = WHAT[source.kind];
  return {
    source,
    async read() {
      let text: string;
      try {
        text = await read(source.path);
      } catch (cause) {
        const code = (cause as { code?: unknown }).code;
        throw new CredentialError(`cannot read the ${what} ${source.path}: ${typeof code === "string" ? code : String(cause)}`);
      }
      const token = text.trim();
      if (token === "") throw new CredentialError(`the ${what} ${source.path} is empty`);
      return token;
    },
  };
}
