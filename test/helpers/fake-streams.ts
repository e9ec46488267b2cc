/**
 * A faked DynamoDB Streams API, sync Lambda, evidence and control store for the frontier tracker's
 * tests. DynamoDB Local always has exactly one shard, so splits, lineage, draining parents and empty
 * shards can only be exercised here. Every record has a true creation time; the API exposes only what
 * the real one does (sequence numbers, a floored approximate creation time, visibility after a delay),
 * with the real API's awkward cases:
 *
 * - empty pages before records: a fresh iterator, and the iterator after a page of records, may return
 *   empty pages (with a next iterator) although records are visible further on ("it might take
 *   multiple calls to get to a portion of the shard that contains stream records"); `emptyRun` says
 *   how many;
 * - empty pages at the tip of an open shard, for as long as nothing new is visible;
 * - iterators that expire 15 minutes after they were handed out (`IteratorExpiredError`);
 * - child shards that DescribeStream lists only some time after their parent closed
 *   (`childListingDelayMs`), and a shard left out of one DescribeStream answer (`omitFromNextListing`);
 * - the sync Lambda (its own event source) delivers child records whether or not DescribeStream lists
 *   the children yet.
 *
 * Ground truth for the assertions: each record knows when it was applied (or waived), and the store
 * records every publish of `F` with its time.
 */
import type { FrontierState } from '../../core/control';
import {
  creationLowerBound,
  type PersistedShard,
  type EvidencePort,
  type FrontierStorePort,
  IteratorExpiredError,
  type StreamShardInfo,
  type StreamsPort,
  TrimmedDataError,
} from '../../core/frontier';
import { padSequence, type Item, canonicalItem } from '../../core/model';
import type { AppliedMarker } from '../../core/cdc';

/** A record of the fake stream, with its ground truth. */
export interface FakeRecord {
  readonly seq: string;
  readonly shardId: string;
  readonly trueMs: number;
  readonly visibleAt: number;
  readonly key: string;
  /** Applied by the fake sync Lambda (or a replay): when, and the event's tick. */
  applied: boolean;
  appliedAt?: number;
  appliedTick?: number;
  /** Waived by an operator: when, and the event's tick. */
  waivedAt?: number;
  waivedTick?: number;
  /** Sent to the dead-letter queue by the fake sync Lambda. */
  deadLettered?: boolean;
  /** When the streams API first returned it to a reader. */
  firstServedAt?: number;
}

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  closed: boolean;
  closedAt?: number;
  readonly createdAt: number;
  readonly records: FakeRecord[];
  /** Index of the next record the fake sync Lambda delivers. */
  syncAt: number;
  /** Records before this index are trimmed (`trimFirst`). */
  trimmed?: number;
}

/**
 * A controllable clock. `tick()` numbers events (applies, waivers, publishes) so that the ground truth
 * knows their order even when they happen at the same fake millisecond.
 */
export class FakeClock {
  private ticks = 0;
  constructor(public t = 1_700_000_000_000) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
  tick(): number {
    return ++this.ticks;
  }
}

/** Where an empty run of pages starts (see `FakeStreamOptions.emptyRun`). */
export interface EmptyRunContext {
  readonly shardId: string;
  /** Index in the shard of the next record the iterator points to. */
  readonly position: number;
  /** `iterator`: a fresh GetShardIterator; `page`: the next iterator after a page of records. */
  readonly after: 'iterator' | 'page';
}

/** Options of `FakeStream`. */
export interface FakeStreamOptions {
  /** How long after a write its record becomes visible (<= the propagation margin to keep A3). */
  readonly visibilityDelayMs?: number;
  /**
   * How many empty pages the API returns from this position before the records behind it, even when
   * they are visible (the "portions" of a shard with no records). @default none
   */
  readonly emptyRun?: (ctx: EmptyRunContext) => number;
  /** How long an iterator stays valid. @default 15 minutes (AWS) */
  readonly iteratorTtlMs?: number;
  /** How long after its parent closed DescribeStream starts listing a child. @default 0 */
  readonly childListingDelayMs?: number;
  /** Records per GetRecords page. @default 100 */
  readonly pageSize?: number;
  /**
   * As DynamoDB Local's reader does (`StreamsReader` with `dynamoDbLocal`): a page with records short of
   * the page size says it is the tip (`tip`), which holds here (a page stops at the first record not yet
   * visible). @default false
   */
  readonly shortPageTip?: boolean;
}

