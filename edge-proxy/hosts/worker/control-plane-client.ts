/**
 * @module hosts/worker/control-plane-client
 * The calls the edge gateway makes to the Weft control plane (docs/api.md "Registry" and "Config
 * distribution"), with its join token: register, heartbeat, fetch the config by version, ACK or NACK.
 * Transport is a fetch-like function, so a service binding and a public URL work the same.
 */

/** Calls the control plane (a service binding's fetch, or the global fetch on WEFT_URL). */
export type ControlPlaneFetch = (request: Request) => Promise<Response>;

/** What the gateway registers as (POST /v1/registry/workloads). */
export interface GatewayRegistration {
  name: string;
  namespace: string;
  serviceAccount: string;
  address: string;
  labels: Record<string, string>;
  gateways: string[];
  ports: { port: number; name: string; protocol: string }[];
  ttl?: string;
}

/** The answer to a config fetch. */
export type ConfigAnswer =
  | { kind: "config"; body: unknown; version: string }
  | { kind: "not-modified" }
  | { kind: "not-registered" };

/** The control plane answered something the gateway cannot use (an auth failure, a 5xx). */
export class ControlPlaneError extends Error {
  readonly code = "ControlPlaneError";
  readonly status: number;
  constructor(what: string, status: number, detail: string) {
    super(`${what}: control plane answered ${status}${detail ? `: ${detail.slice(0, 300)}` : ""}`);
    this.name = "ControlPlaneError";
    this.status = status;
  }
}

export interface ControlPlaneClient {
  readonly proxyId: string;
  register(): Promise<void>;
  /** false when the registration is gone (expired or removed). */
  heartbeat(): Promise<boolean>;
  fetchConfig(etag: string | undefined): Promise<ConfigAnswer>;
  ack(version: string): Promise<void>;
  nack(version: string, error: string): Promise<void>;
}

export function createControlPlaneClient(options: { fetch: ControlPlaneFetch; baseUrl: string; token: string; registration: GatewayRegistration }): ControlPlaneClient {
  const { registration } = options;
  const proxyId = `${registration.name}.${registration.namespace}`;
  const base = options.baseUrl.replace(/\/+$/, "");
  const call = (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    return options.fetch(new Request(`${base}${path}`, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) }));
  };
  const expect = async (what: string, response: Response, ok: (status: number) => boolean) => {
    if (ok(response.status)) return;
    throw new ControlPlaneError(what, response.status, await response.text().catch(() => ""));
  };
  const id = encodeURIComponent(proxyId);

  return {
    proxyId,
    async register() {
      const response = await call("POST", "/v1/registry/workloads", { body: { ...registration, kind: "gateway" } });
      await expect("register", response, (s) => s === 200 || s === 201);
      await response.body?.cancel();
    },
    async heartbeat() {
      const response = await call("PUT", `/v1/registry/workloads/${id}/heartbeat`, { body: {} });
      if (response.status === 404) {
        await response.body?.cancel();
        return false;
      }
      await expect("heartbeat", response, (s) => s === 200);
      await response.body?.cancel();
      return true;
    },
    async fetchConfig(etag) {
      const response = await call("GET", `/v1/proxies/${id}/config`, etag !== undefined ? { headers: { "if-none-match": etag } } : {});
      if (response.status === 304) return { kind: "not-modified" };
      if (response.status === 404) {
        await response.body?.cancel();
        return { kind: "not-registered" };
      }
      await expect("fetch config", response, (s) => s === 200);
      const tag = response.headers.get("etag") ?? "";
      return { kind: "config", body: await response.json(), version: tag.replace(/^W\//, "").replace(/"/g, "") };
    },
    async ack(version) {
      const response = await call("POST", `/v1/proxies/${id}/status`, { body: { version, applied: true } });
      await expect("ack", response, (s) => s >= 200 && s < 300);
      await response.body?.cancel();
    },
    async nack(version, error) {
      const response = await call("POST", `/v1/proxies/${id}/status`, { body: { version, error } });
      await expect("nack", response, (s) => s >= 200 && s < 300);
      await response.body?.cancel();
    },
  };
}
