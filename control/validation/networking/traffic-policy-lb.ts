/**
 * @module traffic-policy-lb
 * LoadBalancerSettings of a DestinationRule traffic policy: `simple` or `consistentHash` (not both),
 * exactly one consistent-hash key, ring-hash or Maglev (not both, nor with the deprecated
 * `minimumRingSize`), a prime Maglev table size, warmup (duration required, minimumPercent 0–100,
 * aggression >= 0), and locality load balancing (distribute or failover, weights summing to 100,
 * well-formed localities).
 */
import { z } from "zod";
import type { FieldError } from "../../errors.js";
import { arr, fieldError, isSet, msDuration, num, numMin, numRange, obj, str, uint32, uint64, type Path } from "./we-common.js";

const httpCookieSchema = z.strictObject({
  name: z.string(),
  path: z.string().optional(),
  // A zero TTL makes a session cookie; Istio does not check this duration.
  ttl: msDuration(0, true).optional(),
  attributes: z.array(z.strictObject({ name: z.string(), value: z.string().optional() })).optional(),
});

const consistentHashSchema = z.strictObject({
  httpHeaderName: z.string().optional(),
  httpCookie: httpCookieSchema.optional(),
  useSourceIp: z.boolean().optional(),
  httpQueryParameterName: z.string().optional(),
  ringHash: z.strictObject({ minimumRingSize: uint64("minimumRingSize").optional() }).optional(),
  maglev: z.strictObject({ tableSize: uint64("tableSize").optional() }).optional(),
  /** Deprecated: use ringHash.minimumRingSize. */
  minimumRingSize: uint64("minimumRingSize").optional(),
});

const localityLbSchema = z.strictObject({
  distribute: z.array(z.strictObject({ from: z.string().optional(), to: z.record(z.string(), uint32("locality weight")).optional() })).optional(),
  failover: z.array(z.strictObject({ from: z.string().optional(), to: z.string().optional() })).optional(),
  failoverPriority: z.array(z.string()).optional(),
  enabled: z.boolean().nullable().optional(),
});

const warmupSchema = z.strictObject({
  duration: msDuration(),
  minimumPercent: numRange(0, 100, "minimumPercent").nullable().optional(),
  aggression: numMin(0, "aggression").nullable().optional(),
});