const ITERATOR_TTL_MS = 15 * 60_000;

interface IteratorState {
  readonly shardId: string;
  readonly position: number;
  /** Empty pages still to return before records at `position`. */
  readonly emptiesLeft: number;
  readonly issuedAt: number;
}

/** The faked stream and streams API. */
export class FakeStream implements StreamsPort {
  readonly shards = new Map<string, FakeShard>();
  private seq = 1000;
  private readonly omitted = new Set<string>();
  /** Shards some DescribeStream answer has listed. */
  readonly listedOnce = new Set<string>();
  private readonly options: Required<Omit<FakeStreamOptions, 'emptyRun'>> &
    Pick<FakeStreamOptions, 'emptyRun'>;
  /** Sequence numbers returned out of order by the next `records` call (to test the A1 check). */
  duplicateNext = false;
  /** Records returned by `records` so far, and GetRecords calls (empty ones too). */
  served = 0;
  calls = 0;
  emptyPages = 0;

  constructor(
    readonly clock: FakeClock,
    readonly granularityMs: number,
    visibilityDelayOrOptions: number | FakeStreamOptions = {},
  ) {
    const o =
      typeof visibilityDelayOrOptions === 'number'
        ? { visibilityDelayMs: visibilityDelayOrOptions }
        : visibilityDelayOrOptions;
    this.options = {
      visibilityDelayMs: o.visibilityDelayMs ?? 0,
      iteratorTtlMs: o.iteratorTtlMs ?? ITERATOR_TTL_MS,
      childListingDelayMs: o.childListingDelayMs ?? 0,
      pageSize: o.pageSize ?? 100,
      shortPageTip: o.shortPageTip ?? false,
      ...(o.emptyRun ? { emptyRun: o.emptyRun } : {}),
    };
  }

  get visibilityDelayMs(): number {
    return this.options.visibilityDelayMs;
  }

  addShard(shardId: string, parentShardId?: string): void {
    this.shards.set(shardId, {
      shardId,
      ...(parentShardId ? { parentShardId } : {}),
      closed: false,
      createdAt: this.clock.t,
      records: [],
      syncAt: 0,
    });
  }

  close(shardId: string): void {
    const s = this.must(shardId);
    s.closed = true;
    s.closedAt ??= this.clock.t;
  }

  /** Splits `parent`: closes it and opens two children. */
  split(parent: string, a: string, b: string): void {
    this.close(parent);
    this.addShard(a, parent);
    this.addShard(b, parent);
  }

  /**
   * Trims the shard's first `count` records (past the stream's retention), as DynamoDB Streams does:
   * an iterator asked after a trimmed record, or a page read from a position among them, fails with
   * `TrimmedDataError`; TRIM_HORIZON starts after them. Returns the trimmed records.
   */
  trimFirst(shardId: string, count: number): FakeRecord[] {
    const shard = this.must(shardId);
    shard.trimmed = Math.max(shard.trimmed ?? 0, Math.min(count, shard.records.length));
    return shard.records.slice(0, shard.trimmed);
  }

  /** The next DescribeStream answer leaves this shard out (the API's listing is not always complete). */
  omitFromNextListing(shardId: string): void {
    this.omitted.add(shardId);
  }

