/**
 * Frontier math (docs/design.md §4.4): from what the tracker knows about each shard of the legacy stream —
 * the records it has read, which of them are known applied, when it last read a shard to its tip,
 * and the shard lineage — compute the time `F` such that every legacy write created before `F` is
 * applied to the new table. Pure: the caller supplies every time (no clock here).
 *
 * The argument, in the terms used below (see docs/correctness.md, "Frontier"):
 *
 * 1. Within a shard, records appear in commit order (assumption A1), so if every record before
 *    `r` (the shard's first unapplied record) is applied, every record of the shard created before
 *    `r`'s true creation time is applied.
 * 2. `ApproximateCreationDateTime` floored to its granularity is at most the true creation time
 *    (assumption A2), so `lowerBound(r)` may stand for `r`'s true time. It is never used to order
 *    records, only as that one bound.
 * 3. A write whose request started at `s` commits, and its record is visible to GetRecords, by
 *    `s + propagationMargin` (A3). So a record created at `c` belongs to a write that started after
 *    `c - propagationMargin`; and a read of a shard to its tip that started at `t` and found only
 *    applied records proves applied every write of the shard that started before `t - propagationMargin`.
 *    All frontier times are about when writes *started*: that is what a client knows of its writes.
 * 4. Reaching the tip is itself an assumption (T1, core/frontier/tip.ts): an empty page is not the tip.
 *    Records the tracker has read need no such assumption: a record known unapplied caps its shard at
 *    its own bound, whatever a probe said, and a fully applied prefix proves the shard caught up to its
 *    last record's bound (1–3) without any probe.
 * 5. The record of a write that started at `s` lives in a shard that every DescribeStream call started
 *    after `s + propagationMargin` lists, or in a child of a listed closed shard (A4). So `F` is capped
 *    by the last listing's start minus the margin, and a closed, fully applied shard stops constraining
 *    `F` only once a child of it has been listed (or `childListingWaitMs` has passed since it was seen
 *    closed): DescribeStream may list a closed parent before its children.
 *
 * `F` is the minimum over the shards that still constrain it of their caught-up time, capped as in 5.
 */

/** Settings of the frontier math. */
export interface FrontierConfig {
  /**
   * How long after a write is acknowledged its record may take to become visible to GetRecords, and a
   * new shard to DescribeStream. Subtracted from every probe time. @default 1000 ms
   */
  readonly propagationMarginMs: number;
  /**
   * Granularity of `ApproximateCreationDateTime`: AWS gives whole seconds (1000), DynamoDB Local
   * truncates to the minute (60000). @default 1000 ms
   */
  readonly creationGranularityMs: number;
}

/** Defaults of `FrontierConfig` for AWS. */
export const DEFAULT_FRONTIER_CONFIG: FrontierConfig = {
  propagationMarginMs: 1000,
  creationGranularityMs: 1000,
};

/** The granularity of `ApproximateCreationDateTime` on DynamoDB Local (truncated to the minute). */
export const DYNAMODB_LOCAL_CREATION_GRANULARITY_MS = 60_000;

/** The earliest a record's true creation time can be, given its approximate creation time (A2). */
export function creationLowerBound(approxCreationMs: number, granularityMs: number): number {
  return Math.floor(approxCreationMs / granularityMs) * granularityMs;
}

/** The time before which a record was certainly created, given its approximate creation time (A2). */
export function creationUpperBound(approxCreationMs: number, granularityMs: number): number {
  return creationLowerBound(approxCreationMs, granularityMs) + granularityMs;
}

/** What the frontier math needs to know about one shard. */
export interface ShardInput {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** The shard has an EndingSequenceNumber: it receives no more records. */
  readonly closed: boolean;
  /** The reader reached the shard's end (GetRecords returned no next iterator). */
  readonly readToEnd: boolean;
  /**
   * Approximate creation time (epoch ms) of the shard's first record that is not known applied, in
   * shard order; undefined if every record read so far is known applied.
   */
  readonly firstUnappliedApproxMs?: number;
  /**
   * The latest time (epoch ms, already minus the propagation margin) at which every record of this shard
   * visible then was known applied: from probes (reads to the tip) whose records are all applied.
   * 0 if none.
   */
  readonly caughtUpByProbe: number;
  /**
   * Approximate creation time (epoch ms) of the last record of the applied prefix (every record up to
   * it is known applied); undefined if none is known.
   */
  readonly lastAppliedApproxMs?: number;
  /**
   * Closed and read to its end, but no child of it listed yet and `childListingWaitMs` not over: it
   * still constrains `F` as an open shard would (records written after it closed may sit in children
   * DescribeStream does not list yet).
   */
  readonly awaitingChildren?: boolean;
}

/** Why a shard does or does not constrain `F`. */
export const ShardStatus = {
  /** Open or draining: constrains `F`. */
  ACTIVE: 'active',
  /** Its parent is still draining; it constrains `F` too (conservatively) but cannot be applied yet. */
  WAITING: 'waiting',
  /** Closed, read to its end and fully applied: no longer constrains `F`. */
  COMPLETE: 'complete',
} as const;
export type ShardStatus = (typeof ShardStatus)[keyof typeof ShardStatus];

