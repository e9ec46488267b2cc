/**
 * The frontier tracker (DESIGN §4.4): a second reader of the legacy stream that establishes, from
 * evidence it checks itself, which records are applied, and publishes `F`. One `step()` lists the
 * shards, reads each to its tip, gathers evidence (progress markers, waivers, new-table items),
 * computes `F` and publishes it when it moved forward; `run()` repeats steps for about a minute.
 * All I/O goes through the ports below, so tests drive it with a faked streams API.
 */
import { type FrontierState, type ShardFrontier } from './control';
import { DualReadError } from './errors';
import { type FrontierConfig, computeFrontier, frontierLagSeconds, nextPublished } from './frontier';
import { FrontierLedger, type PersistedShard, type TrackedRecordInput } from './frontier-ledger';
import type { AppliedMarker } from './progress-marker';
import type { Item } from './values';

/** Base of the tracker's errors. */
export class FrontierError extends DualReadError {
  override name = 'FrontierError';
}

/** A shard iterator expired (they live 15 minutes); the tracker gets a new one from its position. */
export class IteratorExpiredError extends FrontierError {
  override name = 'IteratorExpiredError';
  constructor(readonly shardId: string) {
    super(`shard iterator of ${shardId} expired; get a new one after the last sequence number read`);
  }
}

/** The position asked for is older than the stream's 24 h retention. */
export class TrimmedDataError extends FrontierError {
  override name = 'TrimmedDataError';
  constructor(readonly shardId: string) {
    super(`records of ${shardId} after the tracker's position were trimmed; reading resumes at TRIM_HORIZON`);
  }
}

/** One shard as DescribeStream lists it. */
export interface StreamShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** Has an EndingSequenceNumber. */
  readonly closed: boolean;
}

/** The streams API, as the tracker uses it. */
export interface StreamsPort {
  /** Every shard of the stream (all DescribeStream pages). */
  listShards(): Promise<StreamShardInfo[]>;
  /** An iterator after `afterSequence`, or at TRIM_HORIZON when undefined. */
  iterator(shardId: string, afterSequence?: string): Promise<string>;
  /** One GetRecords page; `next` undefined when the shard is closed and read to its end. */
  records(shardId: string, iterator: string): Promise<{ records: TrackedRecordInput[]; next?: string }>;
}

/** Where the tracker's evidence comes from. */
export interface EvidencePort {
  /** Progress markers whose first sequence number is >= `fromSeq` (all when undefined). */
  markers(fromSeq?: string): Promise<Array<AppliedMarker & { readonly sk: string }>>;
  /** Padded sequence numbers of waived records. */
  waivers(): Promise<string[]>;
  /** `_dr_seq` of the new items under these new-table keys (undefined: no item), in order. */
  newItemSequences(newKeys: readonly Item[]): Promise<Array<string | undefined>>;
}

/** The control items the tracker owns. */
export interface FrontierStorePort {
  loadShards(): Promise<PersistedShard[]>;
  saveShard(shard: PersistedShard): Promise<void>;
  getFrontier(): Promise<FrontierState | undefined>;
  /** Versioned put; throws on a concurrent change. */
  putFrontier(next: Omit<FrontierState, 'version'>, expectedVersion: number): Promise<FrontierState>;
}

/** Settings of the tracker. */
export interface TrackerConfig extends FrontierConfig {
  readonly clockSkewMs: number;
  /** Look a record up in the new table once it has waited this long for a marker. @default 5000 */
  readonly itemEvidenceAfterMs: number;
  /** Records per shard per step looked up in the new table. @default 100 */
  readonly itemEvidencePerShard: number;
  /** GetRecords pages per shard per step (bounds one step on a long backlog). @default 20 */
  readonly maxPagesPerShard: number;
  /** See `FrontierLedger`: at least the sync Lambda's batch size. @default 1000 */
  readonly markerLookbackRecords?: number;
  /** Shards read at the same time. @default 8 */
  readonly readConcurrency?: number;
}

/** Defaults of `TrackerConfig` other than the frontier math's. */
export const DEFAULT_TRACKER_SETTINGS = {
  clockSkewMs: 1000,
  itemEvidenceAfterMs: 5000,
  itemEvidencePerShard: 100,
  maxPagesPerShard: 20,
} as const;