  /** Writes a change of `key` to `shardId` now; returns its record. */
  write(shardId: string, key: string, seqStep = 1): FakeRecord {
    const shard = this.must(shardId);
    if (shard.closed) throw new Error(`shard ${shardId} is closed`);
    this.seq += seqStep;
    const r: FakeRecord = {
      seq: String(this.seq),
      shardId,
      trueMs: this.clock.t,
      visibleAt: this.clock.t + this.options.visibilityDelayMs,
      key,
      applied: false,
    };
    shard.records.push(r);
    return r;
  }

  /** Adds a record with an explicit sequence number (to break assumptions on purpose). */
  writeRaw(shardId: string, key: string, seq: string): FakeRecord {
    const r: FakeRecord = {
      seq,
      shardId,
      trueMs: this.clock.t,
      visibleAt: this.clock.t,
      key,
      applied: false,
    };
    this.must(shardId).records.push(r);
    return r;
  }

  allRecords(): FakeRecord[] {
    return [...this.shards.values()].flatMap((s) => s.records);
  }

  async listShards(): Promise<StreamShardInfo[]> {
    const out: StreamShardInfo[] = [];
    for (const s of this.shards.values()) {
      if (this.omitted.has(s.shardId)) continue;
      const parent = s.parentShardId === undefined ? undefined : this.shards.get(s.parentShardId);
      const parentClosedAt = parent?.closedAt ?? s.createdAt;
      if (parent && this.clock.t < parentClosedAt + this.options.childListingDelayMs) continue;
      out.push({
        shardId: s.shardId,
        ...(s.parentShardId ? { parentShardId: s.parentShardId } : {}),
        closed: s.closed,
      });
      this.listedOnce.add(s.shardId);
    }
    this.omitted.clear();
    return out;
  }

  async iterator(shardId: string, afterSequence?: string): Promise<string> {
    const shard = this.must(shardId);
    const trimmed = shard.trimmed ?? 0;
    let position = trimmed;
    if (afterSequence !== undefined) {
      const after = padSequence(afterSequence);
      const i = shard.records.findIndex((r) => padSequence(r.seq) > after);
      position = i === -1 ? shard.records.length : i;
      if (position < trimmed) throw new TrimmedDataError(shardId);
    }
    return this.encode({ shardId, position, emptiesLeft: this.emptyRun(shardId, position, 'iterator') });
  }

  async records(
    shardId: string,
    iterator: string,
  ): Promise<{
    records: Array<{ sequenceNumber: string; approxCreationMs: number; keys: Item }>;
    next?: string;
    tip?: boolean;
  }> {
    const shard = this.must(shardId);
    const it = this.decode(iterator, shardId);
    this.calls++;
    if (this.clock.t - it.issuedAt > this.options.iteratorTtlMs) throw new IteratorExpiredError(shardId);
    if (it.position < (shard.trimmed ?? 0)) throw new TrimmedDataError(shardId);
    if (it.emptiesLeft > 0) {
      this.emptyPages++;
      return { records: [], next: this.encode({ ...it, emptiesLeft: it.emptiesLeft - 1 }) };
    }
    const out: FakeRecord[] = [];
    let i = it.position;
    while (i < shard.records.length && out.length < this.options.pageSize) {
      const r = shard.records[i] as FakeRecord;
      if (r.visibleAt > this.clock.t) break;
      out.push(r);
      i++;
    }
    this.served += out.length;
    if (out.length === 0) this.emptyPages++;
    for (const r of out) r.firstServedAt ??= this.clock.t;
    if (this.duplicateNext && out.length > 0) {
      this.duplicateNext = false;
      out.push(out[0] as FakeRecord);
    }
    const atEnd = shard.closed && i >= shard.records.length;
    // After a page of records the next portion may be empty although records follow; at the tip (no
    // records) the iterator stays where it is and the next records are returned as soon as visible.
    const emptiesLeft = out.length > 0 && !atEnd ? this.emptyRun(shardId, i, 'page') : 0;
    return {
      records: out.map((r) => ({
        sequenceNumber: r.seq,
        approxCreationMs: creationLowerBound(r.trueMs, this.granularityMs),
        keys: { id: { S: r.key } },
      })),
      ...(atEnd ? {} : { next: this.encode({ shardId, position: i, emptiesLeft }) }),
      ...(this.options.shortPageTip && out.length > 0 && out.length < this.options.pageSize
        ? { tip: true }
        : {}),
    };
  }

