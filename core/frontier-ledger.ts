/**
 * The frontier tracker's knowledge of the stream, one ledger per shard: records read (in shard order),
 * which are known applied and from what evidence, reads to the tip (probes), lineage, and the
 * assumption checks. Pure and synchronous: the tracker (`frontier-tracker.ts`) feeds it what the
 * streams API, the progress markers, waivers and the new table say, and reads `FrontierInput` from it.
 *
 * Every check of an assumption beyond DynamoDB's per-item order (docs/correctness.md, "Frontier") is
 * counted here as a `FrontierViolation`.
 */
import type { ShardFrontier } from './control';
import {
  type FrontierConfig,
  type FrontierInput,
  type ShardInput,
  creationLowerBound,
  creationUpperBound,
} from './frontier';
import { padSequence } from './metadata';
import type { AppliedMarker } from './progress-marker';
import { type Item, type JsonItem, canonicalItem, itemFromDynamoJson, itemToDynamoJson } from './values';

/** Kinds of assumption violations the tracker detects. */
export const FrontierViolation = {
  /** A1: a shard returned a sequence number not greater than the previous one. */
  SEQUENCE_NOT_INCREASING: 'SequenceNotIncreasing',
  /** Per-item order across a split: a child's record for an item is older than the parent's last one. */
  CHILD_BEHIND_PARENT: 'ChildBehindParent',
  /** A2: a record's approximate creation time (floored) is later than when it was read. */
  CREATION_TIME_AHEAD: 'CreationTimeAhead',
  /** A3/A4: a record appeared certainly created before a time the shard was claimed caught up to. */
  LATE_RECORD: 'LateRecord',
  /** Marker contract: `first` and `last` are not records of the same shard. */
  MARKER_SPANS_SHARDS: 'MarkerSpansShards',
  /** Marker contract: the shard holds a different number of records from `first` to `last` than `count`. */
  MARKER_COUNT_MISMATCH: 'MarkerCountMismatch',
  /** An unapplied record certainly created before the published `F` (the published `F` was wrong). */
  UNAPPLIED_BEFORE_PUBLISHED: 'UnappliedBeforePublished',
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
  /** Already counted as UnappliedBeforePublished. */
  flagged: boolean;
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

/** One shard's ledger. */
export class ShardLedger {
  closed: boolean;
  readToEnd = false;
  appliedThrough?: string;
  lastSeen?: string;
  caughtUpByProbe: number;
  /** A record certainly created before this time and not yet seen would break A3/A4. */
  claimedUpTo: number;
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

  constructor(
    readonly shardId: string,
    readonly parentShardId: string | undefined,
    closed: boolean,
    restored?: PersistedShard,
  ) {
    this.closed = closed || (restored?.closed ?? false);
    this.appliedThrough = restored?.appliedThrough;
    this.lastSeen = restored?.appliedThrough;
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
          flagged: false,
        });
        this.seen.push(w.seq);
      }
    }
    this.caughtUpByProbe = restored?.caughtUpByProbe ?? 0;
    this.claimedUpTo = this.caughtUpByProbe;
    this.violations = { ...(restored?.violations ?? {}) };
    if (restored?.complete) this.readToEnd = true;
  }

  /** Closed, read to its end and every record applied. */
  get complete(): boolean {
    return this.closed && this.readToEnd && this.pending.length === 0;
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

  /** Moves leading applied records into the applied prefix and folds the probes that it satisfies. */
  settle(): void {
    while (this.pending.length > 0 && this.pending[0]?.evidence !== undefined) {
      this.appliedThrough = (this.pending.shift() as PendingRecord).seq;
    }
    const first = this.pending[0]?.seq;
    // A probe that had seen nothing beyond the applied prefix proves the shard caught up at its time.
    while (this.probes.length > 0) {
      const probe = this.probes[0] as Probe;
      if (first !== undefined && probe.reached !== undefined && probe.reached >= first) break;
      this.caughtUpByProbe = Math.max(this.caughtUpByProbe, probe.caughtUpIfApplied);
      this.probes.shift();
    }
    this.claimedUpTo = Math.max(this.claimedUpTo, this.caughtUpByProbe);
  }

  input(): ShardInput {
    const first = this.pending[0];
    return {
      shardId: this.shardId,
      ...(this.parentShardId === undefined ? {} : { parentShardId: this.parentShardId }),
      closed: this.closed,
      readToEnd: this.readToEnd,
      caughtUpByProbe: this.caughtUpByProbe,
      ...(first === undefined ? {} : { firstUnappliedApproxMs: first.approxCreationMs }),
    };
  }

  get deadLettered(): number {
    return this.pending.filter((r) => r.deadLettered && r.evidence === undefined).length;
  }

  get unapplied(): number {
    return this.pending.filter((r) => r.evidence === undefined).length;
  }
}

