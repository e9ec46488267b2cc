/**
 * The frontier tracker's knowledge of the stream, one ledger per shard: records read (in shard order),
 * which are known applied and from what evidence, reads to the tip (probes), lineage, and the
 * assumption checks. Pure and synchronous: the tracker (`frontier-tracker.ts`) feeds it what the
 * streams API, the progress markers, waivers and the new table say, and reads `FrontierInput` from it.
 *
 * Every check of an assumption beyond DynamoDB's per-item order (docs/correctness.md, "Frontier") is
 * counted here as a `FrontierViolation`.
 */
import type { ShardFrontier } from '../control';
import {
  type FrontierConfig,
  type FrontierInput,
  type ShardInput,
  creationLowerBound,
  creationUpperBound,
} from './math';
import {
  DEFAULT_TIP_SETTINGS,
  type EmptyPageOutcome,
  type EmptyStreak,
  type TipSettings,
  emptyPage,
} from './tip';
import {
  padSequence,
  type Item,
  type JsonItem,
  canonicalItem,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../model';
import type { AppliedMarker } from '../cdc';

/** Kinds of assumption violations the tracker detects. */
export const FrontierViolation = {
  /** A1: a shard returned a sequence number not greater than the previous one. */
  SEQUENCE_NOT_INCREASING: 'SequenceNotIncreasing',
  /** A8: a sequence number already read on another shard (markers name a shard by one). */
  SEQUENCE_NOT_UNIQUE: 'SequenceNotUnique',
  /**
   * A5, order across a split: a child's record for an item is older than the parent's last one for it,
   * or a child's record was certainly created before the parent's last record.
   */
  CHILD_BEHIND_PARENT: 'ChildBehindParent',
  /** A2: a record's approximate creation time (floored) is later than when it was read. */
  CREATION_TIME_AHEAD: 'CreationTimeAhead',
  /**
   * A late record: read after a published `F` had passed its creation time (certainly: its floored
   * creation time plus the granularity is at most `F`), and not applied when that `F` was published —
   * the published `F` was wrong (T1, A3 or A4 failed). Counted once the evidence shows it was not
   * applied then: its progress marker was written after the publish, or its new item still lacks it.
   */
  LATE_RECORD: 'LateRecord',
  /** Marker contract: `first` and `last` are not records of the same shard. */
  MARKER_SPANS_SHARDS: 'MarkerSpansShards',
  /** Marker contract: the shard holds a different number of records from `first` to `last` than `count`. */
  MARKER_COUNT_MISMATCH: 'MarkerCountMismatch',
  /** The reader fell behind the 24 h trim horizon: records were lost unread. */
  TRIMMED_UNREAD: 'TrimmedUnread',
} as const;
export type FrontierViolation = (typeof FrontierViolation)[keyof typeof FrontierViolation];

/** A stream record as the tracker sees it. */
export interface TrackedRecordInput {
  /** Sequence number as the stream gives it (unpadded or padded). */
  readonly sequenceNumber: string;
  /** `ApproximateCreationDateTime`, epoch ms. */
  readonly approxCreationMs: number;
  /** The legacy key of the item. */
  readonly keys: Item;
}

/** How a pending record came to be known applied. */
export const Evidence = { MARKER: 'marker', ITEM: 'item', WAIVER: 'waiver' } as const;
export type Evidence = (typeof Evidence)[keyof typeof Evidence];

interface PendingRecord {
  readonly seq: string;
  readonly approxCreationMs: number;
  readonly keys: Item;
  readonly receivedAt: number;
  evidence?: Evidence;
  /** Listed as failed by a progress marker: dead-lettered unless later evidence says otherwise. */
  deadLettered: boolean;
  /** When the marker that listed it as failed was written (retries follow within minutes). */
  deadLetteredAt?: number;
  /**
   * Read after a published `F` passed its creation time: the time of the first publish that did. It is
   * a late record if it was not applied by then (decided when its evidence comes).
   */
  lateSince?: number;
}

interface Probe {
  /** Start of the read that found the tip, minus the propagation margin. */
  readonly caughtUpIfApplied: number;
  /** Last sequence number seen when the read found the tip; undefined if none. */
  readonly reached?: string;
}

/** The persisted part of a shard ledger (`SHARD#<shardId>` control item). */
export interface PersistedShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly closed: boolean;
  /** Closed, read to its end and every record applied: never read again. */
  readonly complete: boolean;
  /** Padded sequence number of the last record of the applied prefix; the reader resumes after it. */
  readonly appliedThrough?: string;
  /** Approximate creation time of that record (the shard is caught up to its bound). */
  readonly appliedThroughApproxMs?: number;
  /** Padded sequence number of the last record read (a restart re-reading up to it knows them). */
  readonly readThrough?: string;
  /**
   * The first record not known applied when saved: after a restart it caps the shard until the applied
   * prefix passes it, even if the records waiting were too many to save (a probe bound never passes a
   * record known unapplied).
   */
  readonly firstUnapplied?: { readonly seq: string; readonly approxCreationMs: number };
  /** When the tracker first saw the shard closed (listing or end of shard). */
  readonly closedSeenAt?: number;
  /** A child of this shard has been listed. */
  readonly childListed?: boolean;
  /** Epoch ms before which every record of the shard is known applied (probe-based bound). */
  readonly caughtUpByProbe: number;
  readonly pending: number;
  readonly deadLettered: number;
  /** Violations counted on this shard, by kind, over the tracker's lifetime. */
  readonly violations: Readonly<Record<string, number>>;
  readonly updatedAt: number;
  /** Epoch seconds (control-table TTL): refreshed on every save, so only forgotten shards expire. */
  readonly expiresAt?: number;
  /**
   * Padded sequence number of the last record read, and the records read but not known applied, when
   * there are few of them: a restart then resumes after `lastSeen` instead of re-reading everything
   * after `appliedThrough` (which a long-held dead-lettered record would make hours of records).
   */
  readonly lastSeen?: string;
  readonly waiting?: ReadonlyArray<{
    readonly seq: string;
    readonly approxCreationMs: number;
    /** The legacy key as DynamoDB JSON (user data is never decoded into control values). */
    readonly keys: JsonItem;
    readonly deadLetteredAt?: number;
    /** See `lateSince` of a pending record. */
    readonly lateSince?: number;
  }>;
}

