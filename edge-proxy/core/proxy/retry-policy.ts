/**
 * @module proxy/retry-policy
 * Envoy's retry conditions (`retryOn`) as Istio passes them: which attempt outcomes may be retried.
 * - `5xx`: any 5xx response, and no response at all (connect failure, reset, per-try timeout).
 * - `gateway-error`: 502, 503, 504, and a per-try timeout (Envoy answers it as 504).
 * - `reset`: no response (reset, disconnect, per-try timeout).
 * - `connect-failure`, `refused-stream`: those failures only.
 * - `retriable-4xx`: 409.
 * - `retriable-status-codes`: the status codes listed in `retryOn`.
 * - `unavailable` / `cancelled` / `deadline-exceeded` / `resource-exhausted`: gRPC status 14 / 1 / 4 / 8 in the response headers.
 * Unknown conditions are ignored, as Envoy ignores the ones it does not know.
 */
import type { RetryPolicy } from "../config/proxy-config.js";

/** What retry conditions read of an upstream response: a web Response, or a host's own response head. */
export interface ResponseHeadView {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
}

export type AttemptResult<R extends ResponseHeadView = ResponseHeadView> =
  | { kind: "response"; response: R }
  | { kind: "connect-failure" }
  | { kind: "reset" }
  | { kind: "refused-stream" }
  | { kind: "timeout" };

const GRPC: Record<string, string> = { cancelled: "1", "deadline-exceeded": "4", "resource-exhausted": "8", unavailable: "14" };

/** A RetryPolicy compiled once per route. */
export interface RetryConditions {
  readonly attempts: number;
  readonly perTryTimeoutMs: number | undefined;
  retriable(result: AttemptResult): boolean;
}

const compiled = new WeakMap<RetryPolicy, RetryConditions>();

export function retryConditions(policy: RetryPolicy): RetryConditions {
  let conditions = compiled.get(policy);
  if (conditions !== undefined) return conditions;
  const on = new Set(policy.retryOn);
  const codes = new Set(policy.retryOn.filter((c) => /^\d+$/.test(c)).map(Number));
  const grpc = new Set(policy.retryOn.filter((c) => c in GRPC).map((c) => GRPC[c] as string));
  const anyNoResponse = on.has("5xx") || on.has("reset");
  conditions = {
    attempts: policy.attempts,
    perTryTimeoutMs: policy.perTryTimeoutMs,
    retriable(result: AttemptResult): boolean {
      switch (result.kind) {
        case "connect-failure":
          return anyNoResponse || on.has("connect-failure") || on.has("gateway-error");
        case "refused-stream":
          return anyNoResponse || on.has("refused-stream");
        case "reset":
          return anyNoResponse;
        case "timeout":
          return anyNoResponse || on.has("gateway-error");
        case "response": {
          const status = result.response.status;
          if (status >= 500 && on.has("5xx")) return true;
          if ((status === 502 || status === 503 || status === 504) && on.has("gateway-error")) return true;
          if (status === 409 && on.has("retriable-4xx")) return true;
          if (on.has("retriable-status-codes") && codes.has(status)) return true;
          if (grpc.size > 0) {
            const grpcStatus = result.response.headers.get("grpc-status");
            if (grpcStatus !== null && grpc.has(grpcStatus)) return true;
          }
          return false;
        }
      }
    },
  };
  compiled.set(policy, conditions);
  return conditions;
}

/** Envoy's default back-off: 25 ms base, fully jittered exponential, capped at 10 × base. */
export function backoffMs(retry: number, random: () => number, baseMs = 25): number {
  const ceiling = Math.min(baseMs * 2 ** retry, baseMs * 10);
  return Math.floor(random() * ceiling);
}