export const loadBalancerSchema = z.strictObject({
  simple: z.enum(["UNSPECIFIED", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN"]).optional(),
  consistentHash: consistentHashSchema.optional(),
  localityLbSetting: localityLbSchema.optional(),
  /** Deprecated: use warmup.duration. */
  warmupDurationSecs: msDuration().optional(),
  warmup: warmupSchema.optional(),
});

const HASH_KEYS = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"] as const;
const MAGLEV_TABLE_LIMIT = 5000011;

/** Cross-field rules of a LoadBalancerSettings at `path`. */
export function checkLoadBalancer(raw: unknown, path: Path): FieldError[] {
  const lb = obj(raw);
  if (!lb) return [];
  const out: FieldError[] = [];
  if (isSet(lb, "simple") && isSet(lb, "consistentHash")) {
    out.push(fieldError(path, "only one of simple or consistentHash may be set"));
  }
  out.push(...checkConsistentHash(lb.consistentHash, [...path, "consistentHash"]));
  out.push(...checkLocalityLb(lb.localityLbSetting, [...path, "localityLbSetting"]));
  return out;
}

function checkConsistentHash(raw: unknown, path: Path): FieldError[] {
  const ch = obj(raw);
  if (!ch) return [];
  const out: FieldError[] = [];
  const keys = HASH_KEYS.filter((k) => isSet(ch, k));
  if (keys.length === 0) {
    out.push(fieldError(path, `consistentHash must set exactly one hash key: ${HASH_KEYS.join(", ")}`));
  } else if (keys.length > 1) {
    out.push(fieldError(path, `consistentHash must set exactly one hash key, got ${keys.join(", ")}`));
  }
  const cookie = obj(ch.httpCookie);
  if (cookie && typeof cookie.name === "string" && cookie.name === "") {
    out.push(fieldError([...path, "httpCookie", "name"], "name required for httpCookie"));
  }
  arr(cookie?.attributes)?.forEach((attr, i) => {
    const a = obj(attr);
    if (a && typeof a.name === "string" && a.name === "") out.push(fieldError([...path, "httpCookie", "attributes", i, "name"], "cookie attribute name must not be empty"));
  });
  if (isSet(ch, "ringHash") && isSet(ch, "maglev")) {
    out.push(fieldError(path, "only one of ringHash or maglev may be set"));
  }
  if (num(ch.minimumRingSize) && (isSet(ch, "ringHash") || isSet(ch, "maglev"))) {
    out.push(fieldError([...path, "minimumRingSize"], "only one of minimumRingSize or maglev/ringHash can be specified"));
  }
  const maglev = obj(ch.maglev);
  if (maglev) {
    const size = num(maglev.tableSize);
    const at = [...path, "maglev", "tableSize"];
    if (!size) out.push(fieldError(at, "tableSize must be set for maglev"));
    else if (Number.isInteger(size) && size >= MAGLEV_TABLE_LIMIT) out.push(fieldError(at, `Invalid value: ${size}: tableSize must be less than ${MAGLEV_TABLE_LIMIT} for maglev`));
    else if (Number.isInteger(size) && !isPrime(size)) out.push(fieldError(at, `Invalid value: ${size}: tableSize must be a prime number for maglev`));
  }
  return out;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Labels that select by topology, which cannot be combined with `failover`. */
const TOPOLOGY_LABELS = new Set([
  "topology.istio.io/network",
  "topology.istio.io/cluster",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.istio.io/subzone",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
]);

function checkLocalityLb(raw: unknown, path: Path): FieldError[] {
  const lb = obj(raw);
  if (!lb) return [];
  const out: FieldError[] = [];
  const distribute = arr(lb.distribute) ?? [];
  const failover = arr(lb.failover) ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    out.push(fieldError(path, "can not simultaneously specify 'distribute' and 'failover'"));
  }
  if (failover.length > 0) {
    arr(lb.failoverPriority)?.forEach((label, i) => {
      if (typeof label === "string" && TOPOLOGY_LABELS.has(label.split("=")[0] ?? "")) {
        out.push(fieldError([...path, "failoverPriority", i], `can not simultaneously set 'failover' and topology label "${label}" in 'failoverPriority'`));
      }
    });
  }

  const sources: Array<[string, Path]> = [];
  distribute.forEach((entry, i) => {
    const d = obj(entry);
    if (!d) return;
    const from = str(d.from);
    if (from !== undefined) sources.push([from, [...path, "distribute", i, "from"]]);
    const to = obj(d.to);
    const destinations: Array<[string, Path]> = [];
    let total = 0;
    for (const [loc, weight] of Object.entries(to ?? {})) {
      const at = [...path, "distribute", i, "to", loc];
      destinations.push([loc, at]);
      const w = num(weight);
      if (w === undefined) continue;
      if (w < 1 || w > 100) out.push(fieldError(at, `Invalid value: ${w}: locality weight must be in range 1..100`));
      total += w;
    }
    if (total !== 100) out.push(fieldError([...path, "distribute", i, "to"], `total locality weight ${total} != 100`));
    out.push(...checkLocalities(destinations));
  });
  out.push(...checkLocalities(sources));

  failover.forEach((entry, i) => {
    const f = obj(entry);
    if (!f) return;
    const from = str(f.from) ?? "";
    const to = str(f.to) ?? "";
    const at = [...path, "failover", i];
    if (from === to) out.push(fieldError(at, `locality lb failover settings must specify different regions, got "${from}" twice`));
    if (from.includes("/") || to.includes("/")) out.push(fieldError(at, "locality lb failover must specify regions only, without '/'"));
    if (from.includes("*") || to.includes("*")) out.push(fieldError(at, "locality lb failover region should not contain '*' wildcard"));
  });
  return out;
}

/** Localities are `region/zone/subzone` prefixes, at most one trailing `*`, and must not overlap. */
function checkLocalities(localities: Array<[string, Path]>): FieldError[] {
  const out: FieldError[] = [];
  const accepted: string[][] = [];
  for (const [locality, at] of localities) {
    const stars = locality.split("*").length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith("*"))) {
      out.push(fieldError(at, `locality "${locality}": wildcard '*' may appear only once, at the end`));
      continue;
    }
    const parts = locality.split("/");
    if (parts.length > 3 || parts.some((p) => p === "")) {
      out.push(fieldError(at, `locality "${locality}" must be region/zone/subzone with no empty parts`));
      continue;
    }
    if (accepted.some((prev) => overlaps(prev, parts))) {
      out.push(fieldError(at, `locality "${locality}" overlaps with previously specified ones`));
      continue;
    }
    accepted.push(parts);
  }
  return out;
}

/** Two localities overlap when one covers the other: `us-west` (or `us-west/*`) covers `us-west/zone1`. */
function overlaps(a: string[], b: string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === "*" || b[i] === "*") return true;
    if (a[i] !== b[i]) return false;
  }
  return true;
}
