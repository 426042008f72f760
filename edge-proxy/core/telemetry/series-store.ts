/**
 * @module telemetry/series-store
 * Where the Istio metrics registry keeps its series: each label set's rendered labels and its block of
 * numbers in the shared counters (series-counters.ts), found from a request's record.
 *
 * Recording is on every request's path and, with thousands of destinations, mostly waits on memory, so a
 * record touches few cache lines and allocates nothing once its series exists: the series is found per
 * pair of source and destination WorkloadInfo objects, remembered by identity (the engine keeps one object
 * per workload), whose slot holds the pair's last four series, checked by comparing the record's raw
 * values; only a label set not among them walks the trie of raw values below the pair (a record's strings
 * are mostly the same string objects, whose hashes V8 caches, so this beats hashing one long joined key),
 * and a new one renders its labels once. The series' numbers are one block of the shared counters, not
 * fields of an object (a double field would be a separate heap number).
 */
import { SeriesCounters } from "./series-counters.js";
import { renderLabels, type SeriesKey } from "./istio-labels.js";
import { responseFlagsText } from "./response-flags.js";
import type { RequestRecord, WorkloadInfo } from "./types.js";

/** One label set: the raw values it was made for, its rendered labels and where its numbers are. */
export interface Series extends SeriesKey {
  /** Rendered once, right after the series is made from its raw values. */
  labels: string;
  /** Its block in the counters. */
  readonly block: number;
}

export interface SeriesStore {
  record(r: RequestRecord): void;
  /** In order of creation. */
  readonly series: readonly Series[];
  /** Every series' numbers, by its block. */
  readonly counters: SeriesCounters;
}

/** A store of series whose labels name `cluster` for workloads without their own. */
export function createSeriesStore(cluster: string): SeriesStore {
  const root = new TrieNode();
  const series: Series[] = [];
  const counters = new SeriesCounters();

  /** Pair slots by source, then destination, by the identity of the two objects. */
  const peers = new WeakMap<WorkloadInfo, WeakMap<WorkloadInfo, PeerSlot>>();
  // Most records of one proxy share their source object (the proxy itself): its map is kept at hand.
  let lastSource: WorkloadInfo | undefined;
  let lastBySource: WeakMap<WorkloadInfo, PeerSlot> | undefined;

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

  /** The series of a record (`flags`: its response flags as Envoy's text, "" for none): one of its pair's last four, else from the trie. */
  function seriesOf(slot: PeerSlot, r: RequestRecord, flags: string): Series {
    // The response codes, kept in the slot, rule most of them out without reading the series objects.
    const code = r.responseCode;
    if (slot.firstCode === code && slot.first !== undefined && sameKey(slot.first, r, flags)) return slot.first;
    if (slot.secondCode === code && slot.second !== undefined && sameKey(slot.second, r, flags)) return slot.second;
    if (slot.thirdCode === code && slot.third !== undefined && sameKey(slot.third, r, flags)) return slot.third;
    if (slot.fourthCode === code && slot.fourth !== undefined && sameKey(slot.fourth, r, flags)) return slot.fourth;
    const entry = seriesInTrie(slot.node, r, flags);
    slot.remember(entry);
    return entry;
  }

  /** The series below a pair's trie node for the record's other raw values, made on first sight. */
  function seriesInTrie(node: TrieNode, r: RequestRecord, flags: string): Series {
    let n = child(node, r.reporter);
    n = child(n, r.responseCode);
    n = child(n, flags);
    n = child(n, r.connectionSecurityPolicy);
    n = child(n, r.grpcStatus);
    n = child(n, r.destinationService);
    if (r.destinationService === undefined) n = child(n, r.authority); // the Host fallback
    n = child(n, r.destinationServiceName);
    const found = n.get(r.destinationServiceNamespace) as Series | undefined;
    if (found !== undefined) return found;
    // Literals of one shape (no spreads), so the recent-series check reads them monomorphically.
    const authority = r.destinationService === undefined ? r.authority : undefined;
    const entry: Series = {
      reporter: r.reporter,
      responseCode: r.responseCode,
      flags,
      connectionSecurityPolicy: r.connectionSecurityPolicy,
      grpcStatus: r.grpcStatus,
      destinationService: r.destinationService,
      authority,
      destinationServiceName: r.destinationServiceName,
      destinationServiceNamespace: r.destinationServiceNamespace,
      labels: "",
      block: counters.allocate(),
    };
    entry.labels = renderLabels(entry, r.source, r.destination, cluster);
    n.set(r.destinationServiceNamespace, entry);
    series.push(entry);
    return entry;
  }

  function record(r: RequestRecord): void {
    const slot = peerSlot(r.source, r.destination);
    const entry = seriesOf(slot, r, r.responseFlags.length === 0 ? "" : responseFlagsText(r.responseFlags));
    counters.add(entry.block, r.durationMs, r.requestBytes, r.responseBytes);
  }

  return { record, series, counters };
}

type Key = string | number | undefined;

/**
 * A pair of source and destination workloads: the trie node below their levels and the last four series
 * recorded for it (most pairs see a 200 and maybe an error code or two), held in fields rather than an
 * array so a record reads one object; the newest is `first`.
 */
class PeerSlot {
  /** Each series' response code beside it (-1 while there is none; small integers, so held in the object itself). */
  firstCode = -1;
  secondCode = -1;
  thirdCode = -1;
  fourthCode = -1;
  first: Series | undefined = undefined;
  second: Series | undefined = undefined;
  third: Series | undefined = undefined;
  fourth: Series | undefined = undefined;

  constructor(readonly node: TrieNode) {}

  remember(entry: Series): void {
    this.fourth = this.third;
    this.fourthCode = this.thirdCode;
    this.third = this.second;
    this.thirdCode = this.secondCode;
    this.second = this.first;
    this.secondCode = this.firstCode;
    this.first = entry;
    this.firstCode = entry.responseCode;
  }
}

function sameKey(key: SeriesKey, r: RequestRecord, flags: string): boolean {
  return (
    key.responseCode === r.responseCode &&
    key.destinationService === r.destinationService &&
    key.flags === flags &&
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
