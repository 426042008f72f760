/**
 * @module edge-proxy/hosts/sidecar/iptables/capture-error
 * Named failures of traffic capture (`weft-iptables`): a bad flag value, a missing iptables tool, or
 * an iptables command that refused the rules. Each carries a stable `code`; the CLI maps them to exit codes.
 */

export type CaptureErrorCode =
  /** A flag's value is not valid (the message names the flag, the value and the rule). */
  | "ERR_CAPTURE_FLAG"
  /** `iptables-restore` / `iptables-save` (or `ip`) is not installed. */
  | "ERR_IPTABLES_MISSING"
  /** An iptables command ran and failed (not root, no NET_ADMIN, a kernel module missing...). */
  | "ERR_IPTABLES_FAILED";

export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  constructor(code: CaptureErrorCode, message: string) {
    super(message);
    this.name = "CaptureError";
    this.code = code;
  }
}

/** A flag's value broke a rule: `-x 10.0.0.0/33: not a CIDR (prefix length must be 0-32)`. */
export function badFlag(flag: string, value: string, rule: string): CaptureError {
  return new CaptureError("ERR_CAPTURE_FLAG", `${flag} ${value === "" ? '""' : value}: ${rule}`);
}
