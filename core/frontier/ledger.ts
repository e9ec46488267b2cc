/**
 * The frontier tracker's knowledge of the stream: a ledger per shard (`shard-ledger.ts`) and what spans
 * shards — the listing and lineage (read order, closed and trimmed shards), the records of each
 * GetRecords page with the assumption checks (`violations.ts`), the tip (`tip.ts`), which marker
 * belongs to which shard (`evidence.ts` applies it), the publishes of `F` that decide late records,
 * and the input of the frontier math. Pure and synchronous: the tracker (`tracker.ts`) feeds it what
 * the streams API, the progress markers, waivers and the new table say, and reads `FrontierInput` from
 * it.
 *
 * Every check of an assumption beyond DynamoDB's per-item order (docs/correctness.md, "Frontier") is
 * counted as a `FrontierViolation`.
 *
 * Size (just over 400 lines): what spans shards, kept in one place because the assumption checks read
 * all of it; the per-shard ledger, the evidence rules and the math are their own modules.
 */
import type { ShardFrontier } from '../control';
import { type FrontierConfig, type FrontierInput, creationLowerBound, creationUpperBound } from './math';
import { DEFAULT_TIP_SETTINGS, type EmptyPageOutcome, type TipSettings, emptyPage } from './tip';
import { padSequence, canonicalItem } from '../model';
import type { AppliedMarker } from '../cdc';
import {
  itemEvidence,
  itemEvidenceCandidates,
  markerEvidence,
  gapEvidence,
  waiverEvidence,
  waitingForMarker,
} from './evidence';
import type { EvidenceCandidate, TrackedRecordInput } from './records';
import { type PersistedShard, ShardLedger, persistedShard, shardDetail } from './shard-ledger';
import { FrontierViolation } from './violations';

/** Entries kept per shard for the per-item check across splits; beyond this the check is skipped. */
const MAX_TRACKED_KEYS = 200_000;
/** Probes kept per shard while records are pending; older ones are dropped (conservative). */
const MAX_PROBES = 1_000;
/** Publishes of `F` remembered for deciding late records. */
const MAX_PUBLISHES = 10_000;
/** Forgotten shard ids remembered (a trimmed shard is not listed again in practice). */
const MAX_FORGOTTEN = 10_000;

/** Settings of the ledger. */
export interface LedgerConfig extends FrontierConfig, Partial<TipSettings> {
  /** Tolerance of clock differences between the tracker and DynamoDB (for the A2 check). */
  readonly clockSkewMs: number;
  /**
   * How many records before the first record waiting for a marker a marker may start and still
   * cover it (a batch that begins with records already known applied). At least the sync Lambda's
   * batch size; a marker starting earlier is missed and item evidence proves its records instead.
   * @default 1000
   */
  readonly markerLookbackRecords?: number;
  /** How long a closed shard with no listed child keeps constraining `F` (A4). @default 300000 */
  readonly childListingWaitMs?: number;
}

/** Defaults of the ledger's optional settings. */
export const DEFAULT_CHILD_LISTING_WAIT_MS = 300_000;

/** The tracker's knowledge of every shard. */
export class FrontierLedger {
  readonly shards = new Map<string, ShardLedger>();
  /** Sequence number -> shard, for records seen by this process (markers name records, not shards). */
  private readonly shardOfSeq = new Map<string, string>();
  private readonly doneMarkers = new Set<string>();
  /** Every increase of the published `F` known to this process, in order (`F` is monotone). */
  private readonly publishes: Array<{ readonly frontier: number; readonly at: number }> = [];
  /** Violations counted on shards since forgotten (trimmed and complete). */
  private readonly retired: Record<string, number> = {};
  /** Shards forgotten as trimmed: a later listing that shows one again does not bring it back. */
  private readonly forgotten = new Set<string>();
  private readonly tip: TipSettings;

