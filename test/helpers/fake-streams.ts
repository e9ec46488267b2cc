/**
 * A faked DynamoDB Streams API, sync Lambda, evidence and control store for the frontier tracker's
 * tests. DynamoDB Local always has exactly one shard, so splits, lineage, draining parents and empty
 * shards can only be exercised here. Every record has a true creation time; the API exposes only what
 * the real one does (sequence numbers, a floored approximate creation time, visibility after a delay).
 */
import type { FrontierState } from '../../core/control';
import { creationLowerBound } from '../../core/frontier';
import type { PersistedShard } from '../../core/frontier-ledger';
import type {
  EvidencePort,
  FrontierStorePort,
  StreamShardInfo,
  StreamsPort,
} from '../../core/frontier-tracker';
import { padSequence } from '../../core/metadata';
import type { AppliedMarker } from '../../core/progress-marker';
import { type Item, canonicalItem } from '../../core/values';

/** A record of the fake stream, with its ground truth. */
export interface FakeRecord {
  readonly seq: string;
  readonly trueMs: number;
  readonly visibleAt: number;
  readonly key: string;
  applied: boolean;
}

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  closed: boolean;
  readonly records: FakeRecord[];
  /** Index of the next record the fake sync Lambda delivers. */
  syncAt: number;
}

/** A controllable clock. */
export class FakeClock {
  constructor(public t = 1_700_000_000_000) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The faked stream and streams API. */
export class FakeStream implements StreamsPort {
  readonly shards = new Map<string, FakeShard>();
  private seq = 1000;
  /** Sequence numbers returned out of order by the next `records` call (to test the A1 check). */
  duplicateNext = false;
  /** Records returned by `records` so far. */
  served = 0;

  constructor(
    readonly clock: FakeClock,
    readonly granularityMs: number,
    /** How long after a write its record becomes visible (must be <= the propagation margin). */
    readonly visibilityDelayMs = 0,
  ) {}

  addShard(shardId: string, parentShardId?: string): void {
    this.shards.set(shardId, {
      shardId,
      ...(parentShardId ? { parentShardId } : {}),
      closed: false,
      records: [],
      syncAt: 0,
    });
  }

  close(shardId: string): void {
    this.must(shardId).closed = true;
  }

  /** Splits `parent`: closes it and opens two children. */
  split(parent: string, a: string, b: string): void {
    this.close(parent);
    this.addShard(a, parent);
    this.addShard(b, parent);
  }

  /** Writes a change of `key` to `shardId` now; returns its record. */
  write(shardId: string, key: string, seqStep = 1): FakeRecord {
    const shard = this.must(shardId);
    if (shard.closed) throw new Error(`shard ${shardId} is closed`);
    this.seq += seqStep;
    const r: FakeRecord = {
      seq: String(this.seq),
      trueMs: this.clock.t,
      visibleAt: this.clock.t + this.visibilityDelayMs,
      key,
      applied: false,
    };
    shard.records.push(r);
    return r;
  }

  /** Adds a record with an explicit sequence number (to break assumptions on purpose). */
  writeRaw(shardId: string, key: string, seq: string): FakeRecord {
    const r: FakeRecord = { seq, trueMs: this.clock.t, visibleAt: this.clock.t, key, applied: false };
    this.must(shardId).records.push(r);
    return r;
  }

  allRecords(): FakeRecord[] {
    return [...this.shards.values()].flatMap((s) => s.records);
  }

  async listShards(): Promise<StreamShardInfo[]> {
    return [...this.shards.values()].map((s) => ({
      shardId: s.shardId,
      ...(s.parentShardId ? { parentShardId: s.parentShardId } : {}),
      closed: s.closed,
    }));
  }

  async iterator(shardId: string, afterSequence?: string): Promise<string> {
    const shard = this.must(shardId);
    if (afterSequence === undefined) return `${shardId}|0`;
    const after = padSequence(afterSequence);
    const i = shard.records.findIndex((r) => padSequence(r.seq) > after);
    return `${shardId}|${i === -1 ? shard.records.length : i}`;
  }

  async records(
    shardId: string,
    iterator: string,
  ): Promise<{
    records: Array<{ sequenceNumber: string; approxCreationMs: number; keys: Item }>;
    next?: string;
  }> {
    const shard = this.must(shardId);
    const from = Number(iterator.split('|')[1]);
    const out: FakeRecord[] = [];
    let i = from;
    while (i < shard.records.length && out.length < 100) {
      const r = shard.records[i] as FakeRecord;
      if (r.visibleAt > this.clock.t) break;
      out.push(r);
      i++;
    }
    this.served += out.length;
    if (this.duplicateNext && out.length > 0) {
      this.duplicateNext = false;
      out.push(out[0] as FakeRecord);
    }
    const atEnd = shard.closed && i >= shard.records.length;
    return {
      records: out.map((r) => ({
        sequenceNumber: r.seq,
        approxCreationMs: creationLowerBound(r.trueMs, this.granularityMs),
        keys: { id: { S: r.key } },
      })),
      ...(atEnd ? {} : { next: `${shardId}|${i}` }),
    };
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
  } = {},
): number {
  const batch = options.batch ?? 10;
  let batches = 0;
  for (const shard of stream.deliverable()) {
    if (options.onlyShard && shard.shardId !== options.onlyShard) continue;
    while (options.maxBatches === undefined || batches < options.maxBatches) {
      const recs: FakeRecord[] = [];
      while (recs.length < batch && shard.syncAt < shard.records.length) {
        const r = shard.records[shard.syncAt] as FakeRecord;
        if (r.visibleAt > stream.clock.t) break;
        recs.push(r);
        shard.syncAt++;
      }
      if (recs.length === 0) break;
      const failed: string[] = [];
      for (const r of recs) {
        if (options.poison?.has(r.seq)) {
          failed.push(padSequence(r.seq));
          continue;
        }
        const k = canonicalItem({ id: { S: r.key } });
        const cur = evidence.items.get(k);
        if (cur === undefined || cur < padSequence(r.seq)) evidence.items.set(k, padSequence(r.seq));
        r.applied = true;
      }
      // Records superseded by a later applied change of the same item count as applied in effect.
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

/** True if a change of the record's item with sequence >= its own is in the new table. */
export function appliedInEffect(evidence: FakeEvidence, r: FakeRecord): boolean {
  const cur = evidence.items.get(canonicalItem({ id: { S: r.key } }));
  return cur !== undefined && cur >= padSequence(r.seq);
}

/** The control items, in memory. */
export class MemoryFrontierStore implements FrontierStorePort {
  readonly shardDocs = new Map<string, PersistedShard>();
  frontier?: FrontierState;
  readonly published: number[] = [];

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
    this.frontier = { ...next, version: expectedVersion + 1 };
    this.published.push(next.frontier);
    return this.frontier;
  }
}
