/**
 * The frontier tracker: a second reader of the legacy stream that establishes, from evidence it checks
 * itself, which records are applied, and publishes `F`. One `step()` lists the shards, gathers evidence
 * (progress markers, waivers, new-table items) for the records read so far, computes `F` and publishes
 * it when it moved forward, then reads each shard on towards its tip and publishes again if the reads
 * moved `F` (an idle shard's tip); `run()` repeats steps for about a minute. All I/O goes through the
 * ports (`ports.ts`), so tests drive it with a faked streams API; its settings are `tracker-config.ts`.
 */
import type { FrontierState, ShardFrontier, StreamGap } from '../control';
import { frontierUnderGap, gapOpen, openGap } from './gap';
import { computeFrontier, frontierLagSeconds, nextPublished } from './math';
import { FrontierLedger } from './ledger';
import { IteratorExpiredError, TrimmedDataError } from './errors';
import type { EvidencePort, FrontierStorePort, StreamsPort } from './ports';
import type { PersistedShard } from './shard-ledger';
import { type TrackerConfig, validateTrackerConfig } from './tracker-config';
import { FrontierViolation, violationTotal } from './violations';
import { type Item, padSequence } from '../model';

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
  /** Late records counted in this step (`LateRecord`, also in `newViolations`). */
  readonly newLateRecords: number;
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
  private persistedAt?: number;
  /** Waiver sequence numbers as read by this step's first gathering. */
  private waived: ReadonlySet<string> = new Set();
  /** Shards whose reads hit the trim horizon since the last publish (a stream gap to open). */
  private readonly trimmedUnread = new Set<string>();

  constructor(private readonly deps: TrackerDeps) {
    validateTrackerConfig(deps.config);
  }

  private async start(): Promise<FrontierLedger> {
    if (this.ledger) return this.ledger;
    const restored = await this.deps.store.loadShards();
    for (const s of restored) this.savedShards.set(s.shardId, fingerprint(s));
    const ledger = new FrontierLedger(this.deps.config, restored);
    this.frontier = await this.deps.store.getFrontier();
    if (this.frontier) {
      ledger.restorePublished(this.frontier.frontier, this.frontier.computedAt, this.frontier.violations);
    }
    this.ledger = ledger;
    return ledger;
  }

  /**
   * One pass: list; gather the progress markers and waivers written since the last step and publish `F`
   * from what was read before; read every shard on towards its tip, gather the evidence of what was read
   * (markers, waivers, new items) and publish again if that moved `F`; persist.
   *
   * `F` is computed before reading because the records a read returns are mostly not applied yet, and a
   * record known unapplied caps its shard: publishing first lets the sync Lambda's progress on earlier
   * records count without waiting for the newest. Computing again after reading lets an idle shard's
   * tip count at once, and decides records read after `F` had passed them (late records) in this step.
   */
  async step(): Promise<StepResult> {
    const { deps } = this;
    const ledger = await this.start();
    const before = ledger.violations();
    // While a stream gap is open F is frozen and rarely published: read FRONTIER to see it closed.
    if (gapOpen(this.frontier?.gap)) this.frontier = await deps.store.getFrontier();

    const listedAt = deps.now();
    ledger.list(await deps.streams.listShards(), listedAt);
    // What the sync Lambda applied since the last step (markers, waivers), and F from it.
    await this.gatherEvidence(ledger, false);
    const first = await this.computeAndPublish(ledger, listedAt, false);
    // Read on, gather the evidence of what was read (markers again, waivers, new items), F again.
    await this.readShards(ledger);
    // A closed shard taken as trimmed before it was read to its end lost its unread records too.
    const trimmedOf = (v: Readonly<Record<string, number>>) => v[FrontierViolation.TRIMMED_UNREAD] ?? 0;
    if (trimmedOf(ledger.violations()) - trimmedOf(before) > this.trimmedUnread.size)
      this.trimmedUnread.add('(closed shard trimmed unread)');
    // Records read and still pending were written before the gap opens (now): the recovery settles them
    // (the sync Lambda may have lost them too). F is frozen until then; this moves cdcFrontier only.
    if (this.trimmedUnread.size > 0) ledger.settleForGap();
    await this.gatherEvidence(ledger, true);
    const last = await this.computeAndPublish(ledger, listedAt, true);
    const every = deps.config.persistIntervalMs ?? 0;
    if (this.persistedAt === undefined || last.at - this.persistedAt >= every) {
      await this.persist(ledger, last.at);
      this.persistedAt = last.at;
    }
    ledger.compact(last.at);

    const lateOf = (v: Readonly<Record<string, number>>) => v[FrontierViolation.LATE_RECORD] ?? 0;
    return {
      computed: last.computed,
      published: this.frontier?.frontier ?? 0,
      didPublish: first.moved || last.moved,
      lagSeconds: frontierLagSeconds(this.frontier?.frontier ?? 0, last.at),
      pending: last.shards.reduce((a, s) => a + s.pending, 0),
      deadLettered: last.shards.reduce((a, s) => a + s.deadLettered, 0),
      newViolations: violationTotal(last.violations) - violationTotal(before),
      newLateRecords: lateOf(last.violations) - lateOf(before),
      violations: last.violations,
      shards: last.shards,
      at: last.at,
    };
  }

  /** Computes `F` from the ledger and publishes it if it moved (or, with `refresh`, if the detail changed). */
  private async computeAndPublish(
    ledger: FrontierLedger,
    listedAt: number,
    refresh: boolean,
  ): Promise<{
    computed: number;
    moved: boolean;
    shards: ShardFrontier[];
    violations: Record<string, number>;
    at: number;
  }> {
    const { deps } = this;
    const at = deps.now();
    const result = computeFrontier(ledger.input(listedAt, at), deps.config);
    // A stream gap (found now, or open) freezes F: the lost writes were never applied by CDC.
    const opening = refresh && this.trimmedUnread.size > 0 ? [...this.trimmedUnread] : [];
    const gapOf = (current: FrontierState | undefined): StreamGap | undefined =>
      opening.length
        ? openGap(current?.gap, opening, at, current?.frontier ?? 0, result.frontier)
        : gapOpen(current?.gap)
          ? { ...current.gap, cdcFrontier: Math.max(current.gap.cdcFrontier, result.frontier) }
          : current?.gap;
    const gap = gapOf(this.frontier);
    const decision = nextPublished(this.frontier?.frontier, frontierUnderGap(result.frontier, gap));
    const caught = new Map(result.shards.map((s) => [s.shardId, s]));
    const shards = ledger.detail(caught);
    const violations = ledger.violations();
    // Publish when F moved forward, and also when only the detail changed (what holds F back, the
    // dead-lettered count, violations, the gap), so operators read the current reason from FRONTIER.
    const detail = JSON.stringify({ shards, violations, gap });
    const refreshDetail = refresh && this.frontier !== undefined && detail !== this.publishedDetail;
    // Under a gap, cdcFrontier is what the recovery's re-checks wait on: publish it whenever it moves,
    // before reading too (as F is), or the records a read returns, still unapplied, would hold it.
    const cdcMoved = gapOpen(gap) && gap.cdcFrontier > (this.frontier?.gap?.cdcFrontier ?? 0);
    if (decision.publish || refreshDetail || opening.length || cdcMoved) {
      await this.publish(decision.frontier, shards, violations, at, gapOf);
      for (const s of opening) this.trimmedUnread.delete(s);
      this.publishedDetail = detail;
      if (this.frontier) ledger.notePublished(this.frontier.frontier, this.frontier.computedAt);
    }
    return { computed: result.frontier, moved: decision.publish, shards, violations, at };
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

  /**
   * Reads the shards concurrently (a large table has many), a child only after its parent's read of this
   * step: the per-item check across a split needs the parent's records first. Parents come before
   * children in `readOrder`, so a child's worker never waits for a read that has not started.
   */
  private async readShards(ledger: FrontierLedger): Promise<void> {
    const now = this.deps.now();
    const hold = this.deps.config.readHoldMs ?? 0;
    // readToEnd: nothing more to read; held: records just read wait for their evidence.
    const plans = new Map(ledger.readOrder().map((s) => [s, s.readPlan(now, hold)]));
    const toRead = [...plans].filter(([s, plan]) => !s.readToEnd && !plan.held).map(([s]) => s);
    const reads = new Map<string, Promise<void>>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toRead.length) {
        const shard = toRead[next++] as (typeof toRead)[number];
        const parentRead = shard.parentShardId === undefined ? undefined : reads.get(shard.parentShardId);
        const read = (async () => {
          if (parentRead) await parentRead;
          await this.readShard(ledger, shard.shardId, plans.get(shard)?.upTo);
        })();
        reads.set(shard.shardId, read);
        await read;
      }
    };
    const workers = Math.max(1, Math.min(this.deps.config.readConcurrency ?? 8, toRead.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  /**
   * Reads one shard by following NextShardIterator. An empty page only extends the shard's streak of
   * empty pages (core/frontier/tip.ts); the read goes on at once while the streak is short, unless this
   * step already returned records (a busy shard: its records bound it, and its tip is chased next step),
   * and stops at a page that counts as the tip. The iterator is kept between steps, so a streak spans
   * steps and an idle shard costs one GetRecords per step. With `limit` (`ShardLedger.readPlan`) it
   * takes the records up to that sequence number only: a page that goes past it is cut there, and the
   * iterator is dropped, so the next read starts after the last record taken.
   */
  private async readShard(ledger: FrontierLedger, shardId: string, limit?: string): Promise<void> {
    const { streams } = this.deps;
    const shard = ledger.shards.get(shardId);
    if (!shard) return;
    let readRecords = false;
    for (let page = 0; page < this.deps.config.maxPagesPerShard; page++) {
      let iterator = this.iterators.get(shardId);
      try {
        if (iterator === undefined) {
          iterator = await streams.iterator(shardId, shard.lastSeen);
          ledger.resetStreak(shardId);
        }
        const startedAt = this.deps.now();
        const out = await streams.records(shardId, iterator);
        const within = (r: { sequenceNumber: string }) => padSequence(r.sequenceNumber) <= (limit as string);
        if (limit !== undefined && !out.records.every(within)) {
          // Past the limit: take what is within it; the next read starts after the last record taken.
          const kept = out.records.filter(within);
          if (kept.length > 0) ledger.ingest(shardId, kept, this.deps.now());
          this.iterators.delete(shardId);
          return;
        }
        if (out.records.length > 0) {
          ledger.ingest(shardId, out.records, this.deps.now());
          readRecords = true;
        }
        if (out.next === undefined) {
          this.iterators.delete(shardId);
          ledger.endOfShard(shardId, startedAt);
          return;
        }
        this.iterators.set(shardId, out.next);
        if (out.records.length > 0) {
          // A page the store says holds every record visible when it started is a read to the tip.
          if (out.tip === true && ledger.pageTip(shardId, startedAt)) return;
          continue;
        }
        const { tip, streak } = ledger.emptyPage(shardId, startedAt);
        if (tip || readRecords || streak.pages >= ledger.tipSettings.tipEmptyPages) return;
      } catch (err) {
        this.iterators.delete(shardId);
        ledger.resetStreak(shardId);
        if (err instanceof IteratorExpiredError) continue;
        if (err instanceof TrimmedDataError) {
          // Records between our position and the trim horizon are gone: count it (alarm) and go on
          // from the oldest record still there; the lost records are the sync Lambda's loss too.
          ledger.trimmed(shardId);
          this.trimmedUnread.add(shardId);
          this.iterators.set(shardId, await streams.iterator(shardId, undefined));
          continue;
        }
        throw err;
      }
    }
  }

  /** Progress markers and waivers, and with `items` the new items of records waiting for evidence. */
  private async gatherEvidence(ledger: FrontierLedger, items: boolean): Promise<void> {
    const { evidence, now } = this.deps;
    const cursor = ledger.markerCursor(now());
    if (cursor !== undefined) {
      for (const m of await evidence.markers(cursor)) ledger.applyMarker(m.sk, m);
    }
    // Waivers are read once a step (a waiver written meanwhile counts in the next step); the second
    // gathering re-applies them to the records this step read.
    if (!items) this.waived = new Set(await evidence.waivers());
    ledger.applyWaivers(this.waived);
    if (items) await this.gatherItemEvidence(ledger);
  }

  /** The new items of records waiting for evidence (old enough, dead-lettered or suspected late). */
  private async gatherItemEvidence(ledger: FrontierLedger): Promise<void> {
    const { evidence, config, now, mapKey } = this.deps;
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

  /**
   * Versioned put of FRONTIER; `gapOf` gives the gap to write over what is stored (the recovery closes a
   * gap by a versioned write of the same item, so a conflict may be a closed gap).
   */
  private async publish(
    frontier: number,
    shards: ShardFrontier[],
    violations: Record<string, number>,
    at: number,
    gapOf: (current: FrontierState | undefined) => StreamGap | undefined,
  ): Promise<void> {
    const doc = (current: FrontierState | undefined, f: number) => {
      const gap = gapOf(current);
      return {
        migrationId: this.deps.migrationId,
        frontier: frontierUnderGap(f, gap),
        computedAt: at,
        shards,
        violations,
        ...(gap ? { gap } : {}),
      };
    };
    try {
      this.frontier = await this.deps.store.putFrontier(
        doc(this.frontier, frontier),
        this.frontier?.version ?? 0,
      );
    } catch (err) {
      // Someone else wrote FRONTIER (a second tracker, or the recovery closing a gap): re-read, and
      // publish only if still ahead or a gap is to be opened, so F stays monotone and a gap is kept.
      const current = await this.deps.store.getFrontier();
      this.frontier = current;
      if (!current) throw err;
      const next = doc(current, Math.max(frontier, current.frontier));
      if (next.frontier <= current.frontier && JSON.stringify(next.gap) === JSON.stringify(current.gap))
        return;
      this.frontier = await this.deps.store.putFrontier(next, current.version);
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