/** Dependencies of the tracker. */
export interface TrackerDeps {
  readonly migrationId: string;
  readonly streams: StreamsPort;
  readonly evidence: EvidencePort;
  readonly store: FrontierStorePort;
  /** The migration's `mapKey` (legacy key to new key). */
  readonly mapKey: (legacyKey: Item) => Item;
  readonly config: TrackerConfig;
  readonly now: () => number;
}

/** What one step found. */
export interface StepResult {
  /** `F` computed from this step's evidence. */
  readonly computed: number;
  /** `F` as published after this step (never lower than before). */
  readonly published: number;
  readonly didPublish: boolean;
  readonly lagSeconds: number;
  readonly pending: number;
  readonly deadLettered: number;
  /** Violations counted in this step, and in total (this process and the persisted counts). */
  readonly newViolations: number;
  readonly violations: Readonly<Record<string, number>>;
  readonly shards: readonly ShardFrontier[];
  readonly at: number;
}

/** The tracker. Keep one per process: its in-memory ledger is what makes steps cheap. */
export class FrontierTracker {
  private ledger?: FrontierLedger;
  private readonly iterators = new Map<string, string>();
  private frontier?: FrontierState;
  private savedShards = new Map<string, string>();
  private publishedDetail?: string;

  constructor(private readonly deps: TrackerDeps) {}

  private async start(): Promise<FrontierLedger> {
    if (this.ledger) return this.ledger;
    const restored = await this.deps.store.loadShards();
    for (const s of restored) this.savedShards.set(s.shardId, fingerprint(s));
    this.ledger = new FrontierLedger(this.deps.config, restored);
    this.frontier = await this.deps.store.getFrontier();
    return this.ledger;
  }