/** A record whose new item the tracker should look up for evidence. */
export interface EvidenceCandidate {
  readonly shardId: string;
  readonly seq: string;
  readonly keys: Item;
}

/** Entries kept per shard for the per-item check across splits; beyond this the check is skipped. */
const MAX_TRACKED_KEYS = 200_000;
/** Probes kept per shard while records are pending; older ones are dropped (conservative). */
const MAX_PROBES = 1_000;
/**
 * How long after a record was reported failed its retries may still produce markers that start with
 * it. After that, a dead-lettered record is released only by item evidence (a replay writes the item)
 * or a waiver, so markers are no longer listed from it: the listing stays bounded while it is held.
 */
const RETRY_WINDOW_MS = 10 * 60_000;
/** `SHARD#` items of shards the tracker stopped saving expire after this (the stream keeps 24 h). */
const SHARD_ITEM_TTL_SECONDS = 7 * 24 * 3600;
/** Waiting records saved in a `SHARD#` item at most (keeps it far below DynamoDB's 400 KB). */
const MAX_SAVED_WAITING = 200;
/** Publishes of `F` remembered for deciding late records. */
const MAX_PUBLISHES = 10_000;
/** Forgotten shard ids remembered (a trimmed shard is not listed again in practice). */
const MAX_FORGOTTEN = 10_000;

/** One shard's ledger. */
export class ShardLedger {
  closed: boolean;
  readToEnd = false;
  appliedThrough?: string;
  appliedThroughApproxMs?: number;
  lastSeen?: string;
  caughtUpByProbe: number;
  /** The first unapplied record as saved before a restart, until the applied prefix passes it. */
  hold?: { readonly seq: string; readonly approxCreationMs: number };
  /** Consecutive empty pages on the current iterator (tip detection, in memory only). */
  streak?: EmptyStreak;
  closedSeenAt?: number;
  childListed: boolean;
  readonly pending: PendingRecord[] = [];
  readonly probes: Probe[] = [];
  /** Every sequence number seen by this process, in shard order (for marker checks). */
  readonly seen: string[] = [];
  readonly lastSeqByKey = new Map<string, string>();
  readonly violations: Record<string, number>;
  /**
   * After a restart from `waiting`: `seen` lists every record above this sequence number, but below it
   * only the waiting ones, so a marker starting there cannot be checked against the shard.
   */
  seenCompleteAbove?: string;
  /** Taken as trimmed (missing from a listing after it was seen closed). */
  trimmed = false;
  /** Approximate creation time of the last record read by this process. */
  lastApproxMs?: number;
  /** After a restart: the last record an earlier run of the tracker had read. */
  readonly readThrough?: string;

