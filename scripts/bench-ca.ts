/**
 * @module bench-ca
 * Benchmarks the CA's signing layer (`npm run bench:ca`). In one run, each for a fixed time at the same
 * concurrency: (a) leaf certificates issued per second in Node — a CSR PEM parsed, its signature
 * verified, the leaf built and signed — from a pool of pre-made EC P-256 CSRs; (b) raw WebCrypto ECDSA
 * P-256 signatures per second over a TBS-sized buffer; (c) for reference, the bare WebCrypto work of
 * one issuance (import the CSR key, verify, sign) with no parsing or building — the ceiling for (a).
 * The phases alternate in ~1 s slices, each running --seconds in total. Then (d), unless --no-workerd,
 * the time per issuance inside workerd via Miniflare. The last line is
 * `bench:ca issued_per_s=N raw_sign_per_s=M ratio=R`.
 *
 * Flags: --seconds N (3) --concurrency C (8) --pool P (256) --workerd-count K (2000) --no-workerd
 */
import { measure } from "./bench-support.js";
import { parseArgs } from "node:util";
import { createSelfSignedRoot } from "../control/ca/signing/create-ca-certificate.js";
import { derExplicit, derImplicit, derInteger, derOctetString, derOid, derSequence, derSetOf, derBitString, readDer } from "../control/ca/signing/der.js";
import { ecdsaSignatureToDer } from "../control/ca/signing/ecdsa-signature.js";
import { ALG_ECDSA_SHA256, OID } from "../control/ca/signing/oids.js";
import { parseCsr } from "../control/ca/signing/parse-csr.js";
import { derToPem } from "../control/ca/signing/pem.js";
import { newSerial } from "../control/ca/signing/serial.js";
import { loadIssuingCa, signWorkloadCertificate, type IssuingCa } from "../control/ca/signing/sign-workload-certificate.js";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
    pool: { type: "string", default: "256" },
    "workerd-count": { type: "string", default: "2000" },
    "no-workerd": { type: "boolean", default: false },
  },
});
const SECONDS = Number(flags.seconds);
const CONCURRENCY = Number(flags.concurrency);
const POOL = Number(flags.pool);
const WORKERD_COUNT = Number(flags["workerd-count"]);
for (const [name, value] of Object.entries({ seconds: SECONDS, concurrency: CONCURRENCY, pool: POOL, "workerd-count": WORKERD_COUNT })) {
  if (!(value > 0)) throw new TypeError(`--${name} must be a positive number`);
}

const P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

interface PoolCsr {
  pem: string;
  /** For the WebCrypto floor: the key's raw point, the signed bytes and the raw signature. */
  point: Uint8Array<ArrayBuffer>;
  info: Uint8Array<ArrayBuffer>;
  rawSignature: Uint8Array<ArrayBuffer>;
}

/** An EC P-256 CSR as Istio's agent sends it: empty subject, one URI SAN, fresh key. */
async function makeCsr(uri: string): Promise<PoolCsr> {
  const keys = await crypto.subtle.generateKey(P256, true, ["sign", "verify"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const san = derSequence([derOid(OID.subjectAltName), derOctetString(derSequence([derImplicit(6, new TextEncoder().encode(uri))]))]);
  const extensionRequest = derSequence([derOid(OID.extensionRequest), derSetOf([derSequence([san])])]);
  const info = derSequence([derInteger(Uint8Array.of(0)), derSequence([]), spki, derExplicit(0, [extensionRequest])]);
  const rawSignature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, keys.privateKey, info));
  const pem = derToPem(derSequence([info, ALG_ECDSA_SHA256, derBitString(ecdsaSignatureToDer(rawSignature))]), "CERTIFICATE REQUEST");
  return { pem, point, info, rawSignature };
}

/**
 * Runs the phases in alternating slices of about a second until each has run `seconds` in total, so a
 * change in machine load during the run affects every phase alike. Prints one progress line per round.
 */
