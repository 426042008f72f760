// Every document of the Istio corpus, through the Worker's own fetch with real D1: valid documents of
// supported kinds are stored and read back with the same spec; invalid ones (Istio's `_err`
// documents) are refused with the field named and store nothing; kinds Weft does not support are
// refused by name.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KINDS, UNSUPPORTED_KINDS } from "../../control/resources/kinds.js";
import { apply, call, json } from "./helpers.js";

interface Doc {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
}

const corpus = env.ISTIO_CORPUS;
const supported = new Map(KINDS.map((k) => [`${k.group}/${k.kind}`, k]));

function kindOf(value: unknown) {
  const doc = value as Doc;
  if (typeof doc?.apiVersion !== "string" || typeof doc.kind !== "string") return undefined;
  return supported.get(`${doc.apiVersion.split("/")[0]}/${doc.kind}`);
}

function label(d: (typeof corpus)[number]): string {
  const doc = d.value as Doc;
  return `${d.file}#${d.index} ${doc?.kind ?? typeof d.value}/${doc?.metadata?.name ?? "?"}`;
}

/**
 * Corpus documents that carry no `_err` yet are refused: inputs of Istio's analyzer and integration
 * tests that Istio's own webhook refuses too, and one that only parses as intended with a YAML 1.1
 * parser. Each is expected refused with the field named.
 */
const REFUSED_BY_ISTIO: Record<string, string> = {
  // "We didn't specify http, tcp or tls - this will cause a schema validation error" (the file's comment)
  "samples/tests/integration/pilot/testdata/some-dir/missing-gateway.yaml#0": "spec",
  // `route: [{}, ...]`: "test destination null"
  "samples/pkg/config/analysis/analyzers/testdata/virtualservice_destinationhosts.yaml#8": "spec.http[0].route[0].destination",
  // `hosts: ["*"]` with resolution NONE: serviceentry-invalid.yaml's bad-host-wildcard is the same and carries an _err
  "samples/pkg/config/analysis/analyzers/testdata/virtualservice_destinationhosts.yaml#4": "spec.hosts[0]",
  // `addresses: [1.2.3.4, 001:db8::]`: a YAML 1.2 parser reads the unquoted `001:db8::` inside [...] as a
  // one-key mapping (INDEX.md notes the divergence); Weft names the field and says to quote it.
  "samples/pkg/config/validation/testdata/crds/serviceentry-valid.yaml#0": "spec.addresses[1]",
};
const refusedByIstio = (d: (typeof corpus)[number]) => `${d.file}#${d.index}` in REFUSED_BY_ISTIO;

const valid = corpus.filter((d) => kindOf(d.value) && d.err === undefined && !refusedByIstio(d));
const invalid = corpus.filter((d) => kindOf(d.value) && (d.err !== undefined || refusedByIstio(d)));
const unsupported = corpus.filter((d) => !kindOf(d.value));

describe("the corpus", () => {
  it("is loaded and covers every supported kind", () => {
    expect(corpus.length).toBeGreaterThan(300);
    const kinds = new Set(valid.map((d) => (d.value as Doc).kind));
    for (const k of KINDS) expect(kinds, `no valid ${k.kind} in the corpus`).toContain(k.kind);
    expect(invalid.length).toBeGreaterThan(40);
  });
});

describe("valid documents are stored and read back unchanged", () => {
  it.each(valid.map((d) => [label(d), d] as const))("%s", async (_name, d) => {
    const doc = d.value as Doc;
    const kind = kindOf(doc)!;
    const res = await apply(d.yaml);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.items[0].action).toBe("created");
    const ns = doc.metadata?.namespace ?? "default";
    const path = `/apis/${kind.group}/${doc.apiVersion!.split("/")[1]}/namespaces/${ns}/${kind.plural}/${doc.metadata!.name}`;
    const got = await json(await call("GET", path));
    expect(got.spec).toEqual(doc.spec);
    expect(got.metadata.labels ?? {}).toEqual(doc.metadata?.labels ?? {});
    expect((await call("DELETE", path)).status).toBe(200);
  });
});

describe("invalid documents are refused with the field named, storing nothing", () => {
  it.each(invalid.map((d) => [`${label(d)} (${d.err ?? "invalid for Istio too"})`, d] as const))("%s", async (_name, d) => {
    const doc = d.value as Doc;
    const kind = kindOf(doc)!;
    const res = await apply(d.yaml);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(422);
    expect(body).toMatchObject({ kind: "Status", status: "Failure", reason: "Invalid", code: 422 });
    const fields: string[] = body.details.causes.map((c: { field: string }) => c.field);
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.some((f) => /^(spec|metadata)\b/.test(f)), fields.join(", ")).toBe(true);
    const istioField = REFUSED_BY_ISTIO[`${d.file}#${d.index}`];
    if (istioField !== undefined) expect(fields).toContain(istioField);
    const list = await json(await call("GET", `/apis/${kind.group}/${kind.versions[0]}/${kind.plural}`));
    expect(list.items).toEqual([]);
  });
});

describe("kinds Weft does not store are refused by name", () => {
  it.each(unsupported.map((d) => [label(d), d] as const))("%s", async (_name, d) => {
    const res = await apply(d.yaml);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(422);
    const cause = body.details.causes[0];
    const doc = d.value as Doc;
    if (typeof doc?.kind === "string") {
      expect(["kind", "apiVersion"]).toContain(cause.field);
      expect(cause.message).toContain(doc.kind);
      if (doc.kind in UNSUPPORTED_KINDS) expect(cause.message).toContain("not supported by Weft");
    } else {
      expect(cause.field).toBe("<document>");
    }
  });
});
