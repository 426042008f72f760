/**
 * @module test/node/proxy-config/corpus
 * Every VirtualService and DestinationRule of Istio's corpus compiles into a valid proxy config,
 * built with the other documents of its file as the store would hold them. A VirtualService's
 * routes all appear (one Route per HTTP route) for a sidecar in a namespace that sees it and for
 * each gateway it binds; a hostless (delegate) VirtualService's routes appear through a root that
 * delegates to it; a DestinationRule's policy reaches the clusters of its host and subsets.
 */
import { describe, expect, it } from "vitest";
import type { IstioObject } from "../../../edge-proxy/core/config/build/build-proxy-config.js";
import { resolveGatewayName, resolveHost } from "../../../edge-proxy/core/config/build/istio-objects.js";
import type { ProxyConfig, ProxyIdentity } from "../../../edge-proxy/core/config/proxy-config.js";
import { validateResource } from "../../../control/validation/validate-resource.js";
import { type CorpusDocument, loadCorpus } from "../../corpus.js";
import { build, gatewayProxy, referencedClusters, sidecar, vs } from "./support.js";

/** Documents test/workers/corpus.test.ts lists as refused although they carry no `_err`: Weft's store never holds them. */
const REFUSED_BY_ISTIO: Record<string, string> = {
  "samples/tests/integration/pilot/testdata/some-dir/missing-gateway.yaml#0": "no http, tcp or tls route",
  "samples/pkg/config/analysis/analyzers/testdata/virtualservice_destinationhosts.yaml#8": "route: [{}] has no destination",
};

const corpus = loadCorpus();

interface Entry {
  doc: CorpusDocument;
  object: IstioObject;
}

/** A corpus document as the builder receives it; Istio kinds only when Weft's validation accepts them. */
function toObject(doc: CorpusDocument): IstioObject | undefined {
  const v = doc.value as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string> }; spec?: unknown };
  if (typeof v !== "object" || v === null || typeof v.kind !== "string" || typeof v.metadata?.name !== "string") return undefined;
  const apiVersion = typeof v.apiVersion === "string" ? v.apiVersion : undefined;
  let namespace = typeof v.metadata.namespace === "string" ? v.metadata.namespace : "default";
  if (apiVersion?.includes(".istio.io/")) {
    if (doc.err !== undefined || `${doc.file}#${doc.index}` in REFUSED_BY_ISTIO) return undefined;
    const result = validateResource(v);
    if (!result.ok) return undefined;
    namespace = result.value.namespace;
  }
  const object: IstioObject = { kind: v.kind, metadata: { name: v.metadata.name, namespace }, spec: v.spec ?? {} };
  if (apiVersion !== undefined) object.apiVersion = apiVersion;
  return object;
}

const byFile = new Map<string, Entry[]>();
for (const doc of corpus) {
  const object = toObject(doc);
  if (!object) continue;
  const list = byFile.get(doc.file) ?? [];
  list.push({ doc, object });
  byFile.set(doc.file, list);
}