async function measureInterleaved(phases: Record<string, (i: number) => Promise<unknown>>, seconds: number, concurrency: number): Promise<Record<string, number>> {
  const rounds = Math.max(1, Math.round(seconds));
  const totals = Object.fromEntries(Object.keys(phases).map((name) => [name, { ops: 0, ms: 0 }]));
  for (let round = 1; round <= rounds; round++) {
    const line: string[] = [];
    for (const [name, op] of Object.entries(phases)) {
      const { ops, ms } = await measure(seconds / rounds, concurrency, op);
      totals[name]!.ops += ops;
      totals[name]!.ms += ms;
      line.push(`${name}=${Math.round((ops * 1000) / ms)}/s`);
    }
    console.log(`[round ${round}/${rounds}] ${line.join(" ")}`);
  }
  return Object.fromEntries(Object.entries(totals).map(([name, { ops, ms }]) => [name, (ops * 1000) / ms]));
}

function issueOne(issuer: IssuingCa, csrs: readonly string[], notBefore: Date, notAfter: Date) {
  return async (i: number): Promise<Uint8Array> => {
    const csr = await parseCsr(csrs[i % csrs.length]!);
    return signWorkloadCertificate({ spki: csr.spki, spiffeId: csr.sans.uris[0]!, notBefore, notAfter, serial: newSerial(), issuer });
  };
}

const WORKER_SOURCE = `
import { loadIssuingCa, parseCsr, signWorkloadCertificate, newSerial } from "./control/ca/signing/index.ts";
export default {
  async fetch(request) {
    const { certificatePem, privateKeyPem, csrs, floor, count, mode } = await request.json();
    const issuer = await loadIssuingCa(certificatePem, privateKeyPem);
    const notBefore = new Date(Date.UTC(2030, 0, 1));
    const notAfter = new Date(Date.UTC(2030, 0, 2));
    const tbs = new Uint8Array(400);
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      if (mode === "sign") {
        bytes += (await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, issuer.privateKey, tbs)).byteLength;
        continue;
      }
      if (mode === "floor") {
        const f = floor[i % floor.length];
        const key = await crypto.subtle.importKey("raw", new Uint8Array(f.point), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
        if (!(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, new Uint8Array(f.rawSignature), new Uint8Array(f.info)))) throw new Error("floor");
        bytes += (await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, issuer.privateKey, tbs)).byteLength;
        continue;
      }
      const csr = await parseCsr(csrs[i % csrs.length]);
      const leaf = await signWorkloadCertificate({ spki: csr.spki, spiffeId: csr.sans.uris[0], notBefore, notAfter, serial: newSerial(), issuer });
      bytes += leaf.length;
    }
    return Response.json({ count, bytes });
  },
};`;

/**
 * Time per issuance (and per raw sign) inside workerd. workerd's clocks stand still while a request
 * computes, so time is taken in Node around the request: one issuing K leaves sequentially, minus an
 * empty one. workerd runs WebCrypto synchronously on the request's thread, so this is CPU time.
 */