  private emptyRun(shardId: string, position: number, after: EmptyRunContext['after']): number {
    return Math.max(0, Math.floor(this.options.emptyRun?.({ shardId, position, after }) ?? 0));
  }

  private encode(it: Omit<IteratorState, 'issuedAt'>): string {
    return JSON.stringify({ ...it, issuedAt: this.clock.t });
  }

  private decode(iterator: string, shardId: string): IteratorState {
    const it = JSON.parse(iterator) as IteratorState;
    if (it.shardId !== shardId) throw new Error(`iterator of ${it.shardId} used on ${shardId}`);
    return it;
  }

  private must(shardId: string): FakeShard {
    const s = this.shards.get(shardId);
    if (!s) throw new Error(`no shard ${shardId}`);
    return s;
  }

  /** The sync Lambda's view: shards it may deliver from (parents fully delivered first). */
  deliverable(): FakeShard[] {
    return [...this.shards.values()].filter((s) => {
      if (!s.parentShardId) return true;
      const p = this.shards.get(s.parentShardId);
      return !p || (p.closed && p.syncAt >= p.records.length);
    });
  }
}

/** The new table, progress markers and waivers, in memory. */
export class FakeEvidence implements EvidencePort {
  readonly markerItems = new Map<string, AppliedMarker>();
  readonly waived = new Set<string>();
  /** canonical new key -> _dr_seq (padded). */
  readonly items = new Map<string, string>();
  itemLookups = 0;

  /** How many markers each listing returned. */
  readonly markerListings: number[] = [];

  async markers(fromSeq?: string): Promise<Array<AppliedMarker & { sk: string }>> {
    const out = [...this.markerItems.entries()]
      .filter(([, m]) => fromSeq === undefined || m.first >= fromSeq)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([sk, m]) => ({ ...m, sk }));
    this.markerListings.push(out.length);
    return out;
  }

  async waivers(): Promise<string[]> {
    return [...this.waived];
  }

  async newItemSequences(newKeys: readonly Item[]): Promise<Array<string | undefined>> {
    this.itemLookups += newKeys.length;
    return newKeys.map((k) => this.items.get(canonicalItem(k)));
  }
}

/** Applies one record to the new table under the apply rule (only if newer); records when. */
function applyRecord(stream: FakeStream, evidence: FakeEvidence, r: FakeRecord): void {
  const k = canonicalItem({ id: { S: r.key } });
  const cur = evidence.items.get(k);
  if (cur === undefined || cur < padSequence(r.seq)) evidence.items.set(k, padSequence(r.seq));
  r.applied = true;
  r.appliedAt ??= stream.clock.t;
  r.appliedTick ??= stream.clock.tick();
  r.deadLettered = false;
}

/**
 * The sync Lambda, faked: delivers visible records of deliverable shards in order, in batches; applies
 * them to `evidence.items` (the apply rule: only if newer) except those in `poison` (dead-lettered),
 * and writes one marker per batch unless `markers` is false.
 */