  constructor(
    readonly config: LedgerConfig,
    restored: readonly PersistedShard[] = [],
  ) {
    this.tip = {
      tipEmptyPages: config.tipEmptyPages ?? DEFAULT_TIP_SETTINGS.tipEmptyPages,
      tipMinSpanMs: config.tipMinSpanMs ?? DEFAULT_TIP_SETTINGS.tipMinSpanMs,
    };
    for (const p of restored) {
      const shard = new ShardLedger(p.shardId, p.parentShardId, p.closed, p);
      this.shards.set(p.shardId, shard);
      for (const seq of shard.seen) this.shardOfSeq.set(seq, p.shardId);
    }
  }

  /**
   * The published `F` as read from the FRONTIER item at start: its value and time, and its violation
   * counts (the part counted on shards already forgotten is kept).
   */
  restorePublished(frontier: number, at: number, violations: Readonly<Record<string, number>> = {}): void {
    if (frontier > 0) this.notePublished(frontier, at);
    const onShards = this.violations();
    for (const [k, v] of Object.entries(violations)) {
      const gone = v - (onShards[k] ?? 0);
      if (gone > 0) this.retired[k] = (this.retired[k] ?? 0) + gone;
    }
  }

  /** `F` was published (moved forward) at `at`. */
  notePublished(frontier: number, at: number): void {
    const last = this.publishes[this.publishes.length - 1];
    if (last && frontier <= last.frontier) return;
    this.publishes.push({ frontier, at });
  }