  /** One pass: list, read, gather evidence, compute, publish, persist. */
  async step(): Promise<StepResult> {
    const { deps } = this;
    const ledger = await this.start();
    const before = total(ledger.violations());

    const listedAt = deps.now();
    ledger.list(await deps.streams.listShards(), listedAt);
    // Shards are read concurrently (a large table has many), a child only after its parent's read of
    // this step: the per-item check across a split needs the parent's records first. Parents come
    // before children in `readOrder`, so a child's worker never waits for a read that has not started.
    const toRead = ledger.readOrder().filter((s) => !s.readToEnd); // readToEnd: nothing more to read
    const reads = new Map<string, Promise<void>>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toRead.length) {
        const shard = toRead[next++] as (typeof toRead)[number];
        const parentRead = shard.parentShardId === undefined ? undefined : reads.get(shard.parentShardId);
        const read = (async () => {
          if (parentRead) await parentRead;
          await this.readShard(ledger, shard.shardId);
        })();
        reads.set(shard.shardId, read);
        await read;
      }
    };
    const workers = Math.max(1, Math.min(deps.config.readConcurrency ?? 8, toRead.length));
    await Promise.all(Array.from({ length: workers }, worker));

    await this.gatherEvidence(ledger);

    const result = computeFrontier(ledger.input(listedAt), deps.config);
    const published = this.frontier?.frontier;
    if (published !== undefined) ledger.checkPublished(published);
    const decision = nextPublished(published, result.frontier);
    const caught = new Map(result.shards.map((s) => [s.shardId, s]));
    const shards = ledger.detail(caught);
    const violations = ledger.violations();
    const at = deps.now();
    // Publish when F moved forward, and also when only the detail changed (what holds F back, the
    // dead-lettered count, violations), so operators read the current reason from the FRONTIER item.
    const detail = JSON.stringify({ shards, violations });
    if (decision.publish || (this.frontier !== undefined && detail !== this.publishedDetail)) {
      await this.publish(decision.frontier, shards, violations, at);
      this.publishedDetail = detail;
    }
    await this.persist(ledger, at);
    ledger.compact(at);

    return {
      computed: result.frontier,
      published: this.frontier?.frontier ?? 0,
      didPublish: decision.publish,
      lagSeconds: frontierLagSeconds(this.frontier?.frontier ?? 0, at),
      pending: shards.reduce((a, s) => a + s.pending, 0),
      deadLettered: shards.reduce((a, s) => a + s.deadLettered, 0),
      newViolations: total(violations) - before,
      violations,
      shards,
      at,
    };
  }

  /**
   * Steps until `durationMs` has passed, one every `intervalMs`; a failed step is reported to `onError`
   * and the loop goes on (the next step starts from the same ledger).
   */
  async run(options: {
    durationMs: number;
    intervalMs: number;
    sleep: (ms: number) => Promise<void>;
    onStep?: (r: StepResult) => void;
    onError?: (err: unknown) => void;
  }): Promise<StepResult | undefined> {
    const start = this.deps.now();
    let last: StepResult | undefined;
    for (;;) {
      const began = this.deps.now();
      try {
        last = await this.step();
        options.onStep?.(last);
      } catch (err) {
        options.onError?.(err);
      }
      const next = began + options.intervalMs;
      if (next - start >= options.durationMs) return last;
      const wait = next - this.deps.now();
      if (wait > 0) await options.sleep(wait);
    }
  }

  private async readShard(ledger: FrontierLedger, shardId: string): Promise<void> {
    const { streams } = this.deps;
    const shard = ledger.shards.get(shardId);
    if (!shard) return;
    for (let page = 0; page < this.deps.config.maxPagesPerShard; page++) {
      let iterator = this.iterators.get(shardId);
      try {
        iterator ??= await streams.iterator(shardId, shard.lastSeen);
        const startedAt = this.deps.now();
        const out = await streams.records(shardId, iterator);
        if (out.records.length > 0) ledger.ingest(shardId, out.records, this.deps.now());
        if (out.next === undefined) {
          this.iterators.delete(shardId);
          ledger.endOfShard(shardId);
          ledger.probe(shardId, startedAt);
          return;
        }
        this.iterators.set(shardId, out.next);
        if (out.records.length === 0) {
          ledger.probe(shardId, startedAt);
          return;
        }
      } catch (err) {
        this.iterators.delete(shardId);
        if (err instanceof IteratorExpiredError) continue;
        if (err instanceof TrimmedDataError) {
          // Records between our position and the trim horizon are gone: count it (alarm) and go on
          // from the oldest record still there; the lost records are the sync Lambda's loss too.
          ledger.trimmed(shardId);
          this.iterators.set(shardId, await streams.iterator(shardId, undefined));
          continue;
        }
        throw err;
      }
    }
  }

  private async gatherEvidence(ledger: FrontierLedger): Promise<void> {
    const { evidence, config, now, mapKey } = this.deps;
    const cursor = ledger.markerCursor(now());
    if (cursor !== undefined) {
      for (const m of await evidence.markers(cursor)) ledger.applyMarker(m.sk, m);
    }
    ledger.applyWaivers(new Set(await evidence.waivers()));

    const candidates = ledger.evidenceCandidates(
      now(),
      config.itemEvidenceAfterMs,
      config.itemEvidencePerShard,
    );
    if (candidates.length === 0) return;
    const usable: Array<{ shardId: string; seq: string; newKey: Item }> = [];
    for (const c of candidates) {
      try {
        usable.push({ shardId: c.shardId, seq: c.seq, newKey: mapKey(c.keys) });
      } catch {
        // mapKey refused the key: no item can prove this record applied; it keeps holding F back.
      }
    }
    const seqs = await evidence.newItemSequences(usable.map((u) => u.newKey));
    usable.forEach((u, i) => ledger.applyItemSequence(u.shardId, u.seq, seqs[i]));
  }

  private async publish(
    frontier: number,
    shards: ShardFrontier[],
    violations: Record<string, number>,
    at: number,
  ): Promise<void> {
    const doc = { migrationId: this.deps.migrationId, frontier, computedAt: at, shards, violations };
    try {
      this.frontier = await this.deps.store.putFrontier(doc, this.frontier?.version ?? 0);
    } catch (err) {
      // Someone else published (only possible if two trackers run): re-read, and publish only if
      // still ahead, so F stays monotone.
      const current = await this.deps.store.getFrontier();
      this.frontier = current;
      if (current && current.frontier >= frontier) return;
      if (!current) throw err;
      this.frontier = await this.deps.store.putFrontier(doc, current.version);
    }
  }

  private async persist(ledger: FrontierLedger, at: number): Promise<void> {
    for (const s of ledger.persisted(at)) {
      const print = fingerprint(s);
      if (this.savedShards.get(s.shardId) === print) continue;
      await this.deps.store.saveShard(s);
      this.savedShards.set(s.shardId, print);
    }
  }
}

/** What a saved shard says, without its timestamps (unchanged shards are not saved again). */
function fingerprint(s: PersistedShard): string {
  return JSON.stringify({ ...s, updatedAt: 0, expiresAt: 0 });
}

function total(v: Readonly<Record<string, number>>): number {
  return Object.values(v).reduce((a, b) => a + b, 0);
}