async function measureWorkerd(root: { certificatePem: string; privateKeyPem: string }, pool: readonly PoolCsr[]): Promise<string> {
  const csrs = pool.map((c) => c.pem);
  const floor = pool.map((c) => ({ point: [...c.point], rawSignature: [...c.rawSignature], info: [...c.info] }));
  const esbuild = await import("esbuild");
  const { Miniflare } = await import("miniflare");
  const bundle = await esbuild.build({
    stdin: { contents: WORKER_SOURCE, resolveDir: new URL("..", import.meta.url).pathname, loader: "ts", sourcefile: "bench-worker.ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const mf = new Miniflare({ modules: true, script: bundle.outputFiles[0]!.text, compatibilityDate: "2026-04-26" });
  try {
    type Mode = "issue" | "sign" | "floor";
    const run = async (count: number, mode: Mode): Promise<number> => {
      const body = JSON.stringify({ ...root, csrs, floor, count, mode });
      const t0 = performance.now();
      const res = await mf.dispatchFetch("http://bench/", { method: "POST", body });
      const json = (await res.json()) as { count: number };
      if (!res.ok || json.count !== count) throw new Error(`worker answered ${res.status}`);
      return performance.now() - t0;
    };
    const perOp = async (mode: Mode): Promise<number> => {
      await run(Math.min(200, WORKERD_COUNT), mode); // warm up the isolate and its JIT
      const empty = Math.min(await run(0, mode), await run(0, mode), await run(0, mode));
      let best = Infinity;
      for (let r = 0; r < 3; r++) best = Math.min(best, await run(WORKERD_COUNT, mode));
      return (best - empty) / WORKERD_COUNT;
    };
    const issue = await perOp("issue");
    const sign = await perOp("sign");
    const bare = await perOp("floor");
    return (
      `workerd: ms_per_issuance=${issue.toFixed(3)} ms_per_raw_sign=${sign.toFixed(3)} ms_per_webcrypto_floor=${bare.toFixed(3)} ` +
      `ratio=${(sign / issue).toFixed(2)} floor/raw-sign=${(sign / bare).toFixed(2)} (${WORKERD_COUNT} sequential ops per request, best of 3, minus an empty request)`
    );
  } finally {
    await mf.dispose();
  }
}

async function main(): Promise<void> {
  console.log(`bench:ca: ${SECONDS}s per phase, concurrency ${CONCURRENCY}, pool of ${POOL} EC P-256 CSRs, node ${process.version}`);
  const root = await createSelfSignedRoot({ trustDomain: "cluster.local", notBefore: new Date(Date.UTC(2025, 0, 1)) });
  const issuer = await loadIssuingCa(root.certificatePem, root.privateKeyPem);
  const pool: PoolCsr[] = [];
  for (let i = 0; i < POOL; i++) pool.push(await makeCsr(`spiffe://cluster.local/ns/bench-${i % 16}/sa/workload-${i}`));
  const csrs = pool.map((c) => c.pem);
  const notBefore = new Date(Date.UTC(2030, 0, 1));
  const notAfter = new Date(Date.UTC(2030, 0, 2));
  const issue = issueOne(issuer, csrs, notBefore, notAfter);
  const sample = await issue(0);
  const tbsNode = readDer(sample, readDer(sample, 0).contentStart);
  const tbsLength = tbsNode.end - tbsNode.start;
  const tbs = crypto.getRandomValues(new Uint8Array(tbsLength));
  const raw = (): Promise<ArrayBuffer> => crypto.subtle.sign(ECDSA_SHA256, issuer.privateKey, tbs);
  // The most any issuer built on WebCrypto can do per CSR: import the CSR key, verify, sign. No parsing.
  const floor = async (i: number): Promise<ArrayBuffer> => {
    const csr = pool[i % pool.length]!;
    const key = await crypto.subtle.importKey("raw", csr.point, P256, false, ["verify"]);
    if (!(await crypto.subtle.verify(ECDSA_SHA256, key, csr.rawSignature, csr.info))) throw new Error("pool CSR does not verify");
    return crypto.subtle.sign(ECDSA_SHA256, issuer.privateKey, tbs);
  };
  console.log(`leaf is ${sample.length} bytes; raw signing over ${tbsLength} bytes; warming up`);
  await measure(0.5, CONCURRENCY, issue);
  await measure(0.5, CONCURRENCY, raw);
  await measure(0.5, CONCURRENCY, floor);

  const rates = await measureInterleaved({ issue, "raw-sign": raw, "webcrypto-floor": floor }, SECONDS, CONCURRENCY);
  const issued = rates.issue!;
  const signed = rates["raw-sign"]!;
  const floorRate = rates["webcrypto-floor"]!;
  console.log(`issue: ${issued.toFixed(0)} leaves/s (parse PEM + verify CSR, build + sign leaf)`);
  console.log(`raw-sign: ${signed.toFixed(0)} ECDSA P-256 signatures/s`);
  console.log(`webcrypto-floor: ${floorRate.toFixed(0)}/s (importKey + verify + sign only: the ceiling for issue; floor/raw-sign=${(floorRate / signed).toFixed(2)}, issue/floor=${(issued / floorRate).toFixed(2)})`);

  if (!flags["no-workerd"]) {
    try {
      console.log(await measureWorkerd(root, pool.slice(0, 64)));
    } catch (error) {
      console.log(`workerd: not measured: ${(error as Error).message}`);
    }
  }
  console.log(`bench:ca issued_per_s=${Math.round(issued)} raw_sign_per_s=${Math.round(signed)} ratio=${(issued / signed).toFixed(2)}`);
}

await main();
