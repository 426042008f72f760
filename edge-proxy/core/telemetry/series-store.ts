/**
 * @module telemetry/series-store
 * Where the Istio metrics registry keeps its series: each label set's rendered labels and its block of
 * numbers in one counters array (istio-buckets.ts), found from a request's record.
 *
 * Recording is on every request's path and, with thousands of destinations, mostly waits on memory, so:
 * - a series is found per pair of source and destination WorkloadInfo objects, remembered by identity (the
 *   engine keeps one object per workload): the pair's slot holds its last four series, checked by
 *   comparing the record's raw values; only a label set not among them walks the trie of raw values below
 *   the pair (a record's strings are mostly the same string objects, whose hashes V8 caches, so this beats
 *   hashing one long joined key), and a new one renders its labels once;
 * - a record's values are copied into a batch, applied BATCH records at a time (and whenever the registry
 *   is read) in three passes — the pairs' slots, then the series, then the numbers — so the memory reads
 *   of different records overlap instead of each waiting for the one before. Every record is applied, in
 *   order; batching only changes when.
 * Nothing is allocated per record once its series exists.
 */
import {
  BLOCK,
  bucketIndex,
  COUNT,
  DURATION_BUCKETS,
  DURATION_SUM,
  REQUEST_BYTES_BUCKETS,
  REQUEST_BYTES_SUM,
  RESPONSE_BYTES_BUCKETS,
  RESPONSE_BYTES_SUM,
} from "./istio-buckets.js";
import { renderLabels, type LabelSource } from "./istio-labels.js";
import { responseFlagsText } from "./response-flags.js";
import type { RequestRecord, WorkloadInfo } from "./types.js";

/** One label set: the raw values it was made for, its rendered labels and where its numbers are. */
export interface Series extends SeriesKey {
  readonly labels: string;
  /** Index of its block in the counters array. */
  readonly offset: number;
}

export interface SeriesStore {
  record(r: RequestRecord): void;
  /** Applies the records not applied yet: read `series` and `counters` after it. */
  flush(): void;
  /** In order of creation. */
  readonly series: readonly Series[];
  /** Every series' numbers, BLOCK slots each, at its offset. */
  readonly counters: Float64Array;
}

/** Records applied at once. */
const BATCH = 64;
/** Series the counters array has room for at first; it doubles when full. */
const INITIAL_CAPACITY = 64;

