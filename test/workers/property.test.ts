// Property-based tests (fast-check): arbitrary JSON and YAML bodies, and random mutations of valid
// Istio objects, never produce a 500 and never store an object that fails validation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KINDS } from "../../control/resources/kinds.js";
import { validateResource } from "../../control/validation/validate-resource.js";
import { call, json } from "./helpers.js";

const CREATE_VS = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";

/** Every stored object, across all kinds, re-validates cleanly. */
async function expectEverythingStoredIsValid(): Promise<number> {
  let count = 0;
  for (const k of KINDS) {
    const list = await json(await call("GET", `/apis/${k.group}/${k.versions[0]}/${k.plural}`));
    for (const item of list.items) {
      const result = validateResource(item);
      expect(result.ok, JSON.stringify({ item, result })).toBe(true);
      count++;
    }
  }
  return count;
}

async function expectHandled(res: Response): Promise<void> {
  expect(res.status).toBeLessThan(500);
  const body = await json(res);
  if (res.status >= 400) expect(body.kind).toBe("Status");
}

const SEEDS: Record<string, unknown>[] = [
  {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "reviews", labels: { app: "reviews" } },
    spec: {
      hosts: ["reviews"],
      http: [
        {
          match: [{ uri: { prefix: "/api" }, headers: { "end-user": { exact: "jason" } } }],
          route: [{ destination: { host: "reviews", subset: "v2" }, weight: 80 }, { destination: { host: "reviews", subset: "v3" }, weight: 20 }],
          timeout: "2s",
          retries: { attempts: 3, perTryTimeout: "500ms", retryOn: "5xx,reset" },
        },
      ],
    },
  },
  {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "reviews" },
    spec: {
      host: "reviews",
      trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" }, connectionPool: { tcp: { maxConnections: 100 } }, outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" } },
      subsets: [{ name: "v2", labels: { version: "v2" } }],
    },
  },
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "httpbin" },
    spec: {
      selector: { matchLabels: { app: "httpbin" } },
      action: "ALLOW",
      rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/curl"] } }], to: [{ operation: { methods: ["GET"], paths: ["/info*"] } }], when: [{ key: "request.headers[x-token]", values: ["a"] }] }],
    },
  },
];

/** Paths into a value: every key and index, so a mutation can land anywhere. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function mutate(doc: unknown, path: (string | number)[], replacement: unknown, mode: "replace" | "delete" | "add", key: string): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  if (path.length === 0) return mode === "replace" ? replacement : copy;
  let parent: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (mode === "replace") parent[last] = replacement;
  else if (mode === "delete") delete parent[last];
  else {
    const target = parent[last];
    if (target && typeof target === "object" && !Array.isArray(target)) (target as Record<string, unknown>)[key] = replacement;
  }
  return copy;
}

const mutation = fc
  .constantFrom(...SEEDS)
  .chain((seed) =>
    fc.record({
      seed: fc.constant(seed),
      path: fc.constantFrom(...paths(seed)),
      replacement: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("*", "", "0s", "1.5s", -1, 0, 65536, 101, "bad host", "[", null, "EXACT")),
      mode: fc.constantFrom("replace" as const, "delete" as const, "add" as const),
      key: fc.oneof(fc.constantFrom("timout", "weight", "name", "exact", "regex"), fc.string({ maxLength: 8 })),
    }),
  )
  .map(({ seed, path, replacement, mode, key }) => mutate(seed, path, replacement, mode, key));

describe("arbitrary input never produces a 500 nor stores an invalid object", { timeout: 180_000 }, () => {
  it("arbitrary JSON values through bulk apply and create", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        await expectHandled(await call("POST", "/v1/apply", { body: value }));
        await expectHandled(await call("POST", CREATE_VS, { body: value }));
      }),
      { numRuns: 150 },
    );
    await expectEverythingStoredIsValid();
  });

  it("arbitrary text as YAML", async () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.constantFrom("apiVersion: networking.istio.io/v1", "kind: VirtualService", "metadata: {name: a}", "spec:", "  hosts: [a]", "---", "- x", "&a [*a]", "key: *b", ": :", "\t", "  http:", "  - route: [{destination: {host: a}}]", "'unterminated"), { maxLength: 12 }).map((lines) => lines.join("\n")),
    );
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        await expectHandled(await call("POST", "/v1/apply", { text, contentType: "application/yaml" }));
      }),
      { numRuns: 200 },
    );
    await expectEverythingStoredIsValid();
  });

  it("random mutations of valid Istio objects", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (doc) => {
        const res = await call("POST", "/v1/apply", { body: doc });
        if (res.status === 200) accepted++;
        await expectHandled(res);
      }),
      { numRuns: 200 },
    );
    const stored = await expectEverythingStoredIsValid();
    // Some mutations keep the object valid (those are stored), most do not: both paths ran.
    expect(accepted).toBeGreaterThan(0);
    expect(stored).toBeGreaterThan(0);
  });
});