/** The tracker's knowledge of every shard. */
export class FrontierLedger {
  readonly shards = new Map<string, ShardLedger>();
  /** Sequence number -> shard, for records seen by this process (markers name records, not shards). */
  private readonly shardOfSeq = new Map<string, string>();
  private readonly doneMarkers = new Set<string>();
  private lastListedClaim = 0;

  constructor(
    readonly config: FrontierConfig & {
      /** Tolerance of clock differences between the tracker and DynamoDB (for the A2 check). */
      readonly clockSkewMs: number;
      /**
       * How many records before the first record waiting for a marker a marker may start and still
       * cover it (a batch that begins with records already known applied). At least the sync Lambda's
       * batch size; a marker starting earlier is missed and item evidence proves its records instead.
       * @default 1000
       */
      readonly markerLookbackRecords?: number;
    },
    restored: readonly PersistedShard[] = [],
  ) {
    for (const p of restored) {
      const shard = new ShardLedger(p.shardId, p.parentShardId, p.closed, p);
      this.shards.set(p.shardId, shard);
      for (const seq of shard.seen) this.shardOfSeq.set(seq, p.shardId);
    }
  }

  /**
   * Takes a DescribeStream listing that started at `listedAt`: adds new shards, records closings. A shard
   * first listed now may not hold records created before the previous listing's bound (A4).
   */
  list(
    shards: ReadonlyArray<{ shardId: string; parentShardId?: string; closed: boolean }>,
    listedAt: number,
  ): void {
    for (const s of shards) {
      const known = this.shards.get(s.shardId);
      if (known) {
        if (s.closed) known.closed = true;
        continue;
      }
      const ledger = new ShardLedger(s.shardId, s.parentShardId, s.closed);
      ledger.claimedUpTo = this.lastListedClaim;
      this.shards.set(s.shardId, ledger);
    }
    // A shard no longer listed was trimmed (24 h after it closed): nothing more can be read from it.
    // If it was not read to its end, records were lost unread (counted). Once it holds nothing
    // unapplied it is complete; if it is complete it is forgotten (its SHARD# item expires by TTL).
    const listed = new Set(shards.map((s) => s.shardId));
    for (const known of [...this.shards.values()]) {
      if (listed.has(known.shardId)) continue;
      if (!known.readToEnd) known.count(FrontierViolation.TRIMMED_UNREAD);
      known.closed = true;
      known.readToEnd = true;
      if (known.complete) this.shards.delete(known.shardId);
    }
    this.lastListedClaim = Math.max(this.lastListedClaim, listedAt - this.config.propagationMarginMs);
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
    for (const r of records) {
      const seq = padSequence(r.sequenceNumber);
      if (shard.lastSeen !== undefined && seq <= shard.lastSeen) {
        shard.count(FrontierViolation.SEQUENCE_NOT_INCREASING);
        continue; // a repeat or a reordering: keep the ledger ordered; the count raises the alarm
      }
      if (creationLowerBound(r.approxCreationMs, g) > receivedAt + this.config.clockSkewMs) {
        shard.count(FrontierViolation.CREATION_TIME_AHEAD);
      }
      if (creationUpperBound(r.approxCreationMs, g) <= shard.claimedUpTo) {
        shard.count(FrontierViolation.LATE_RECORD);
      }
      const key = canonicalItem(r.keys);
      const parentLast = parent?.lastSeqByKey.get(key);
      if (parentLast !== undefined && parentLast > seq) shard.count(FrontierViolation.CHILD_BEHIND_PARENT);
      if (shard.lastSeqByKey.size < MAX_TRACKED_KEYS || shard.lastSeqByKey.has(key)) {
        shard.lastSeqByKey.set(key, seq);
      }
      shard.lastSeen = seq;
      shard.seen.push(seq);
      this.shardOfSeq.set(seq, shardId);
      shard.pending.push({
        seq,
        approxCreationMs: r.approxCreationMs,
        keys: r.keys,
        receivedAt,
        deadLettered: false,
        flagged: false,
      });
    }
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

  /** GetRecords returned no next iterator: the (closed) shard has been read to its end. */
  endOfShard(shardId: string): void {
    const shard = this.must(shardId);
    shard.readToEnd = true;
    shard.closed = true;
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
  }

  /**
   * Applies a progress marker. Returns false if the tracker cannot use it yet (its records are not read
   * yet, or it names records this process never saw); it is then offered again with the next listing.
   */
  applyMarker(
    id: string,
    marker: Pick<AppliedMarker, 'first' | 'last' | 'count' | 'failed' | 'at'>,
  ): boolean {
    if (this.doneMarkers.has(id)) return true;
    const shardId = this.shardOfSeq.get(marker.first);
    if (shardId === undefined) return false;
    const shard = this.must(shardId);
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
      shard.count(FrontierViolation.MARKER_SPANS_SHARDS);
      return true; // a marker that contradicts the shard's records proves nothing
    }
    const inRange = shard.seenIndex(marker.last) + 1 - shard.seenIndex(marker.first);
    if (inRange !== marker.count) shard.count(FrontierViolation.MARKER_COUNT_MISMATCH);
    const failed = new Set(marker.failed);
    for (const r of shard.pending) {
      if (r.seq < marker.first) continue;
      if (r.seq > marker.last) break;
      if (failed.has(r.seq)) {
        if (r.evidence === undefined) {
          r.deadLettered = true;
          r.deadLetteredAt = Math.max(r.deadLetteredAt ?? 0, marker.at);
        }
      } else {
        r.evidence ??= Evidence.MARKER;
      }
    }
    shard.settle();
    return true;
  }