/** A store of series whose labels name `cluster` for workloads without their own. */
export function createSeriesStore(cluster: string): SeriesStore {
  const root = new TrieNode();
  const series: Series[] = [];
  let counters = new Float64Array(INITIAL_CAPACITY * BLOCK);

  /** Pair slots by source, then destination, by the identity of the two objects. */
  const peers = new WeakMap<WorkloadInfo, WeakMap<WorkloadInfo, PeerSlot>>();
  // Most records of one proxy share their source object (the proxy itself): its map is kept at hand.
  let lastSource: WorkloadInfo | undefined;
  let lastBySource: WeakMap<WorkloadInfo, PeerSlot> | undefined;

  const batch = Array.from({ length: BATCH }, () => new PendingRecord());
  /** Duration, request bytes and response bytes of each batched record. */
  const amounts = new Float64Array(BATCH * 3);
  const offsets = new Int32Array(BATCH);
  let pending = 0;

  function peerSlot(s: WorkloadInfo, d: WorkloadInfo): PeerSlot {
    let bySource = lastBySource;
    if (s !== lastSource || bySource === undefined) {
      bySource = peers.get(s);
      if (bySource === undefined) {
        bySource = new WeakMap();
        peers.set(s, bySource);
      }
      lastSource = s;
      lastBySource = bySource;
    }
    return bySource.get(d) ?? newPeerSlot(bySource, s, d);
  }

  /** The trie node after the source and destination levels, walked once per pair of objects. */
  function newPeerSlot(bySource: WeakMap<WorkloadInfo, PeerSlot>, s: WorkloadInfo, d: WorkloadInfo): PeerSlot {
    let n = root;
    for (const info of [s, d]) {
      n = child(n, info.workload);
      n = child(n, info.namespace);
      n = child(n, info.principal);
      n = child(n, info.app);
      n = child(n, info.version);
      n = child(n, info.canonicalService);
      n = child(n, info.canonicalRevision);
      n = child(n, info.cluster);
    }
    const slot = new PeerSlot(n);
    bySource.set(d, slot);
    return slot;
  }

  /** The series of a batched record: one of its pair's last four, else found in (or added to) the trie. */
  function seriesOf(slot: PeerSlot, r: PendingRecord): Series {
    if (slot.first !== undefined && sameKey(slot.first, r)) return slot.first;
    if (slot.second !== undefined && sameKey(slot.second, r)) return slot.second;
    if (slot.third !== undefined && sameKey(slot.third, r)) return slot.third;
    if (slot.fourth !== undefined && sameKey(slot.fourth, r)) return slot.fourth;
    let n = child(slot.node, r.reporter);
    n = child(n, r.responseCode);
    n = child(n, r.flags);
    n = child(n, r.connectionSecurityPolicy);
    n = child(n, r.grpcStatus);
    n = child(n, r.destinationService);
    if (r.destinationService === undefined) n = child(n, r.authority); // the Host fallback
    n = child(n, r.destinationServiceName);
    let entry = n.get(r.destinationServiceNamespace) as Series | undefined;
    if (entry === undefined) {
      if ((series.length + 1) * BLOCK > counters.length) {
        const grown = new Float64Array(counters.length * 2);
        grown.set(counters);
        counters = grown;
      }
      entry = {
        reporter: r.reporter,
        responseCode: r.responseCode,
        flags: r.flags,
        connectionSecurityPolicy: r.connectionSecurityPolicy,
        grpcStatus: r.grpcStatus,
        destinationService: r.destinationService,
        authority: r.destinationService === undefined ? r.authority : undefined,
        destinationServiceName: r.destinationServiceName,
        destinationServiceNamespace: r.destinationServiceNamespace,
        labels: renderLabels(r, cluster),
        offset: series.length * BLOCK,
      };
      n.set(r.destinationServiceNamespace, entry);
      series.push(entry);
    }
    slot.remember(entry);
    return entry;
  }

  function record(r: RequestRecord): void {
    const k = pending;
    const entry = batch[k]!;
    entry.reporter = r.reporter;
    entry.source = r.source;
    entry.destination = r.destination;
    entry.responseCode = r.responseCode;
    entry.flags = r.responseFlags.length === 0 ? "" : responseFlagsText(r.responseFlags);
    entry.connectionSecurityPolicy = r.connectionSecurityPolicy;
    entry.grpcStatus = r.grpcStatus;
    entry.destinationService = r.destinationService;
    entry.authority = r.authority;
    entry.destinationServiceName = r.destinationServiceName;
    entry.destinationServiceNamespace = r.destinationServiceNamespace;
    amounts[3 * k] = r.durationMs;
    amounts[3 * k + 1] = r.requestBytes;
    amounts[3 * k + 2] = r.responseBytes;
    pending = k + 1;
    if (pending === BATCH) flush();
  }

  function flush(): void {
    const n = pending;
    pending = 0;
    for (let k = 0; k < n; k++) {
      const entry = batch[k]!;
      entry.slot = peerSlot(entry.source, entry.destination);
    }
    for (let k = 0; k < n; k++) {
      const entry = batch[k]!;
      offsets[k] = seriesOf(entry.slot as PeerSlot, entry).offset;
    }
    const c = counters;
    for (let k = 0; k < n; k++) {
      const o = offsets[k]!;
      const duration = amounts[3 * k]!;
      const requestBytes = amounts[3 * k + 1]!;
      const responseBytes = amounts[3 * k + 2]!;
      c[o + COUNT]!++;
      c[o + DURATION_SUM]! += duration;
      c[o + REQUEST_BYTES_SUM]! += requestBytes;
      c[o + RESPONSE_BYTES_SUM]! += responseBytes;
      c[o + DURATION_BUCKETS + bucketIndex(duration)]!++;
      c[o + REQUEST_BYTES_BUCKETS + bucketIndex(requestBytes)]!++;
      c[o + RESPONSE_BYTES_BUCKETS + bucketIndex(responseBytes)]!++;
    }
  }

  return {
    record,
    flush,
    series,
    get counters() {
      return counters;
    },
  };
}

