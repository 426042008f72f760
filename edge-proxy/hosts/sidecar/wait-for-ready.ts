/**
 * @module hosts/sidecar/wait-for-ready
 * `weft sidecar wait` (pilot-agent's `wait`): polls the proxy's readiness URL until it answers 200,
 * so a postStart hook can hold the application until the proxy is ready
 * (holdApplicationUntilProxyStarts). Gives up after the timeout.
 */

export interface WaitOptions {
  /** Default `http://localhost:15021/healthz/ready`. */
  url: string;
  timeoutMs: number;
  periodMs: number;
  requestTimeoutMs: number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface WaitResult {
  ready: boolean;
  attempts: number;
  /** The last answer or error when not ready: `503 not ready: no config yet`, `ECONNREFUSED ...`. */
  last?: string;
}

export const WAIT_DEFAULTS = { url: "http://localhost:15021/healthz/ready", timeoutMs: 60_000, periodMs: 500, requestTimeoutMs: 500 } as const;

export async function waitForReady(options: WaitOptions): Promise<WaitResult> {
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.timeoutMs;
  let attempts = 0;
  let last: string | undefined;
  for (;;) {
    attempts += 1;
    try {
      const response = await doFetch(options.url, { signal: AbortSignal.timeout(options.requestTimeoutMs) });
      const body = (await response.text()).trim();
      if (response.status === 200) return { ready: true, attempts };
      last = `${response.status}${body ? ` ${body}` : ""}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      last = cause?.code ?? cause?.message ?? String(error);
    }
    if (now() + options.periodMs > deadline) return { ready: false, attempts, ...(last !== undefined ? { last } : {}) };
    await sleep(options.periodMs);
  }
}