  constructor(
    readonly shardId: string,
    readonly parentShardId: string | undefined,
    closed: boolean,
    restored?: PersistedShard,
  ) {
    this.closed = closed || (restored?.closed ?? false);
    this.appliedThrough = restored?.appliedThrough;
    this.appliedThroughApproxMs = restored?.appliedThroughApproxMs;
    this.lastSeen = restored?.appliedThrough;
    this.closedSeenAt = restored?.closedSeenAt;
    this.readThrough = restored?.readThrough ?? restored?.lastSeen;
    this.childListed = restored?.childListed ?? false;
    const held = restored?.firstUnapplied;
    if (held && (this.appliedThrough === undefined || held.seq > this.appliedThrough)) this.hold = held;
    if (restored?.waiting && restored.lastSeen !== undefined) {
      // Resume after the last record read; the records still waiting come back from the item. They
      // are offered to item evidence at once (receivedAt 0): their markers may predate the restart.
      this.lastSeen = restored.lastSeen;
      this.seenCompleteAbove = restored.lastSeen;
      for (const w of restored.waiting) {
        this.pending.push({
          seq: w.seq,
          approxCreationMs: w.approxCreationMs,
          keys: itemFromDynamoJson(w.keys),
          receivedAt: 0,
          deadLettered: w.deadLetteredAt !== undefined,
          ...(w.deadLetteredAt === undefined ? {} : { deadLetteredAt: w.deadLetteredAt }),
          ...(w.lateSince === undefined ? {} : { lateSince: w.lateSince }),
        });
        this.seen.push(w.seq);
      }
    }
    this.caughtUpByProbe = restored?.caughtUpByProbe ?? 0;
    this.violations = { ...(restored?.violations ?? {}) };
    if (restored?.complete) this.readToEnd = true;
  }

  /** Closed, read to its end and every record applied. */
  get complete(): boolean {
    return this.closed && this.readToEnd && this.firstUnapplied() === undefined;
  }

  count(kind: FrontierViolation, n = 1): void {
    this.violations[kind] = (this.violations[kind] ?? 0) + n;
  }

  get violationTotal(): number {
    return Object.values(this.violations).reduce((a, b) => a + b, 0);
  }

  /** Position in `seen` of the first sequence number >= `seq`. */
  seenIndex(seq: string): number {
    let lo = 0;
    let hi = this.seen.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seen[mid] as string) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  hasSeen(seq: string): boolean {
    return this.seen[this.seenIndex(seq)] === seq;
  }

  /**
   * The first record not known applied, in shard order: the first pending one without evidence, or the
   * record held from before a restart if it comes first.
   */
  firstUnapplied(): { readonly seq: string; readonly approxCreationMs: number } | undefined {
    const first = this.pending.find((r) => r.evidence === undefined);
    if (!this.hold) return first;
    if (!first || this.hold.seq < first.seq) return this.hold;
    return first;
  }

  /** Moves leading applied records into the applied prefix and folds the probes that it satisfies. */
  settle(): void {
    while (this.pending.length > 0 && this.pending[0]?.evidence !== undefined) {
      const r = this.pending.shift() as PendingRecord;
      this.appliedThrough = r.seq;
      this.appliedThroughApproxMs = r.approxCreationMs;
    }
    if (this.hold && this.appliedThrough !== undefined && this.appliedThrough >= this.hold.seq) {
      delete this.hold;
    }
    const first = this.pending[0]?.seq;
    // A probe that had seen nothing beyond the applied prefix proves the shard caught up at its time.
    while (this.probes.length > 0) {
      const probe = this.probes[0] as Probe;
      if (first !== undefined && probe.reached !== undefined && probe.reached >= first) break;
      this.caughtUpByProbe = Math.max(this.caughtUpByProbe, probe.caughtUpIfApplied);
      this.probes.shift();
    }
  }

  /** The frontier math's view of this shard at `now`. */
  input(now: number, childListingWaitMs: number): ShardInput {
    const first = this.firstUnapplied();
    const awaitingChildren =
      this.closed &&
      this.readToEnd &&
      !this.childListed &&
      now - (this.closedSeenAt ?? now) < childListingWaitMs;
    return {
      shardId: this.shardId,
      ...(this.parentShardId === undefined ? {} : { parentShardId: this.parentShardId }),
      closed: this.closed,
      readToEnd: this.readToEnd,
      caughtUpByProbe: this.caughtUpByProbe,
      ...(this.appliedThroughApproxMs === undefined
        ? {}
        : { lastAppliedApproxMs: this.appliedThroughApproxMs }),
      ...(first === undefined ? {} : { firstUnappliedApproxMs: first.approxCreationMs }),
      ...(awaitingChildren ? { awaitingChildren } : {}),
    };
  }

