/**
 * @module hosts/apply-received-config
 * What every host does with a config the control plane sent (or one kept from before): check it with
 * validateProxyConfig, then hand it to the engine, which may still refuse to compile it. The answer is
 * the reason to NACK with, in one line, so the edge gateway and the sidecar refuse configs alike.
 */
import type { ProxyConfig } from "../core/config/proxy-config.js";
import { validateProxyConfig } from "../core/config/validate-proxy-config.js";

export type ReceivedConfigOutcome = { ok: true; config: ProxyConfig } | { ok: false; error: string };

/** Validates `body` and applies it; `apply` throws (and changes nothing) when the engine cannot compile it. */
export function applyReceivedConfig(body: unknown, apply: (config: ProxyConfig) => void): ReceivedConfigOutcome {
  const checked = validateProxyConfig(body);
  if (!checked.ok) return { ok: false, error: checked.errors.slice(0, 5).map((e) => `${e.field}: ${e.message}`).join("; ") };
  try {
    apply(checked.config);
  } catch (cause) {
    return { ok: false, error: `cannot compile: ${String(cause)}` };
  }
  return { ok: true, config: checked.config };
}