  /** The time of the first known publish of an `F` at or above `time`, if any. */
  private passedAt(time: number): number | undefined {
    let lo = 0;
    let hi = this.publishes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.publishes[mid] as { frontier: number }).frontier < time) lo = mid + 1;
      else hi = mid;
    }
    return this.publishes[lo]?.at;
  }

  /**
   * Takes a DescribeStream listing that started at `listedAt`: adds new shards, records closings and
   * which closed shards have a child listed.
   */
  list(
    shards: ReadonlyArray<{ shardId: string; parentShardId?: string; closed: boolean }>,
    listedAt: number,
  ): void {
    for (const s of shards) {
      if (this.forgotten.has(s.shardId)) continue;
      const known = this.shards.get(s.shardId);
      if (known) {
        if (s.closed) known.closed = true;
      } else {
        this.shards.set(s.shardId, new ShardLedger(s.shardId, s.parentShardId, s.closed));
      }
      const shard = this.shards.get(s.shardId) as ShardLedger;
      if (shard.closed) shard.closedSeenAt ??= listedAt;
    }
    for (const s of shards) {
      const parent = s.parentShardId === undefined ? undefined : this.shards.get(s.parentShardId);
      if (parent) parent.childListed = true;
    }
    // A shard missing from this answer: DescribeStream does not always list every shard, so an open one
    // (as far as we know) still holds F and is read on. Only one seen closed before is taken as trimmed
    // (24 h after it closed): nothing more can be read from it; if it was not read to its end, records
    // were lost unread (counted). Once it holds nothing unapplied it is complete; if it is complete it
    // is forgotten (its SHARD# item expires by TTL).
    const listed = new Set(shards.map((s) => s.shardId));
    for (const known of [...this.shards.values()]) {
      if (listed.has(known.shardId) || !known.closed) continue;
      if (!known.readToEnd) known.count(FrontierViolation.TRIMMED_UNREAD);
      known.trimmed = true;
      known.readToEnd = true;
      known.childListed = true; // its children were listed long ago, or are trimmed too
      known.streak = undefined;
      if (known.complete) this.forget(known);
    }
  }

  private forget(shard: ShardLedger): void {
    for (const [k, v] of Object.entries(shard.violations)) this.retired[k] = (this.retired[k] ?? 0) + v;
    for (const seq of shard.seen) this.shardOfSeq.delete(seq);
    this.shards.delete(shard.shardId);
    if (this.forgotten.size >= MAX_FORGOTTEN) this.forgotten.clear();
    this.forgotten.add(shard.shardId);
  }

  /** Shards to read, parents before children (a child is read only once its parent is known to us). */
  readOrder(): ShardLedger[] {
    const out: ShardLedger[] = [];
    const placed = new Set<string>();
    const visit = (s: ShardLedger, depth: number): void => {
      if (placed.has(s.shardId) || depth > 1000) return;
      const parent = s.parentShardId === undefined ? undefined : this.shards.get(s.parentShardId);
      if (parent) visit(parent, depth + 1);
      placed.add(s.shardId);
      out.push(s);
    };
    for (const s of this.shards.values()) visit(s, 0);
    return out;
  }

  /** Records the records of one GetRecords page, read at `receivedAt`, with the assumption checks. */
  ingest(shardId: string, records: readonly TrackedRecordInput[], receivedAt: number): void {
    const shard = this.must(shardId);
    const parent = shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
    const g = this.config.creationGranularityMs;
    if (records.length > 0) shard.streak = undefined;
    for (const r of records) {
      const seq = padSequence(r.sequenceNumber);
      if (shard.lastSeen !== undefined && seq <= shard.lastSeen) {
        shard.count(FrontierViolation.SEQUENCE_NOT_INCREASING);
        continue; // a repeat or a reordering: keep the ledger ordered; the count raises the alarm
      }
      if (creationLowerBound(r.approxCreationMs, g) > receivedAt + this.config.clockSkewMs) {
        shard.count(FrontierViolation.CREATION_TIME_AHEAD);
      }
      const key = canonicalItem(r.keys);
      const parentLast = parent?.lastSeqByKey.get(key);
      const beforeParentEnd =
        parent?.lastApproxMs !== undefined &&
        creationUpperBound(r.approxCreationMs, g) <= creationLowerBound(parent.lastApproxMs, g);
      if ((parentLast !== undefined && parentLast > seq) || beforeParentEnd) {
        shard.count(FrontierViolation.CHILD_BEHIND_PARENT);
      }
      if (shard.lastSeqByKey.size < MAX_TRACKED_KEYS || shard.lastSeqByKey.has(key)) {
        shard.lastSeqByKey.set(key, seq);
      }
      const other = this.shardOfSeq.get(seq);
      if (other !== undefined && other !== shardId) shard.count(FrontierViolation.SEQUENCE_NOT_UNIQUE);
      shard.lastSeen = seq;
      shard.lastApproxMs = r.approxCreationMs;
      shard.seen.push(seq);
      this.shardOfSeq.set(seq, shardId);
      // Created certainly before an F already published: the tracker did not know this record when it
      // published. If it was not applied by then, that F was wrong (a late record, counted once the
      // evidence says so). Records known before a publish never get here: F never passes them; and a
      // record re-read after a restart was known to the tracker before (decided then, or saved with
      // its suspicion in `waiting`).
      const known = shard.readThrough !== undefined && seq <= shard.readThrough;
      const lateSince = known ? undefined : this.passedAt(creationUpperBound(r.approxCreationMs, g));
      shard.pending.push({
        seq,
        approxCreationMs: r.approxCreationMs,
        keys: r.keys,
        receivedAt,
        deadLettered: false,
        ...(lateSince === undefined ? {} : { lateSince }),
      });
    }
  }

  /**
   * An empty GetRecords page that started at `startedAt`: extends the shard's streak of empty pages and,
   * if the streak is long enough (core/frontier/tip.ts), records a probe at the page's start.
   */
  emptyPage(shardId: string, startedAt: number): EmptyPageOutcome {
    const shard = this.must(shardId);
    const outcome = emptyPage(shard.streak, startedAt, this.tip);
    shard.streak = outcome.streak;
    // A closed shard's tip is its end (no next iterator), never an empty page: empty pages there are
    // portions before more records or the end, and a probe would claim times after it closed.
    if (shard.closed) return { ...outcome, tip: false };
    if (outcome.tip) this.probe(shardId, startedAt);
    return outcome;
  }

  /**
   * A page with records that the store says held every record visible when it started (`StreamsPort`'s
   * `tip`, DynamoDB Local only): a probe at its start, as a tip page would be. Not on a closed shard,
   * whose tip is its end. Returns whether it counted.
   */
  pageTip(shardId: string, startedAt: number): boolean {
    if (this.must(shardId).closed) return false;
    this.probe(shardId, startedAt);
    return true;
  }

  /** The reader got a new iterator for the shard (or a call failed): its streak of empty pages ends. */
  resetStreak(shardId: string): void {
    const shard = this.shards.get(shardId);
    if (shard) shard.streak = undefined;
  }

  /** The tip settings in force. */
  get tipSettings(): TipSettings {
    return this.tip;
  }

  /** A read that started at `startedAt` found the tip of the shard (no further records visible). */
  probe(shardId: string, startedAt: number): void {
    const shard = this.must(shardId);
    shard.probes.push({
      caughtUpIfApplied: startedAt - this.config.propagationMarginMs,
      ...(shard.lastSeen === undefined ? {} : { reached: shard.lastSeen }),
    });
    if (shard.probes.length > MAX_PROBES) shard.probes.shift();
    shard.settle();
  }

  /**
   * GetRecords returned no next iterator at `at`: the (closed) shard has been read to its end. That is
   * no probe: the end of a closed shard says nothing about records written after it closed, which are
   * in its children (it stops constraining F once one of them is listed).
   */
  endOfShard(shardId: string, at: number): void {
    const shard = this.must(shardId);
    shard.readToEnd = true;
    shard.closed = true;
    shard.closedSeenAt ??= at;
    shard.streak = undefined;
    shard.settle();
  }

  /** The reader lost records to the trim horizon. */
  trimmed(shardId: string): void {
    this.must(shardId).count(FrontierViolation.TRIMMED_UNREAD);
  }

  /**
   * Lowest marker sort-key suffix (padded seq) that can still tell something about a pending record,
   * or undefined when no marker can (nothing is waiting for one).
   */
  markerCursor(now: number): string | undefined {
    let cursor: string | undefined;
    for (const s of this.shards.values()) {
      const waiting = waitingForMarker(s, now);
      if (waiting === undefined) continue;
      const from = this.lookback(s, s.seenIndex(waiting));
      if (cursor === undefined || from < cursor) cursor = from;
    }
    return cursor;
  }

  /** The sequence number `markerLookbackRecords` records before position `index` of `seen`. */
  private lookback(s: ShardLedger, index: number): string {
    const back = this.config.markerLookbackRecords ?? 1000;
    return (s.seen[Math.max(0, index - back)] ?? s.seen[index] ?? s.lastSeen ?? '') as string;
  }

  /**
   * Bounds memory of a long-lived tracker (a warm Lambda container runs for hours): collapses runs of
   * applied records behind an unapplied one to their last record (enough to advance the prefix), and
   * forgets sequence numbers and markers below what any marker still to come can name.
   */
  compact(now: number): void {
    let globalFrom: string | undefined;
    for (const s of this.shards.values()) {
      const kept = s.pending.filter(
        (r, i) => r.evidence === undefined || s.pending[i + 1]?.evidence === undefined,
      );
      if (kept.length !== s.pending.length) s.pending.splice(0, s.pending.length, ...kept);
      if (s.seen.length === 0) continue;
      const waiting = waitingForMarker(s, now);
      const from = this.lookback(s, waiting === undefined ? s.seen.length : s.seenIndex(waiting));
      const cut = s.seenIndex(from);
      for (const seq of s.seen.splice(0, cut)) this.shardOfSeq.delete(seq);
      if (globalFrom === undefined || from < globalFrom) globalFrom = from;
    }
    for (const id of this.doneMarkers) {
      if (globalFrom === undefined || id.slice(id.indexOf('#') + 1) < globalFrom) this.doneMarkers.delete(id);
    }
    // Publishes only matter for records read later; keep the recent ones (F is monotone, so dropping
    // the oldest only makes a late record's publish time later, never a false one).
    if (this.publishes.length > MAX_PUBLISHES)
      this.publishes.splice(0, this.publishes.length - MAX_PUBLISHES);
  }

  /**
   * Applies a progress marker (`markerEvidence`). Returns false if the tracker cannot use it yet (its
   * records are not read yet, or it names records this process never saw); it is then offered again
   * with the next listing.
   */
  applyMarker(
    id: string,
    marker: Pick<AppliedMarker, 'first' | 'last' | 'count' | 'failed' | 'at'>,
  ): boolean {
    if (this.doneMarkers.has(id)) return true;
    const shardId = this.shardOfSeq.get(marker.first);
    const shard = shardId === undefined ? undefined : this.shards.get(shardId);
    if (!shard) return false;
    const lastKnown = shard.hasSeen(marker.last);
    const readPast = shard.lastSeen !== undefined && shard.lastSeen >= marker.last;
    if (!lastKnown && !readPast && !shard.readToEnd) {
      // The tracker has not read that far yet: a held shard may read on up to the marker's last record.
      if (shard.markerAheadTo === undefined || marker.last > shard.markerAheadTo)
        shard.markerAheadTo = marker.last;
      return false;
    }
    this.doneMarkers.add(id);
    markerEvidence(shard, marker);
    return true;
  }

  /** A stream gap opened: the pending records count as settled by its recovery (`gapEvidence`). */
  settleForGap(): number {
    return [...this.shards.values()].reduce((n, s) => n + gapEvidence(s), 0);
  }

  /** Marks waived records applied. */
  applyWaivers(waived: ReadonlySet<string>): void {
    if (waived.size === 0) return;
    for (const shard of this.shards.values()) waiverEvidence(shard, waived);
  }

  /** Pending records to check against the new table, shard by shard (`itemEvidenceCandidates`). */
  evidenceCandidates(now: number, minAgeMs: number, perShard: number): EvidenceCandidate[] {
    return [...this.shards.values()].flatMap((s) => itemEvidenceCandidates(s, now, minAgeMs, perShard));
  }

  /** Item evidence for a record of a shard (`itemEvidence`). */
  applyItemSequence(shardId: string, seq: string, itemSeq: string | undefined): void {
    itemEvidence(this.must(shardId), seq, itemSeq);
  }

  /** The frontier math's input, for a listing that started at `listedAt`, at `now`. */
  input(listedAt: number, now: number): FrontierInput {
    const wait = this.config.childListingWaitMs ?? DEFAULT_CHILD_LISTING_WAIT_MS;
    return { shards: [...this.shards.values()].map((s) => s.input(now, wait)), listedAt };
  }

  /** Violations counted so far, by kind, over all shards (forgotten ones included). */
  violations(): Record<string, number> {
    const out: Record<string, number> = { ...this.retired };
    for (const s of this.shards.values())
      for (const [k, v] of Object.entries(s.violations)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** The persisted form of every shard. */
  persisted(now: number): PersistedShard[] {
    return [...this.shards.values()].map((s) => persistedShard(s, now));
  }

  /** Per-shard detail for the FRONTIER item. */
  detail(caughtUp: ReadonlyMap<string, { status: string; caughtUpTo: number }>): ShardFrontier[] {
    return [...this.shards.values()]
      .filter((s) => caughtUp.get(s.shardId)?.status !== 'complete')
      .map((s) => shardDetail(s, caughtUp.get(s.shardId)));
  }

  private must(shardId: string): ShardLedger {
    const s = this.shards.get(shardId);
    if (!s) throw new RangeError(`shard ${shardId} is not listed; list the stream first`);
    return s;
  }
}