export function fakeSync(
  stream: FakeStream,
  evidence: FakeEvidence,
  options: {
    batch?: number;
    poison?: ReadonlySet<string>;
    markers?: boolean;
    maxBatches?: number;
    onlyShard?: string;
    /** Applies only records visible by this time (default: now), as a sync Lambda that lags. */
    visibleBy?: number;
  } = {},
): number {
  const batch = options.batch ?? 10;
  let batches = 0;
  for (const shard of stream.deliverable()) {
    if (options.onlyShard && shard.shardId !== options.onlyShard) continue;
    // Like the event source mapping, the sync Lambda skips what was trimmed and goes on.
    shard.syncAt = Math.max(shard.syncAt, shard.trimmed ?? 0);
    while (options.maxBatches === undefined || batches < options.maxBatches) {
      const recs: FakeRecord[] = [];
      while (recs.length < batch && shard.syncAt < shard.records.length) {
        const r = shard.records[shard.syncAt] as FakeRecord;
        if (r.visibleAt > (options.visibleBy ?? stream.clock.t)) break;
        recs.push(r);
        shard.syncAt++;
      }
      if (recs.length === 0) break;
      const failed: string[] = [];
      for (const r of recs) {
        if (options.poison?.has(r.seq)) {
          failed.push(padSequence(r.seq));
          r.deadLettered = true;
          continue;
        }
        applyRecord(stream, evidence, r);
      }
      if (options.markers !== false) {
        const first = padSequence((recs[0] as FakeRecord).seq);
        evidence.markerItems.set(`APPLIED#${first}`, {
          first,
          last: padSequence((recs[recs.length - 1] as FakeRecord).seq),
          count: recs.length,
          failed,
          at: stream.clock.t,
          expiresAt: 0,
        });
      }
      batches++;
    }
  }
  return batches;
}

/** An operator replays a dead-lettered record from the DLQ: applied under the rule, no marker. */
export function replay(stream: FakeStream, evidence: FakeEvidence, r: FakeRecord): void {
  applyRecord(stream, evidence, r);
}

/** An operator waives a record (audited in production): a WAIVER# item. */
export function waive(stream: FakeStream, evidence: FakeEvidence, r: FakeRecord): void {
  evidence.waived.add(padSequence(r.seq));
  r.waivedAt ??= stream.clock.t;
  r.waivedTick ??= stream.clock.tick();
}

/** True if a change of the record's item with sequence >= its own is in the new table. */
export function appliedInEffect(evidence: FakeEvidence, r: FakeRecord): boolean {
  const cur = evidence.items.get(canonicalItem({ id: { S: r.key } }));
  return cur !== undefined && cur >= padSequence(r.seq);
}

/**
 * True if, by event `tick` (`FakeClock.tick`), the record was applied, superseded by an applied later
 * change of its item, or waived: what a published `F` above its creation time promises.
 */
export function settledBy(stream: FakeStream, r: FakeRecord, tick: number): boolean {
  if (r.waivedTick !== undefined && r.waivedTick <= tick) return true;
  const seq = padSequence(r.seq);
  return stream
    .allRecords()
    .some(
      (o) =>
        o.key === r.key && o.appliedTick !== undefined && o.appliedTick <= tick && padSequence(o.seq) >= seq,
    );
}

/** The control items, in memory. */
export class MemoryFrontierStore implements FrontierStorePort {
  readonly shardDocs = new Map<string, PersistedShard>();
  frontier?: FrontierState;
  readonly published: number[] = [];
  /** Every publish that moved `F`, with its time (`computedAt`) and event tick (with a clock). */
  readonly publishes: Array<{ frontier: number; at: number; tick: number }> = [];

  constructor(private readonly clock?: FakeClock) {}

  async loadShards(): Promise<PersistedShard[]> {
    return [...this.shardDocs.values()];
  }
  async saveShard(shard: PersistedShard): Promise<void> {
    this.shardDocs.set(shard.shardId, shard);
  }
  async getFrontier(): Promise<FrontierState | undefined> {
    return this.frontier;
  }
  async putFrontier(next: Omit<FrontierState, 'version'>, expectedVersion: number): Promise<FrontierState> {
    if ((this.frontier?.version ?? 0) !== expectedVersion) throw new Error('conflict');
    if (next.frontier !== this.frontier?.frontier) {
      this.publishes.push({ frontier: next.frontier, at: next.computedAt, tick: this.clock?.tick() ?? 0 });
    }
    this.frontier = { ...next, version: expectedVersion + 1 };
    this.published.push(next.frontier);
    return this.frontier;
  }
}