const identity = (o: IstioObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;

/** The file's documents as a store holds them with `entry` applied last: one object per kind, namespace and name. */
function storedWith(entry: Entry): IstioObject[] {
  const stored = new Map<string, IstioObject>();
  for (const e of byFile.get(entry.doc.file) ?? []) stored.set(identity(e.object), e.object);
  stored.set(identity(entry.object), entry.object);
  return [...stored.values()];
}

const label = (e: Entry) => `${e.doc.file.replace(/^samples\//, "")}#${e.doc.index} ${e.object.metadata.namespace}/${e.object.metadata.name}`;
const entriesOf = (kind: string) =>
  [...byFile.values()].flat().filter((e) => e.object.kind === kind && e.object.apiVersion?.startsWith("networking.istio.io/"));

const virtualServices = entriesOf("VirtualService");
const destinationRules = entriesOf("DestinationRule");

/** A namespace from which `o` is visible: `preferred` when its exportTo allows, else one it names. */
function seeingNamespace(o: IstioObject, preferred: string): string {
  const exportTo: string[] = Array.isArray(o.spec.exportTo) ? o.spec.exportTo : [];
  const ns = o.metadata.namespace;
  if (exportTo.length === 0 || exportTo.some((e) => e === "*" || (e === "." ? ns : e) === preferred)) return preferred;
  const named = exportTo.find((e) => e !== "." && e !== "*" && e !== "~");
  return named ?? ns;
}

/**
 * The virtual hosts carrying `id`'s routes (alone, or merged with other VirtualServices' on a gateway):
 * a sidecar's on listener 0; a gateway's on every listener (its Gateway's server ports, when the file
 * has the Gateway resource).
 */
function hostsOf(config: ProxyConfig, id: string) {
  const listeners = config.proxy.kind === "gateway" ? config.listeners : config.listeners.filter((l) => l.port === 0);
  return listeners.flatMap((l) => l.virtualHosts).filter((vh) => vh.name.split(",").includes(id));
}

const httpCount = (o: IstioObject | undefined) => (Array.isArray(o?.spec.http) ? o.spec.http.length : 0);

function expectRoutesAppear(config: ProxyConfig, object: IstioObject, stored: IstioObject[]): void {
  const id = `${object.metadata.namespace}/${object.metadata.name}`;
  const count = httpCount(object);
  const hosts = hostsOf(config, id);
  if (count === 0) {
    expect(hosts).toEqual([]);
    return;
  }
  if (hosts.length === 0 && config.proxy.kind === "sidecar") {
    // An older VirtualService claimed every one of its hosts first: a sidecar keeps that one's (as Istio does).
    const served = (config.listeners.find((l) => l.port === 0)?.virtualHosts ?? []).flatMap((vh) => vh.domains);
    const own: string[] = object.spec.hosts.map((h: string) => resolveHost(h, object.metadata.namespace, "cluster.local"));
    expect(own.length).toBeGreaterThan(0);
    for (const h of own) expect(served, `${h} served by an older VirtualService`).toContain(h);
    return;
  }
  expect(hosts.length, `virtual host for ${id}`).toBeGreaterThan(0);
  for (const vh of hosts) {
    const owners = vh.name.split(",");
    const expected = owners.reduce((n, owner) => n + httpCount(stored.find((o) => o.kind === "VirtualService" && `${o.metadata.namespace}/${o.metadata.name}` === owner)), 0);
    expect(vh.routes).toHaveLength(expected);
    if (owners.length === 1) {
      const names = (object.spec.http as { name?: string }[]).map((r, i) => r.name || `${id}/${i}`);
      expect(vh.routes.map((r) => r.name)).toEqual(names);
    }
  }
  const clusters = new Set(config.clusters.map((c) => c.name));
  for (const name of referencedClusters(config)) expect(clusters, name).toContain(name);
}

describe("corpus: documents refused by Weft's validation are not compiled", () => {
  it.each(Object.entries(REFUSED_BY_ISTIO))("%s (%s)", (key) => {
    const [file, index] = key.split("#");
    const doc = corpus.find((d) => d.file === file && d.index === Number(index));
    expect(doc).toBeDefined();
    expect(validateResource(doc!.value).ok).toBe(false);
  });
});

describe("corpus: every VirtualService compiles and its routes appear", () => {
  it("covers the corpus", () => {
    expect(virtualServices.length).toBeGreaterThan(70);
  });

  it.each(virtualServices.map((e) => [label(e), e] as const))("%s", (_label, entry) => {
    const stored = storedWith(entry);
    const o = entry.object;
    const ns = o.metadata.namespace;
    const hosts: string[] = Array.isArray(o.spec.hosts) ? o.spec.hosts : [];
    if (hosts.length === 0) {
      // A delegate: its routes appear through a root VirtualService that delegates to it.
      const root = vs(ns, "corpus-delegating-root", { hosts: ["delegate-root.corpus.test"], http: [{ delegate: { name: o.metadata.name, namespace: ns } }] });
      const config = build({ resources: [...stored, root], proxy: sidecar(seeingNamespace(o, ns)) });
      expect(hostsOf(config, `${ns}/corpus-delegating-root`)[0]?.routes).toHaveLength(httpCount(o));
      for (const name of referencedClusters(config)) expect(config.clusters.map((c) => c.name)).toContain(name);
      return;
    }
    const gateways: string[] = (Array.isArray(o.spec.gateways) && o.spec.gateways.length > 0 ? o.spec.gateways : ["mesh"]).map((g: string) => resolveGatewayName(g, ns));
    const proxies: ProxyIdentity[] = gateways.map((g) => (g === "mesh" ? sidecar(seeingNamespace(o, ns)) : gatewayProxy(seeingNamespace(o, g.split("/")[0] ?? ns), g)));
    expect(proxies.length).toBeGreaterThan(0);
    for (const proxy of proxies) expectRoutesAppear(build({ resources: stored, proxy }), o, stored);
    if (!gateways.includes("mesh")) {
      // Bound to gateways only: a sidecar in its namespace does not route it.
      expect(hostsOf(build({ resources: stored, proxy: sidecar(ns) }), `${ns}/${o.metadata.name}`)).toEqual([]);
    }
  });
});

describe("corpus: every DestinationRule compiles and reaches its clusters", () => {
  it("covers the corpus", () => {
    expect(destinationRules.length).toBeGreaterThan(25);
  });

  it.each(destinationRules.map((e) => [label(e), e] as const))("%s", (_label, entry) => {
    const o = entry.object;
    const ns = o.metadata.namespace;
    const host = String(o.spec.host).replace(/^\*/, "probe");
    const subsets: { name: string }[] = Array.isArray(o.spec.subsets) ? o.spec.subsets : [];
    const probe = vs(ns, "corpus-dr-probe", {
      hosts: ["dr-probe.corpus.test"],
      http: [undefined, ...subsets.map((s) => s.name)].map((subset) => ({ route: [{ destination: subset === undefined ? { host } : { host, subset } }] })),
    });
    const labels: Record<string, string> = o.spec.workloadSelector?.matchLabels ?? {};
    const config = build({ resources: [...storedWith(entry), probe], proxy: sidecar(ns, labels) });
    const routes = hostsOf(config, `${ns}/corpus-dr-probe`)[0]?.routes ?? [];
    expect(routes).toHaveLength(subsets.length + 1);
    routes.forEach((route, i) => {
      const action = route.action;
      if (action.kind !== "route") throw new Error("probe routes forward");
      const c = config.clusters.find((x) => x.name === action.destinations[0]?.cluster);
      expect(c).toBeDefined();
      expect(c!.subset).toBe(i === 0 ? undefined : subsets[i - 1]?.name);
      // The rule's own top-level policy reaches the host's cluster unless a port-level entry replaces it.
      const policy = o.spec.trafficPolicy;
      const portLevel = (policy?.portLevelSettings ?? []).some((p: { port?: { number?: number } }) => p.port?.number === c!.port);
      if (i === 0 && policy && !portLevel) {
        if (policy.tls) expect(c!.policy.tls?.mode).toBe(policy.tls.mode ?? "DISABLE");
        if (policy.outlierDetection) expect(c!.policy.outlierDetection).toBeDefined();
        if (policy.loadBalancer?.simple === "ROUND_ROBIN" || policy.loadBalancer?.simple === "RANDOM") expect(c!.policy.loadBalancer.kind).toBe(policy.loadBalancer.simple);
        if (policy.loadBalancer?.consistentHash) expect(["RING_HASH", "MAGLEV"]).toContain(c!.policy.loadBalancer.kind);
      }
    });
  });
});