type Key = string | number | undefined;

const NO_WORKLOAD: WorkloadInfo = Object.freeze({});

/** A record waiting in the batch: its raw label values (flags as Envoy's text, "" for none) and, once found, its pair's slot. */
class PendingRecord implements LabelSource {
  reporter: RequestRecord["reporter"] = "source";
  source: WorkloadInfo = NO_WORKLOAD;
  destination: WorkloadInfo = NO_WORKLOAD;
  responseCode = 0;
  flags = "";
  connectionSecurityPolicy: RequestRecord["connectionSecurityPolicy"] = "unknown";
  grpcStatus: number | undefined = undefined;
  destinationService: string | undefined = undefined;
  authority: string | undefined = undefined;
  destinationServiceName: string | undefined = undefined;
  destinationServiceNamespace: string | undefined = undefined;
  slot: PeerSlot | undefined = undefined;
}

/**
 * A pair of source and destination workloads: the trie node below their levels and the last four series
 * recorded for it (most pairs see a 200 and maybe an error code or two), held in fields rather than an
 * array so a record reads one object; the newest is `first`.
 */
class PeerSlot {
  first: Series | undefined = undefined;
  second: Series | undefined = undefined;
  third: Series | undefined = undefined;
  fourth: Series | undefined = undefined;

  constructor(readonly node: TrieNode) {}

  remember(entry: Series): void {
    this.fourth = this.third;
    this.third = this.second;
    this.second = this.first;
    this.first = entry;
  }
}

/** The raw values below the source/destination levels a series was made for (the per-pair recent-series check). */
interface SeriesKey {
  readonly reporter: string;
  readonly responseCode: number;
  readonly flags: string;
  readonly connectionSecurityPolicy: string;
  readonly grpcStatus: number | undefined;
  readonly destinationService: string | undefined;
  readonly authority: string | undefined;
  readonly destinationServiceName: string | undefined;
  readonly destinationServiceNamespace: string | undefined;
}

function sameKey(key: SeriesKey, r: PendingRecord): boolean {
  return (
    key.responseCode === r.responseCode &&
    key.destinationService === r.destinationService &&
    key.flags === r.flags &&
    key.reporter === r.reporter &&
    key.connectionSecurityPolicy === r.connectionSecurityPolicy &&
    key.grpcStatus === r.grpcStatus &&
    key.destinationServiceName === r.destinationServiceName &&
    key.destinationServiceNamespace === r.destinationServiceNamespace &&
    (r.destinationService !== undefined || key.authority === r.authority)
  );
}

/**
 * One level of the series trie: a raw value (undefined included) to the next level, or to the series at the
 * last. Most nodes below the destination have one child (one destination service, one name, ...), so the
 * first child is held inline and a Map is made only for a second: with thousands of destinations this keeps
 * the trie small and a lookup to one comparison.
 */
class TrieNode {
  private firstKey: Key = undefined;
  private firstValue: unknown = undefined;
  private more: Map<Key, unknown> | undefined = undefined;

  get(key: Key): unknown {
    if (this.firstValue !== undefined && this.firstKey === key) return this.firstValue;
    return this.more?.get(key);
  }

  set(key: Key, value: unknown): void {
    if (this.firstValue === undefined) {
      this.firstKey = key;
      this.firstValue = value;
    } else (this.more ??= new Map()).set(key, value);
  }
}

function child(node: TrieNode, value: Key): TrieNode {
  let next = node.get(value) as TrieNode | undefined;
  if (next === undefined) {
    next = new TrieNode();
    node.set(value, next);
  }
  return next;
}
