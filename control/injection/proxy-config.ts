/**
 * @module injection/proxy-config
 * The effective ProxyConfig of a pod: the host's mesh-wide defaults overridden by the pod's
 * `proxy.istio.io/config` annotation (YAML or JSON), field by field, with `proxyMetadata` merged key
 * by key, as Istio merges them. Only the fields the injector acts on are checked; others pass through
 * to the proxy in PROXY_CONFIG.
 */
import { parseDocument } from "yaml";
import { isRecord } from "../validation/raw-value.js";
import type { ProxyConfigValues } from "./injection-options.js";

export interface EffectiveProxyConfig {
  values: ProxyConfigValues;
  holdApplicationUntilProxyStarts: boolean;
  proxyMetadata: Readonly<Record<string, string>>;
  interceptionMode: string | undefined;
}

/** Parses the annotation's text; returns the values or the rule the text breaks. */
export function parseProxyConfigAnnotation(text: string): { ok: true; values: ProxyConfigValues } | { ok: false; message: string } {
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) return { ok: false, message: `not valid YAML or JSON: ${error.message.split("\n")[0]}` };
  const values: unknown = doc.toJS({ maxAliasCount: 10 });
  if (values === null || values === undefined) return { ok: true, values: {} };
  if (!isRecord(values)) return { ok: false, message: "the value must be a ProxyConfig mapping such as {holdApplicationUntilProxyStarts: true}" };
  const problem = fieldProblem(values);
  return problem ? { ok: false, message: problem } : { ok: true, values };
}

function fieldProblem(values: ProxyConfigValues): string | undefined {
  const hold = values.holdApplicationUntilProxyStarts;
  if (hold !== undefined && typeof hold !== "boolean") return "holdApplicationUntilProxyStarts must be true or false";
  const metadata = values.proxyMetadata;
  if (metadata !== undefined && (!isRecord(metadata) || !Object.values(metadata).every((v) => typeof v === "string"))) {
    return "proxyMetadata must map names to string values";
  }
  const mode = values.interceptionMode;
  if (mode !== undefined && (typeof mode !== "string" || !["REDIRECT", "TPROXY", "NONE"].includes(mode))) {
    return "interceptionMode must be REDIRECT, TPROXY or NONE";
  }
  const concurrency = values.concurrency;
  if (concurrency !== undefined && (typeof concurrency !== "number" || !Number.isInteger(concurrency) || concurrency < 0)) {
    return "concurrency must be a whole number of at least 0";
  }
  return undefined;
}

/** `defaults` overridden by `pod`, field by field; `proxyMetadata` merged. */
export function mergeProxyConfig(defaults: ProxyConfigValues, pod: ProxyConfigValues): EffectiveProxyConfig {
  const proxyMetadata = { ...stringRecord(defaults.proxyMetadata), ...stringRecord(pod.proxyMetadata) };
  const values: ProxyConfigValues = { ...defaults, ...pod };
  if (Object.keys(proxyMetadata).length > 0) values.proxyMetadata = proxyMetadata;
  return {
    values,
    holdApplicationUntilProxyStarts: values.holdApplicationUntilProxyStarts === true,
    proxyMetadata,
    interceptionMode: typeof values.interceptionMode === "string" ? values.interceptionMode : undefined,
  };
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}
