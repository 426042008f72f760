// Circuit breaking from connectionPool through UpstreamCluster.admit / tryStartRetry: request limits,
// the FIFO queue of pending requests, overflow, aborts while queued, and concurrent retries.
import { describe, expect, it } from "vitest";
import type { Cluster, ConnectionPool } from "../../../edge-proxy/core/config/proxy-config.js";
import { circuitBreakerLimits, createUpstreamCluster, UNLIMITED } from "../../../edge-proxy/core/upstream/index.js";
import type { RequestLease, UpstreamCluster } from "../../../edge-proxy/core/upstream/types.js";

function upstream(connectionPool?: ConnectionPool): UpstreamCluster {
  const cluster: Cluster = {
    name: "outbound|80||svc",
    host: "svc",
    port: 80,
    endpoints: [{ address: "10.0.0.1", port: 80, labels: {} }],
    policy: { loadBalancer: { kind: "ROUND_ROBIN" }, ...(connectionPool ? { connectionPool } : {}) },
  };
  return createUpstreamCluster(cluster, { now: () => 0, random: () => 0.5 });
}

async function lease(u: UpstreamCluster, signal?: AbortSignal): Promise<RequestLease> {
  const result = await u.admit(signal);
  if (result === "overflow") throw new Error("unexpected overflow");
  return result;
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("limits", () => {
  it("defaults every threshold to Istio's 2^32-1, also for 0", () => {
    expect(circuitBreakerLimits(undefined)).toEqual({ maxRequests: UNLIMITED, maxPending: UNLIMITED, maxRetries: UNLIMITED });
    expect(circuitBreakerLimits({ maxConnections: 0, http2MaxRequests: 0, http1MaxPendingRequests: 0, maxRetries: 0 })).toEqual({
      maxRequests: UNLIMITED,
      maxPending: UNLIMITED,
      maxRetries: UNLIMITED,
    });
  });

  it("bounds active requests by the smaller of maxConnections and http2MaxRequests", () => {
    expect(circuitBreakerLimits({ maxConnections: 3, http2MaxRequests: 10 }).maxRequests).toBe(3);
    expect(circuitBreakerLimits({ maxConnections: 30, http2MaxRequests: 10 }).maxRequests).toBe(10);
  });

  it("admits many requests when unlimited", async () => {
    const u = upstream();
    const leases = await Promise.all(Array.from({ length: 1_000 }, () => u.admit()));
    expect(leases.every((l) => l !== "overflow")).toBe(true);
  });

  it("admits up to the limit, queues up to http1MaxPendingRequests, then overflows", async () => {
    const u = upstream({ http2MaxRequests: 2, http1MaxPendingRequests: 1 });
    const a = await lease(u);
    await lease(u);
    const queued = u.admit();
    expect(await u.admit()).toBe("overflow");
    a.release();
    expect(await queued).not.toBe("overflow");
  });

  it("frees the slot once however often release is called", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 1 });
    const a = await lease(u);
    a.release();
    a.release();
    const b = await lease(u);
    const queued = u.admit();
    let done = false;
    void queued.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    b.release();
    await settle();
    expect(done).toBe(true);
  });
});

describe("pending queue", () => {
  it("hands freed slots to waiters in FIFO order", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 10 });
    const first = await lease(u);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      u.admit().then((l) => {
        order.push(n);
        return l as RequestLease;
      }),
    );
    await settle();
    expect(order).toEqual([]);
    first.release();
    const w1 = await waiters[0]!;
    await settle();
    expect(order).toEqual([1]);
    w1.release();
    const w2 = await waiters[1]!;
    w2.release();
    const w3 = await waiters[2]!;
    expect(order).toEqual([1, 2, 3]);
    w3.release();
    // All slots back: a new request is admitted at once.
    expect(await u.admit()).not.toBe("overflow");
  });

  it("overflows at once when the queue is full", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 2 });
    await lease(u);
    void u.admit();
    void u.admit();
    expect(await u.admit()).toBe("overflow");
  });

  it("takes an aborted waiter out of the queue and rejects with the signal's reason", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 1 });
    const holder = await lease(u);
    const controller = new AbortController();
    const waiting = u.admit(controller.signal);
    const reason = new Error("client went away");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    // Its queue place is free again, and the freed slot is not lost to it.
    const next = u.admit();
    expect(await Promise.race([u.admit(), settle().then(() => "still queued")])).toBe("overflow");
    holder.release();
    expect(await next).not.toBe("overflow");
  });

  it("rejects at once when the signal is already aborted and the request would queue", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 1 });
    await lease(u);
    const controller = new AbortController();
    controller.abort("gone");
    await expect(u.admit(controller.signal)).rejects.toBe("gone");
  });

  it("aborting after the slot was handed over changes nothing", async () => {
    const u = upstream({ maxConnections: 1, http1MaxPendingRequests: 1 });
    const holder = await lease(u);
    const controller = new AbortController();
    const waiting = u.admit(controller.signal);
    holder.release();
    const got = (await waiting) as RequestLease;
    controller.abort();
    got.release();
    expect(await u.admit()).not.toBe("overflow");
  });
});

describe("maxRetries", () => {
  it("allows that many concurrent retries", () => {
    const u = upstream({ maxRetries: 2 });
    expect(u.tryStartRetry()).toBe(true);
    expect(u.tryStartRetry()).toBe(true);
    expect(u.tryStartRetry()).toBe(false);
    u.retryDone();
    expect(u.tryStartRetry()).toBe(true);
  });

  it("is unlimited by default and never goes below zero", () => {
    const u = upstream();
    u.retryDone();
    for (let i = 0; i < 10_000; i++) expect(u.tryStartRetry()).toBe(true);
  });
});
