// End to end: two pods (network namespaces on a bridge), each with an app, Istio's capture rules from
// weft-iptables and `weft sidecar` as uid 1337, and the real control plane in workerd. Pod A's app calls
// Pod B's IP in plain HTTP; the sidecars carry it as mutual TLS (tcpdump on Pod B's link proves it);
// Istio resources applied to the control plane change what happens without restarting anything; with
// the control plane stopped, traffic keeps flowing. Run as root: `npm run test:e2e`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_PORT, MeshLab, type FetchResult, type Pod } from "./support/mesh-lab.js";
import { readTcpSegments } from "./support/pcap.js";

const NS = "e2e";
const HOST_B = `b.${NS}.svc.cluster.local`;

const SERVICES = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: b, namespace: ${NS} }
spec:
  hosts: [${HOST_B}]
  location: MESH_INTERNAL
  ports: [{ number: ${APP_PORT}, name: http, protocol: HTTP }]
  resolution: STATIC
  workloadSelector: { labels: { app: b } }
`;

/** Polls `probe` until `done` holds for its answer; returns the answer and how long it took. */
async function eventually(probe: () => Promise<FetchResult>, done: (r: FetchResult) => boolean, timeoutMs = 15_000): Promise<{ result: FetchResult; ms: number }> {
  const started = Date.now();
  let result: FetchResult = {};
  while (Date.now() - started < timeoutMs) {
    result = await probe();
    if (done(result)) return { result, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not reached in ${timeoutMs} ms; last answer ${JSON.stringify(result)}`);
}

describe("two pods with Weft sidecars", () => {
  const lab = new MeshLab();
  let a: Pod;
  let b: Pod;
  const callB = (path = "/", headers: Record<string, string> = {}) => lab.fetchFrom(a.netns, `http://${b.ip}:${APP_PORT}${path}`, { host: `${HOST_B}:${APP_PORT}`, ...headers });
  const fromOutside = (path = "/") => lab.fetchFrom(lab.nodeNetns, `http://${b.ip}:${APP_PORT}${path}`, { host: `${HOST_B}:${APP_PORT}` });

  beforeAll(async () => {
    try {
      await lab.start();
      await lab.apply(SERVICES);
      a = await lab.addPod({ name: "a", namespace: NS, serviceAccount: "a", labels: { app: "a", "security.istio.io/tlsMode": "istio" } });
      b = await lab.addPod({ name: "b", namespace: NS, serviceAccount: "b", labels: { app: "b", "security.istio.io/tlsMode": "istio" } });
      await Promise.all([lab.startSidecar(a), lab.startSidecar(b)]);
    } catch (error) {
      throw new Error(`${String(error)}\n${lab.sidecarLogs()}`);
    }
  }, 300_000);
  afterAll(async () => {
    await lab.close();
  }, 60_000);

  it("carries A's plain HTTP call to B's IP as mutual TLS; B's app sees the request", async () => {
    const capture = await lab.capture(b);
    const answer = await callB("/hello?from=a", { "x-probe": "e2e" });
    const file = await capture.stop();
    expect(answer.status, JSON.stringify(answer)).toBe(200);
    const seen = JSON.parse(answer.body ?? "{}") as { app: string; path: string; headers: Record<string, string> };
    expect(seen).toMatchObject({ app: "b", path: "/hello?from=a" });
    expect(seen.headers["x-probe"]).toBe("e2e");
    // B's sidecar tells the app who called, as Istio's does: A's SPIFFE ID, checked in the mTLS handshake.
    expect(seen.headers["x-forwarded-client-cert"]).toMatch(new RegExp(`^By=spiffe://cluster.local/ns/${NS}/sa/b;Hash=[0-9a-f]{64};Subject="";URI=spiffe://cluster.local/ns/${NS}/sa/a$`));

    const segments = readTcpSegments(file).filter((s) => s.payload.length > 0 && (s.destinationPort === APP_PORT || s.sourcePort === APP_PORT));
    const toB = segments.filter((s) => s.destination === b.ip && s.destinationPort === APP_PORT);
    const fromB = segments.filter((s) => s.source === b.ip && s.sourcePort === APP_PORT);
    expect(toB.length, "no payload reached B on the wire").toBeGreaterThan(0);
    expect(fromB.length).toBeGreaterThan(0);
    // A TLS handshake record (ClientHello) first, then only TLS records; nothing readable.
    expect(toB[0]!.payload[0]).toBe(0x16);
    expect(toB[0]!.payload[1]).toBe(0x03);
    expect(fromB[0]!.payload[0]).toBe(0x16);
    const wire = Buffer.concat(segments.map((s) => s.payload)).toString("latin1");
    expect(wire).not.toContain("GET /hello");
    expect(wire).not.toContain("x-probe");
    expect(wire).not.toContain('"app":"b"');
  });

  it("applies a VirtualService change (a header route with a fault abort) without restarting anything", async () => {
    await lab.apply(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: b, namespace: ${NS} }
spec:
  hosts: [${HOST_B}]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
    route: [{ destination: { host: ${HOST_B} } }]
  - route: [{ destination: { host: ${HOST_B} } }]
`);
    const { ms } = await eventually(() => callB("/", { "x-canary": "yes" }), (r) => r.status === 418);
    expect((await callB("/")).status).toBe(200);
    const removed = await lab.api("DELETE", `/apis/networking.istio.io/v1/namespaces/${NS}/virtualservices/b`);
    expect(removed.status).toBe(200);
    await eventually(() => callB("/", { "x-canary": "yes" }), (r) => r.status === 200);
    console.log(`e2e: the VirtualService took effect at pod A within ${ms} ms (including the request round trips)`);
  });

  it("answers 403 when an AuthorizationPolicy DENYs the caller's SPIFFE principal", async () => {
    await lab.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-admin-from-a, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: b } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/${NS}/sa/a"] } }], to: [{ operation: { paths: ["/admin*"] } }] }]
`);
    const { result } = await eventually(() => callB("/admin/users"), (r) => r.status === 403);
    expect(result.body).toContain("RBAC: access denied");
    expect((await callB("/public")).status).toBe(200);
    // The policy names A's principal: a plaintext caller from outside the mesh has none and is not denied.
    expect((await fromOutside("/admin/users")).status).toBe(200);
  });

  it("STRICT refuses a plaintext client from outside the mesh; PERMISSIVE let it in", async () => {
    expect((await fromOutside("/")).status).toBe(200);
    await lab.apply(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: ${NS} }
spec: { mtls: { mode: STRICT } }
`);
    const { result } = await eventually(fromOutside, (r) => r.status === undefined);
    expect(result.code).toMatch(/ECONNRESET|EPIPE|ECONNREFUSED/);
    expect((await callB("/")).status).toBe(200);
  });

  it("keeps traffic flowing with the control plane stopped", async () => {
    await lab.controlPlane.stop();
    for (let i = 0; i < 5; i++) {
      const answer = await callB(`/offline/${i}`);
      expect(answer.status, JSON.stringify(answer)).toBe(200);
    }
    expect((await lab.fetchFrom(a.netns, "http://127.0.0.1:15021/healthz/ready")).status).toBe(200);
  });

  it("drains on SIGTERM and exits 0", async () => {
    const code = await lab.stopSidecar(a, "SIGTERM");
    expect(code).toBe(0);
    expect(a.sidecarLog.join("\n")).toContain('"event":"stopped"');
  });
});
