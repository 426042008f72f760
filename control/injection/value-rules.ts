/**
 * @module injection/value-rules
 * The rules Istio's injector checks annotation values against (pkg/kube/inject/validate.go): CIDR
 * lists, port lists, unsigned 32-bit integers, Kubernetes quantities. Each returns the normalised
 * value, or a message saying which rule the value breaks.
 */
import { ipVersion } from "../validation/primitives.js";

export type RuleResult = { ok: true; value: string } | { ok: false; message: string };

const cidrRule = (allowAll: boolean): string =>
  `the value must be ${allowAll ? "* or " : ""}a comma-separated list of CIDR ranges such as 10.0.0.0/8,fd00::/8`;
const portRule = (allowAll: boolean): string =>
  `the value must be ${allowAll ? "* or " : ""}a comma-separated list of ports, each a whole number from 1 to 65535`;

function items(text: string): string[] {
  return text.trim() === "" ? [] : text.split(",").map((item) => item.trim());
}

/** An address with a prefix length, as Go's netip.ParsePrefix reads it: `10.0.0.0/8`, `fd00::/8`. */
export function isCidr(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return false;
  const version = ipVersion(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  if (version === undefined || !/^(0|[1-9]\d{0,2})$/.test(bits)) return false;
  return Number(bits) <= (version === 4 ? 32 : 128);
}

/** A CIDR list (empty allowed); with `allowAll`, `*` too. */
export function cidrList(text: string, allowAll: boolean): RuleResult {
  if (allowAll && text.trim() === "*") return { ok: true, value: "*" };
  const list = items(text);
  const bad = list.find((item) => !isCidr(item));
  if (bad !== undefined) {
    const what = bad === "" ? "an empty item" : `"${bad}"`;
    return { ok: false, message: `${what} is not a CIDR range: ${cidrRule(allowAll)}` };
  }
  return { ok: true, value: list.join(",") };
}

/** A port number from 1 to 65535, in decimal. */
export function isPort(text: string): boolean {
  return /^[1-9]\d{0,4}$/.test(text) && Number(text) <= 65535;
}

/** A port list (empty allowed); with `allowAll`, `*` too. */
export function portList(text: string, allowAll: boolean): RuleResult {
  if (allowAll && text.trim() === "*") return { ok: true, value: "*" };
  const list = items(text);
  const bad = list.find((item) => !isPort(item));
  if (bad !== undefined) {
    const what = bad === "" ? "an empty item" : `"${bad}"`;
    return { ok: false, message: `${what} is not a port: ${portRule(allowAll)}` };
  }
  return { ok: true, value: list.join(",") };
}

/** An unsigned 32-bit integer in decimal. */
export function uint32(text: string): RuleResult {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) > 0xffffffff) {
    return { ok: false, message: `"${text}" is not a whole number from 0 to 4294967295` };
  }
  return { ok: true, value: String(Number(trimmed)) };
}

const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A Kubernetes resource quantity: `100m`, `128Mi`, `2`, `1.5G`. */
export function quantity(text: string): RuleResult {
  const trimmed = text.trim();
  if (!QUANTITY.test(trimmed)) return { ok: false, message: `"${text}" is not a Kubernetes quantity such as 100m, 0.5, 128Mi or 1G` };
  return { ok: true, value: trimmed };
}
