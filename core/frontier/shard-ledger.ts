/**
 * One shard's ledger: the records read from it in shard order, which of them are known applied (the
 * applied prefix, the records still pending), its reads to the tip (probes), its place in the lineage,
 * the violations counted on it, its persisted form (the `SHARD#<shardId>` control item) that a
 * restarted tracker resumes from, and its detail in the FRONTIER item. The rules that decide what is
 * applied are in `evidence.ts`; the ledger of every shard is `ledger.ts`.
 */
import type { ShardFrontier } from '../control';
import { type ShardInput } from './math';
import type { EmptyStreak } from './tip';
import type { PendingRecord, Probe } from './records';
import { type FrontierViolation, violationTotal } from './violations';
import { type JsonItem, itemFromDynamoJson, itemToDynamoJson } from '../model';

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

/** `SHARD#` items of shards the tracker stopped saving expire after this (the stream keeps 24 h). */
const SHARD_ITEM_TTL_SECONDS = 7 * 24 * 3600;
/** Waiting records saved in a `SHARD#` item at most (keeps it far below DynamoDB's 400 KB). */
const MAX_SAVED_WAITING = 200;

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

  /**
   * The last record a progress marker names beyond what this shard has read (`FrontierLedger.applyMarker`
   * could not use the marker yet): a held shard reads on up to it (`readPlan`).
   */
  markerAheadTo?: string;

  /**
   * How the tracker may read the shard in this step (`TrackerConfig.readHoldMs`). While its first record
   * not known applied was read less than `holdMs` before `now`, it waits for that evidence (`held`),
   * unless a progress marker names records beyond what it read: then it reads up to that marker's last
   * record (`upTo`) and no further. The sync Lambda finished that batch, so the records up to it come
   * with their evidence; the marker is used as soon as its last record is read, and the records after
   * it, not yet applied, are left unread (read, they would cap the shard at their creation time).
   * Without this a batch that began inside what was read and ended past it held the shard until item
   * evidence (5 s) or the hold ran out: the shard waited for evidence of records it would not read.
   */
  readPlan(now: number, holdMs: number): { readonly held: boolean; readonly upTo?: string } {
    if (holdMs <= 0) return { held: false };
    const first = this.pending.find((r) => r.evidence === undefined);
    if (first === undefined || now - first.receivedAt >= holdMs) return { held: false };
    const upTo = this.markerAhead();
    return upTo === undefined ? { held: true } : { held: false, upTo };
  }

  private markerAhead(): string | undefined {
    const to = this.markerAheadTo;
    return to !== undefined && (this.lastSeen === undefined || to > this.lastSeen) ? to : undefined;
  }

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
    return violationTotal(this.violations);
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

/** The persisted form of a shard, saved at `now`. */
export function persistedShard(s: ShardLedger, now: number): PersistedShard {
  const first = s.firstUnapplied();
  return {
    shardId: s.shardId,
    ...(s.parentShardId === undefined ? {} : { parentShardId: s.parentShardId }),
    closed: s.closed,
    complete: s.complete,
    ...(s.appliedThrough === undefined ? {} : { appliedThrough: s.appliedThrough }),
    ...(s.appliedThroughApproxMs === undefined ? {} : { appliedThroughApproxMs: s.appliedThroughApproxMs }),
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
}

/** A shard's detail in the FRONTIER item, given what the frontier math said of it (`c`). */
export function shardDetail(
  s: ShardLedger,
  c: { readonly status: string; readonly caughtUpTo: number } | undefined,
): ShardFrontier {
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
