/**
 * @module conformance/plan-adapter
 * Runs the conformance suite through the engine's head pipelines (planOutbound / planInbound, which the
 * sidecar's fast path uses) instead of outbound / inbound: a Proxy whose outbound and inbound turn each
 * web Request into a request head (HeaderList, target, body read in full), ask for a plan, and carry it
 * out with attempts through the harness's own send. A request without a plan goes through the web
 * pipeline unchanged, as the sidecar hands it to node:http. So every case of the suite checks that both
 * paths give the same answers, attempts, records and metrics. `planned()` counts what took each path.
 */
import { HeaderList } from "../../edge-proxy/core/http/header-list.js";
import type { AttemptSender } from "../../edge-proxy/core/proxy/forward.js";
import type { Plan, UpstreamResponseHead } from "../../edge-proxy/core/proxy/head-plan.js";
import { UpstreamFailure, type UpstreamTarget } from "../../edge-proxy/core/proxy/host.js";
import type { InboundContext, OutboundContext, Proxy } from "../../edge-proxy/core/proxy/proxy.js";
import type { CancelSignal } from "../../edge-proxy/core/proxy/cancellation.js";

/** An upstream web Response seen as a head with editable headers. */
class WebResponseHead implements UpstreamResponseHead {
  readonly headers: HeaderList;
  constructor(readonly response: Response) {
    this.headers = new HeaderList();
    response.headers.forEach((value, name) => {
      if (name !== "set-cookie") this.headers.append(name, value);
    });
    for (const cookie of response.headers.getSetCookie()) this.headers.append("set-cookie", cookie);
  }
  get status(): number {
    return this.response.status;
  }
}

const encode = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;

export interface PlanCounts {
  planned: number;
  web: number;
}

type Send = (request: Request, target: UpstreamTarget) => Promise<Response>;

export function viaPlans(proxy: Proxy, send: Send, counts: PlanCounts): Proxy {
  const headOf = async (request: Request) => {
    const url = new URL(request.url);
    const headers = new HeaderList();
    request.headers.forEach((value, name) => headers.append(name, value));
    if (!headers.has("host")) headers.set("host", url.host);
    const body = request.body === null ? null : await request.arrayBuffer();
    return { head: { method: request.method, pathAndQuery: url.pathname + url.search, headers, bodyBytes: body?.byteLength ?? 0 }, body, url };
  };

  const carryOut = async (plan: Plan, url: URL, body: ArrayBuffer | null, signal: CancelSignal | undefined): Promise<Response> => {
    if (plan.kind === "local") return finished(plan.status, plan.headers, plan.body === "" ? null : encode(plan.body), plan);
    const sender: AttemptSender<WebResponseHead> = {
      replayable: true,
      async send(target, attemptSignal) {
        const controller = new AbortController();
        if (attemptSignal.aborted) controller.abort();
        else attemptSignal.addEventListener("abort", () => controller.abort(), { once: true });
        const headers = new Headers();
        plan.headers.forEach((value, name) => headers.append(name, value));
        const init: RequestInit = { method: plan.method, headers, signal: controller.signal, redirect: "manual" };
        if (body !== null) init.body = body;
        const response = await send(new Request(`${url.protocol}//${plan.headers.get("host") ?? url.host}${plan.pathAndQuery}`, init), target).catch((error: unknown) => {
          throw error instanceof UpstreamFailure ? error : new UpstreamFailure("reset", String(error));
        });
        return new WebResponseHead(response);
      },
      discard: (response) => void response.response.body?.cancel().catch(() => {}),
    };
    const outcome = await plan.send(sender, signal);
    if (outcome.kind === "local") return finished(outcome.status, outcome.headers, outcome.body === "" ? null : encode(outcome.body), plan);
    const response = outcome.response;
    const bytes = response.response.body === null ? null : await response.response.arrayBuffer();
    const pairs: [string, string][] = [];
    response.headers.forEach((value, name) => pairs.push([name, value]));
    return finished(response.status, pairs, bytes, plan, response.response.statusText);
  };

  const finished = (status: number, headers: [string, string][], body: ArrayBuffer | null, plan: Plan, statusText = ""): Response => {
    plan.complete(body?.byteLength ?? 0, false);
    const nullBody = status === 204 || status === 304 || status === 101 || (status >= 100 && status < 200);
    return new Response(nullBody ? null : body, { status, statusText, headers });
  };

  const rebuild = (request: Request, body: ArrayBuffer | null) => new Request(request.url, { method: request.method, headers: request.headers, body, redirect: request.redirect, signal: request.signal });

  return {
    get config() {
      return proxy.config;
    },
    metrics: proxy.metrics,
    async outbound(request: Request, context: OutboundContext = {}) {
      const { head, body, url } = await headOf(request);
      const port = context.port ?? (url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80);
      const plan = url.protocol === "http:" ? proxy.planOutbound(head, { ...context, port }) : undefined;
      if (plan === undefined) {
        counts.web++;
        return proxy.outbound(rebuild(request, body), context);
      }
      counts.planned++;
      return carryOut(plan, url, body, context.signal);
    },
    async inbound(request: Request, context: InboundContext) {
      const { head, body, url } = await headOf(request);
      const plan = proxy.planInbound(head, context);
      if (plan === undefined) {
        counts.web++;
        return proxy.inbound(rebuild(request, body), context);
      }
      counts.planned++;
      return carryOut(plan, url, body, context.signal);
    },
    gateway: (request, context) => proxy.gateway(request, context),
    planOutbound: (head, context) => proxy.planOutbound(head, context),
    planInbound: (head, context) => proxy.planInbound(head, context),
    update: (config) => proxy.update(config),
    upstream: (name) => proxy.upstream(name),
  };
}