/** Per-shard result. */
export interface ShardCaughtUp {
  readonly shardId: string;
  readonly status: ShardStatus;
  /** Epoch ms before which every record of this shard is applied; Infinity when complete. */
  readonly caughtUpTo: number;
}

/**
 * The time before which every record of one shard is applied (Infinity when the shard is complete).
 *
 * With a first unapplied record `r`: every record before `r` is applied and every record after it was
 * created no earlier than `r` (A1), so the bound is `r`'s creation lower bound (A2) minus the margin (its
 * write may have started that much earlier, A3) — and never more, whatever a probe said: a probe that
 * did not see `r` proves `r` invisible at the probe only if the probe really was at the tip (T1), while
 * `r` itself is evidence. Without one: the later of the probe-based bound and the bound of the applied
 * prefix's last record (every record after it was created after it), or Infinity once the shard is
 * closed, read to its end, and not waiting for its children to be listed.
 */
export function shardCaughtUp(shard: ShardInput, config: FrontierConfig): number {
  const m = config.propagationMarginMs;
  const g = config.creationGranularityMs;
  if (shard.firstUnappliedApproxMs !== undefined) {
    // The margin is subtracted here too: every time is about when a write *started* (what a client
    // knows), and A3 bounds how long a write may take to commit by the same margin.
    return creationLowerBound(shard.firstUnappliedApproxMs, g) - m;
  }
  if (shard.closed && shard.readToEnd && !shard.awaitingChildren) return Number.POSITIVE_INFINITY;
  const byRecord =
    shard.lastAppliedApproxMs === undefined ? 0 : creationLowerBound(shard.lastAppliedApproxMs, g) - m;
  return Math.max(shard.caughtUpByProbe, byRecord);
}

/** Input of `computeFrontier`. */
export interface FrontierInput {
  readonly shards: readonly ShardInput[];
  /** Start time (epoch ms) of the DescribeStream listing the shards came from (A4). */
  readonly listedAt: number;
}

/** Output of `computeFrontier`. */
export interface FrontierResult {
  /** Epoch ms; 0 when nothing can be proven. */
  readonly frontier: number;
  readonly shards: readonly ShardCaughtUp[];
}

/**
 * Computes `F`: the minimum of the caught-up times of the shards that constrain it, capped by the last
 * listing minus the propagation margin (A4). A complete shard (closed, read to end, all applied, a child
 * listed) does not constrain; a shard whose parent is not complete constrains too (conservative: its records cannot
 * be applied before its parent's, so its bound is its first record's, which A1 across the split would
 * put after the parent's anyway — counting it means `F` stays safe even if that does not hold).
 */
export function computeFrontier(input: FrontierInput, config: FrontierConfig): FrontierResult {
  const byId = new Map(input.shards.map((s) => [s.shardId, s]));
  const caught = new Map(input.shards.map((s) => [s.shardId, shardCaughtUp(s, config)]));
  let frontier = input.listedAt - config.propagationMarginMs;
  const shards: ShardCaughtUp[] = [];
  for (const shard of input.shards) {
    const caughtUpTo = caught.get(shard.shardId) as number;
    const parent = shard.parentShardId === undefined ? undefined : byId.get(shard.parentShardId);
    const parentDone = parent === undefined || caught.get(parent.shardId) === Number.POSITIVE_INFINITY;
    const status =
      caughtUpTo === Number.POSITIVE_INFINITY
        ? ShardStatus.COMPLETE
        : parentDone
          ? ShardStatus.ACTIVE
          : ShardStatus.WAITING;
    shards.push({ shardId: shard.shardId, status, caughtUpTo });
    frontier = Math.min(frontier, caughtUpTo);
  }
  return { frontier: Math.max(0, frontier), shards };
}

/**
 * Decides what to publish given the published `F` and a newly computed one. `F` never goes backwards:
 * applied records stay applied (the apply rule never lets an older change overwrite a newer one) and
 * records created before a published `F` cannot appear later unless an assumption failed, so a lower
 * computed value means only that the tracker knows less than before (it restarted, or a new shard has
 * not been read yet) — not that the published `F` became wrong. The one case where it would be wrong,
 * a record read after `F` passed its creation time and not applied when `F` was published, is an
 * assumption violation; the tracker counts and alarms on it (`LateRecord`), and the remedy is rolling
 * dual read back (reads go to legacy), not a silently lower `F` that readers holding the old value
 * would never see.
 */
export function nextPublished(
  previous: number | undefined,
  computed: number,
): { readonly publish: boolean; readonly frontier: number } {
  if (previous === undefined) return { publish: computed > 0, frontier: computed };
  if (computed > previous) return { publish: true, frontier: computed };
  return { publish: false, frontier: previous };
}

/** What a reader may rely on: `F` minus the clock-skew margin between the tracker's clock and its own. */
export function safeFrontier(frontier: number, clockSkewMs: number): number {
  return frontier <= 0 ? 0 : Math.max(0, frontier - clockSkewMs);
}

/** Lag of `F` behind `now`, in seconds (the `FrontierLagSeconds` metric). */
export function frontierLagSeconds(frontier: number, now: number): number {
  return Math.max(0, now - frontier) / 1000;
}
