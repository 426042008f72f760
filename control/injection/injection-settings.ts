/**
 * @module injection/injection-settings
 * Reads and checks every annotation the injector honours, before anything is rendered (as istiod
 * validates them), and resolves them against the defaults of Istio's template. All bad values are
 * reported together in one `AnnotationInvalid`.
 */
import * as A from "./annotation-names.js";
import { AnnotationInvalid, type AnnotationProblem } from "./annotation-invalid.js";
import { HEALTH_PORT, PROMETHEUS_PORT, STATUS_PORT, type InjectionOptions } from "./injection-options.js";
import type { PodView } from "./pod-view.js";
import { mergeProxyConfig, parseProxyConfigAnnotation, type EffectiveProxyConfig } from "./proxy-config.js";
import { cidrList, portList, quantity, uint32, type RuleResult } from "./value-rules.js";

export type InterceptionMode = "REDIRECT" | "NONE";

export interface InjectionSettings {
  interceptionMode: InterceptionMode;
  /** iptables arguments, as strings: `*`, a list, or "" for none. */
  includeOutboundIpRanges: string;
  excludeOutboundIpRanges: string;
  includeInboundPorts: string;
  /** Always starts with 15090,15021,15020; then the pod's own exclusions. */
  excludeInboundPorts: string;
  /** Only when the pod sets them. */
  includeOutboundPorts: string | undefined;
  excludeOutboundPorts: string | undefined;
  readiness: { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  proxyConfig: EffectiveProxyConfig;
}

/** Istio's chart defaults for the proxy's resources and readiness probe. */
const DEFAULT_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } };
const DEFAULT_READINESS = { initialDelaySeconds: 0, periodSeconds: 15, failureThreshold: 4 };
const ALWAYS_EXCLUDED_INBOUND = [PROMETHEUS_PORT, HEALTH_PORT, STATUS_PORT].map(String);

/** The settings for `pod`, or throws AnnotationInvalid naming every bad annotation. */
export function readInjectionSettings(pod: PodView, options: InjectionOptions, subject: string): InjectionSettings {
  const problems: AnnotationProblem[] = [];
  const read = (annotation: string, rule: (text: string) => RuleResult, fallback: string): string => {
    const text = pod.annotations[annotation];
    if (text === undefined) return fallback;
    const result = rule(text);
    if (result.ok) return result.value;
    problems.push({ annotation, message: result.message });
    return fallback;
  };
  const optional = (annotation: string, rule: (text: string) => RuleResult): string | undefined =>
    pod.annotations[annotation] === undefined ? undefined : read(annotation, rule, "");

  let podProxyConfig = {};
  const configText = pod.annotations[A.PROXY_CONFIG];
  if (configText !== undefined) {
    const parsed = parseProxyConfigAnnotation(configText);
    if (parsed.ok) podProxyConfig = parsed.values;
    else problems.push({ annotation: A.PROXY_CONFIG, message: parsed.message });
  }
  const proxyConfig = mergeProxyConfig(options.proxyConfig ?? {}, podProxyConfig);

  const modeAnnotation = pod.annotations[A.INTERCEPTION_MODE];
  const modeText = modeAnnotation ?? proxyConfig.interceptionMode ?? "REDIRECT";
  const modeSource = modeAnnotation !== undefined ? A.INTERCEPTION_MODE : A.PROXY_CONFIG;
  let interceptionMode: InterceptionMode = "REDIRECT";
  if (modeText === "REDIRECT" || modeText === "NONE") interceptionMode = modeText;
  else if (modeText === "TPROXY") problems.push({ annotation: modeSource, message: "interception mode TPROXY is not supported by Weft: use REDIRECT (the default) or NONE" });
  else problems.push({ annotation: modeSource, message: `"${modeText}" is not an interception mode: the value must be REDIRECT, TPROXY or NONE` });

  const userExcludedInbound = read(A.EXCLUDE_INBOUND_PORTS, (t) => portList(t, false), "");
  const excludeInboundPorts = [...new Set([...ALWAYS_EXCLUDED_INBOUND, ...userExcludedInbound.split(",").filter(Boolean)])].join(",");

  const settings: InjectionSettings = {
    interceptionMode,
    includeOutboundIpRanges: read(A.INCLUDE_OUTBOUND_IP_RANGES, (t) => cidrList(t, true), "*"),
    excludeOutboundIpRanges: read(A.EXCLUDE_OUTBOUND_IP_RANGES, (t) => cidrList(t, false), ""),
    includeInboundPorts: read(A.INCLUDE_INBOUND_PORTS, (t) => portList(t, true), "*"),
    excludeInboundPorts,
    includeOutboundPorts: optional(A.INCLUDE_OUTBOUND_PORTS, (t) => portList(t, false)),
    excludeOutboundPorts: optional(A.EXCLUDE_OUTBOUND_PORTS, (t) => portList(t, false)),
    readiness: {
      initialDelaySeconds: Number(read(A.READINESS_INITIAL_DELAY, uint32, String(DEFAULT_READINESS.initialDelaySeconds))),
      periodSeconds: Number(read(A.READINESS_PERIOD, uint32, String(DEFAULT_READINESS.periodSeconds))),
      failureThreshold: Number(read(A.READINESS_FAILURE_THRESHOLD, uint32, String(DEFAULT_READINESS.failureThreshold))),
    },
    resources: {
      requests: { cpu: read(A.PROXY_CPU, quantity, DEFAULT_RESOURCES.requests.cpu), memory: read(A.PROXY_MEMORY, quantity, DEFAULT_RESOURCES.requests.memory) },
      limits: { cpu: read(A.PROXY_CPU_LIMIT, quantity, DEFAULT_RESOURCES.limits.cpu), memory: read(A.PROXY_MEMORY_LIMIT, quantity, DEFAULT_RESOURCES.limits.memory) },
    },
    proxyConfig,
  };
  if (problems.length > 0) throw new AnnotationInvalid(subject, problems);
  return settings;
}