  /** Marks waived records applied. */
  applyWaivers(waived: ReadonlySet<string>): void {
    if (waived.size === 0) return;
    for (const shard of this.shards.values()) {
      let changed = false;
      for (const r of shard.pending) {
        if (r.evidence === undefined && waived.has(r.seq)) {
          r.evidence = Evidence.WAIVER;
          changed = true;
        }
      }
      if (changed) shard.settle();
    }
  }

  /**
   * Pending records to check against the new table: per shard, the first `perShard` unapplied records
   * that are older than `minAgeMs` (or dead-lettered), since markers normally arrive first.
   */
  evidenceCandidates(now: number, minAgeMs: number, perShard: number): EvidenceCandidate[] {
    const out: EvidenceCandidate[] = [];
    for (const shard of this.shards.values()) {
      let n = 0;
      for (const r of shard.pending) {
        if (n >= perShard) break;
        if (r.evidence !== undefined) continue;
        if (!r.deadLettered && now - r.receivedAt < minAgeMs) break; // later ones are younger still
        out.push({ shardId: shard.shardId, seq: r.seq, keys: r.keys });
        n++;
      }
    }
    return out;
  }

  /** Item evidence: the new item carries `_dr_seq = itemSeq` (undefined: no item). */
  applyItemSequence(shardId: string, seq: string, itemSeq: string | undefined): void {
    const shard = this.must(shardId);
    if (itemSeq === undefined || itemSeq < seq) return;
    const r = shard.pending.find((p) => p.seq === seq);
    if (r && r.evidence === undefined) {
      r.evidence = Evidence.ITEM;
      shard.settle();
    }
  }

  /** The frontier math's input. */
  input(listedAt: number): FrontierInput {
    return { shards: [...this.shards.values()].map((s) => s.input()), listedAt };
  }

  /** Counts unapplied records certainly created before the published `F` (each once). */
  checkPublished(published: number): number {
    let n = 0;
    for (const shard of this.shards.values()) {
      for (const r of shard.pending) {
        if (r.evidence !== undefined || r.flagged) continue;
        if (creationUpperBound(r.approxCreationMs, this.config.creationGranularityMs) <= published) {
          r.flagged = true;
          shard.count(FrontierViolation.UNAPPLIED_BEFORE_PUBLISHED);
          n++;
        }
      }
    }
    return n;
  }

  /** Violations counted so far, by kind, over all shards. */
  violations(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.shards.values())
      for (const [k, v] of Object.entries(s.violations)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  /** The persisted form of every shard. */
  persisted(now: number): PersistedShard[] {
    return [...this.shards.values()].map((s) => ({
      shardId: s.shardId,
      ...(s.parentShardId === undefined ? {} : { parentShardId: s.parentShardId }),
      closed: s.closed,
      complete: s.complete,
      ...(s.appliedThrough === undefined ? {} : { appliedThrough: s.appliedThrough }),
      caughtUpByProbe: s.caughtUpByProbe,
      pending: s.unapplied,
      deadLettered: s.deadLettered,
      violations: { ...s.violations },
      updatedAt: now,
      expiresAt: Math.floor(now / 1000) + SHARD_ITEM_TTL_SECONDS,
      ...waitingOf(s),
    }));
  }

  /** Per-shard detail for the FRONTIER item. */
  detail(caughtUp: ReadonlyMap<string, { status: string; caughtUpTo: number }>): ShardFrontier[] {
    return [...this.shards.values()]
      .filter((s) => caughtUp.get(s.shardId)?.status !== 'complete')
      .map((s) => {
        const c = caughtUp.get(s.shardId);
        const first = s.pending.find((r) => r.evidence === undefined);
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
    })),
  };
}
