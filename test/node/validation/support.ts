/**
 * @module test/node/validation/support
 * Helpers the validation tests share: the field-error assertion, the "never throws" property over
 * random specs shaped by a kind's own field names, and the two ways a kind's Istio corpus is checked.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FieldError } from "../../../control/errors.js";
import type { SpecValidator } from "../../../control/validation/types.js";
import { corpusObjects } from "../../corpus.js";

/** `errors` holds an error on exactly `field` whose message contains `message`. */
export function expectError(errors: FieldError[], field: string, message: string): void {
  expect(errors, JSON.stringify(errors, null, 1)).toContainEqual({ field, message: expect.stringContaining(message) });
}

// ---------------------------------------------------------------------------------------------
// Fuzzing

export interface Shape {
  /** `"obj"`: always an object keyed by the vocabulary; `"value"`: any shaped value (JSON, a vocabulary word, object or array). */
  root: "obj" | "value";
  /** The most keys a generated object has. */
  maxKeys: number;
}

/** Random values built from a kind's own field names (`keys`), so the fuzzing reaches nested rules. */
export function shapedSpec(keys: string[], { root, maxKeys }: Shape): fc.Arbitrary<unknown> {
  const shapes = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...keys), tie("obj"), tie("arr")),
    obj: fc.dictionary(fc.constantFrom(...keys), tie("value"), { maxKeys }),
    arr: fc.array(tie("value"), { maxLength: 3 }),
  }));
  return shapes[root];
}

export interface NeverThrowsChecks {
  numRuns: number;
  /** Also require the result to be an array. */
  checkArray?: boolean;
  /** A message (the validator's own catch-all) that no error may match. */
  notMessage?: RegExp;
}

/** For any JSON value or `shaped` spec, `validate` returns (never throws) and every error's field is under `spec`. */
export function expectNeverThrows(validate: (spec: unknown) => FieldError[], shaped: fc.Arbitrary<unknown>, checks: NeverThrowsChecks): void {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), shaped), (spec) => {
      const errors = validate(spec);
      if (checks.checkArray) expect(Array.isArray(errors)).toBe(true);
      for (const e of errors) {
        expect(e.field.startsWith("spec")).toBe(true);
        if (checks.notMessage) expect(e.message).not.toMatch(checks.notMessage);
      }
    }),
    { numRuns: checks.numRuns },
  );
}

// ---------------------------------------------------------------------------------------------
// Istio's corpus

/** `_err` is a message fragment; Kubernetes OpenAPI wording is `<path> in body <rule>` or `<path>: <rule>`. */
function expectMatchesErr(errors: FieldError[], err: string): void {
  const inBody = /^(\S+) in body (.+)$/.exec(err);
  const colon = /^(spec\.\S+): (.+)$/.exec(err);
  if (inBody) {
    const [, path, rule] = inBody as unknown as [string, string, string];
    expect(errors.some((e) => e.field.endsWith(path) && e.message.includes(rule)), JSON.stringify(errors)).toBe(true);
  } else if (colon) {
    const [, path, rule] = colon as unknown as [string, string, string];
    expect(errors.some((e) => e.field === path && e.message.includes(rule)), JSON.stringify(errors)).toBe(true);
  } else {
    expect(errors.some((e) => e.message.includes(err)), JSON.stringify(errors)).toBe(true);
  }
}

/**
 * `<kind>: Istio corpus`: the corpus holds `documents` documents of the kind, `invalid` of them with an `_err`;
 * every valid one is accepted, and every invalid one refused with an error matching its `_err`.
 */
export function describeCorpusMatchingErr(kind: string, validate: SpecValidator, counts: { documents: number; invalid: number }): void {
  describe(`${kind}: Istio corpus`, () => {
    const docs = corpusObjects(kind);

    it("finds the corpus documents", () => {
      expect(docs.length).toBe(counts.documents);
      expect(docs.filter((d) => d.err).length).toBe(counts.invalid);
    });

    it.each(docs.filter((d) => !d.err).map((d) => [d.label, d] as const))("valid: %s", (_label, doc) => {
      expect(validate(doc.spec, { namespace: doc.namespace, name: "x" })).toEqual([]);
    });

    it.each(docs.filter((d) => d.err).map((d) => [d.label, d] as const))("invalid: %s", (_label, doc) => {
      const errors = validate(doc.spec, { namespace: doc.namespace, name: "x" });
      expect(errors.some((e) => e.field.startsWith("spec"))).toBe(true);
      expectMatchesErr(errors, doc.err!);
    });
  });
}

/** The field and (a substring of) the message an `_err` document must yield. */
export type ExpectedErrors = Record<string, { field: string; message: string }>;

/**
 * `<kind>: Istio corpus`: the corpus holds `documents` documents of the kind; every one without `_err` is
 * accepted, and every one with `_err` is refused with the error `expected[_err]` names.
 */
export function describeCorpusExpecting(
  kind: string,
  documents: number,
  validate: (spec: unknown, namespace: string) => FieldError[],
  expected: ExpectedErrors,
): void {
  describe(`${kind}: Istio corpus`, () => {
    const docs = corpusObjects(kind);

    it("finds the corpus documents", () => {
      expect(docs.length).toBe(documents);
    });

    for (const doc of docs.filter((d) => d.err === undefined)) {
      it(`accepts ${doc.file} ${doc.name}`, () => {
        expect(validate(doc.spec, doc.namespace)).toEqual([]);
      });
    }

    for (const doc of docs.filter((d) => d.err !== undefined)) {
      it(`refuses ${doc.file} ${doc.name}: ${doc.err}`, () => {
        const want = expected[doc.err!];
        expect(want, `no expectation for _err ${doc.err}`).toBeDefined();
        expectError(validate(doc.spec, doc.namespace), want!.field, want!.message);
      });
    }
  });
}
