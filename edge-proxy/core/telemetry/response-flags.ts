/**
 * @module telemetry/response-flags
 * Envoy's short response-flags text (`%RESPONSE_FLAGS%`, Istio's `response_flags` label): "-" when none,
 * else the flags comma-joined in Envoy's own order (the bit order of StreamInfo::CoreResponseFlag, which
 * ResponseFlagUtils::toShortString walks), so one set of flags always reads the same.
 */
import type { ResponseFlag } from "./types.js";

/** Envoy's bit order for the flags the core sets. */
const ENVOY_ORDER: Record<ResponseFlag, number> = {
  UH: 1, UT: 2, UF: 5, UC: 6, UO: 7, NR: 8, DI: 9, FI: 10, RL: 11, UAEX: 12, DC: 14, URX: 15, UPE: 23,
};

/** `-` for no flags, `UF,URX` for several (Envoy's order, duplicates dropped). */
export function responseFlagsText(flags: readonly ResponseFlag[]): string {
  if (flags.length === 0) return "-";
  if (flags.length === 1) return flags[0]!;
  const sorted = [...new Set(flags)].sort((a, b) => ENVOY_ORDER[a] - ENVOY_ORDER[b]);
  return sorted.join(",");
}