  get deadLettered(): number {
    return this.pending.filter((r) => r.deadLettered && r.evidence === undefined).length;
  }

  get unapplied(): number {
    return this.pending.filter((r) => r.evidence === undefined).length;
  }
}

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
      const waiting = this.waitingForMarker(s, now);
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

  /** The first record of a shard a marker could still prove applied. */
  private waitingForMarker(s: ShardLedger, now: number): string | undefined {
    for (const r of s.pending) {
      if (r.evidence !== undefined) continue;
      if (r.deadLettered && now - (r.deadLetteredAt ?? 0) > RETRY_WINDOW_MS) continue;
      return r.seq;
    }
    return undefined;
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
      const waiting = this.waitingForMarker(s, now);
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
   * Applies a progress marker. Returns false if the tracker cannot use it yet (its records are not read
   * yet, or it names records this process never saw); it is then offered again with the next listing.
   * A marker that contradicts the shard's records (its `last` is not a record of `first`'s shard, or it
   * counts a different number of records between them) proves nothing: it is counted and ignored, and
   * its records wait for item evidence.
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
    if (!lastKnown && !readPast && !shard.readToEnd) return false; // the tracker has not read that far yet
    this.doneMarkers.add(id);
    if (shard.seenCompleteAbove !== undefined && marker.first <= shard.seenCompleteAbove) {
      // Starts among records read before a restart: it cannot be checked against the shard, so it is
      // not used (the waiting records it names are offered to item evidence at once instead).
      return true;
    }
    if (!lastKnown) {
      // On a shard taken as trimmed before it was read to its end, the records it names were lost
      // unread (counted as TrimmedUnread); otherwise the marker contradicts the shard.
      if (!shard.trimmed) shard.count(FrontierViolation.MARKER_SPANS_SHARDS);
      return true;
    }
    const inRange = shard.seenIndex(marker.last) + 1 - shard.seenIndex(marker.first);
    if (inRange !== marker.count) {
      shard.count(FrontierViolation.MARKER_COUNT_MISMATCH);
      return true;
    }
    const failed = new Set(marker.failed);
    for (const r of shard.pending) {
      if (r.seq < marker.first) continue;
      if (r.seq > marker.last) break;
      if (failed.has(r.seq)) {
        if (r.evidence === undefined) {
          r.deadLettered = true;
          r.deadLetteredAt = Math.max(r.deadLetteredAt ?? 0, marker.at);
        }
      } else if (r.evidence === undefined) {
        r.evidence = Evidence.MARKER;
        // Applied by a batch whose marker was written after F passed the record: late.
        this.settleLate(shard, r, r.lateSince !== undefined && marker.at > r.lateSince);
      }
    }
    shard.settle();
    return true;
  }

  /** Decides a late-record suspect: counts it if it was late, and forgets the suspicion either way. */
  private settleLate(shard: ShardLedger, r: PendingRecord, late: boolean): void {
    if (r.lateSince === undefined) return;
    if (late) shard.count(FrontierViolation.LATE_RECORD);
    delete r.lateSince;
  }

  /** Marks waived records applied. */
  applyWaivers(waived: ReadonlySet<string>): void {
    if (waived.size === 0) return;
    for (const shard of this.shards.values()) {
      let changed = false;
      for (const r of shard.pending) {
        if (r.evidence === undefined && waived.has(r.seq)) {
          r.evidence = Evidence.WAIVER;
          // When it was waived is not known here: not counted (a waiver is an operator's decision).
          this.settleLate(shard, r, false);
          changed = true;
        }
      }
      if (changed) shard.settle();
    }
  }

  /**
   * Pending records to check against the new table: per shard, the first `perShard` unapplied records
   * that are older than `minAgeMs`, dead-lettered, or suspected late (since markers normally arrive
   * first, but these are decided by their item).
   */
  evidenceCandidates(now: number, minAgeMs: number, perShard: number): EvidenceCandidate[] {
    const out: EvidenceCandidate[] = [];
    for (const shard of this.shards.values()) {
      let n = 0;
      for (const r of shard.pending) {
        if (n >= perShard) break;
        if (r.evidence !== undefined) continue;
        if (!r.deadLettered && r.lateSince === undefined && now - r.receivedAt < minAgeMs) continue;
        out.push({ shardId: shard.shardId, seq: r.seq, keys: r.keys });
        n++;
      }
    }
    return out;
  }

  /**
   * Item evidence: the new item carries `_dr_seq = itemSeq` (undefined: no item). An item with an older
   * sequence number proves nothing applied; for a record suspected late, it proves the record was not
   * applied when `F` passed it (applied records stay applied), so it is counted late.
   */
  applyItemSequence(shardId: string, seq: string, itemSeq: string | undefined): void {
    const shard = this.must(shardId);
    const r = shard.pending.find((p) => p.seq === seq);
    if (!r || r.evidence !== undefined) return;
    if (itemSeq === undefined || itemSeq < seq) {
      this.settleLate(shard, r, true);
      return;
    }
    r.evidence = Evidence.ITEM;
    // Applied, but when is unknown (an item carries no apply time): not counted.
    this.settleLate(shard, r, false);
    shard.settle();
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
    return [...this.shards.values()].map((s) => {
      const first = s.firstUnapplied();
      return {
        shardId: s.shardId,
        ...(s.parentShardId === undefined ? {} : { parentShardId: s.parentShardId }),
        closed: s.closed,
        complete: s.complete,
        ...(s.appliedThrough === undefined ? {} : { appliedThrough: s.appliedThrough }),
        ...(s.appliedThroughApproxMs === undefined
          ? {}
          : { appliedThroughApproxMs: s.appliedThroughApproxMs }),
        ...(first === undefined
          ? {}
          : { firstUnapplied: { seq: first.seq, approxCreationMs: first.approxCreationMs } }),
        ...(s.lastSeen === undefined ? {} : { readThrough: s.lastSeen }),
        ...(s.closedSeenAt === undefined ? {} : { closedSeenAt: s.closedSeenAt }),
        ...(s.childListed ? { childListed: true } : {}),
        caughtUpByProbe: s.caughtUpByProbe,
        pending: s.unapplied,
        deadLettered: s.deadLettered,
        violations: { ...s.violations },
        updatedAt: now,
        expiresAt: Math.floor(now / 1000) + SHARD_ITEM_TTL_SECONDS,
        ...waitingOf(s),
      };
    });
  }

  /** Per-shard detail for the FRONTIER item. */
  detail(caughtUp: ReadonlyMap<string, { status: string; caughtUpTo: number }>): ShardFrontier[] {
    return [...this.shards.values()]
      .filter((s) => caughtUp.get(s.shardId)?.status !== 'complete')
      .map((s) => {
        const c = caughtUp.get(s.shardId);
        const first = s.firstUnapplied();
        return {
          shardId: s.shardId,
          caughtUpTo: c && Number.isFinite(c.caughtUpTo) ? c.caughtUpTo : 0,
          closed: s.closed,
          ...(s.appliedThrough === undefined ? {} : { appliedThrough: s.appliedThrough }),
          pending: s.unapplied,
          deadLettered: s.deadLettered,
          ...(s.parentShardId === undefined ? {} : { parentShardId: s.parentShardId }),
          ...(c ? { status: c.status } : {}),
          ...(first ? { firstUnapplied: first.seq } : {}),
          violations: s.violationTotal,
        };
      });
  }

  private must(shardId: string): ShardLedger {
    const s = this.shards.get(shardId);
    if (!s) throw new RangeError(`shard ${shardId} is not listed; list the stream first`);
    return s;
  }
}

/** The `lastSeen`/`waiting` part of a persisted shard, when few records are waiting. */
function waitingOf(s: ShardLedger): Pick<PersistedShard, 'lastSeen' | 'waiting'> {
  if (s.lastSeen === undefined || s.lastSeen === s.appliedThrough) return {};
  const waiting = s.pending.filter((r) => r.evidence === undefined);
  if (waiting.length > MAX_SAVED_WAITING) return {};
  return {
    lastSeen: s.lastSeen,
    waiting: waiting.map((r) => ({
      seq: r.seq,
      approxCreationMs: r.approxCreationMs,
      keys: itemToDynamoJson(r.keys),
      ...(r.deadLetteredAt === undefined ? {} : { deadLetteredAt: r.deadLetteredAt }),
      ...(r.lateSince === undefined ? {} : { lateSince: r.lateSince }),
    })),
  };
}
