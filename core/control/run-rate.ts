/**
 * Backfill rate control as pure arithmetic. The operator sets `controls.rateLimitPerSecond` (items
 * per second across all segments, 0 = unlimited) in STATE; each segment takes an equal share and
 * paces its pages so that, measured over any stretch of pages, it reads no faster than its share.
 *
 * Pacing is a debt clock kept in the segment checkpoint (`notBefore`): after a page of `n` items
 * that started at `t`, the next page may start at `max(notBefore, t) + n / share`. Because the page
 * size is also cut to about one second of the share, a new rate is in force from the next page on.
 */
import type { JsonItem } from '../model';

/**
 * Where one scan segment stands: what the backfill's `SEGMENT#` checkpoints (core/backfill/checkpoint.ts)
 * and verification's (core/verify/checkpoint.ts) both keep, with the pacing clock.
 */
export interface SegmentProgress {
  readonly segment: number;
  readonly totalSegments: number;
  /** Where the next Scan page starts; absent at the start of the segment. */
  readonly lastEvaluatedKey?: JsonItem;
  readonly pages: number;
  readonly done: boolean;
  /** Pacing: the next page may not start before this epoch ms (`nextNotBefore`). */
  readonly notBefore: number;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly completedAt?: number;
}

/** Items per second one segment may read; `Infinity` when unlimited. */
export function segmentShare(rateLimitPerSecond: number, totalSegments: number): number {
  if (!(rateLimitPerSecond > 0)) return Number.POSITIVE_INFINITY;
  return rateLimitPerSecond / Math.max(1, totalSegments);
}

/**
 * Scan `Limit` for the next page: the configured page size, cut to about `pageSeconds` worth of the
 * share (at least one item), so a slow rate yields small, evenly spaced pages rather than bursts.
 */
export function pageLimit(share: number, pageSize: number, pageSeconds = 1): number {
  if (!Number.isFinite(share)) return pageSize;
  return Math.max(1, Math.min(pageSize, Math.floor(share * pageSeconds)));
}

/** Earliest start of the next page after a page of `items` items that started at `pageStartedAt`. */
export function nextNotBefore(
  previousNotBefore: number,
  pageStartedAt: number,
  items: number,
  share: number,
): number {
  if (!Number.isFinite(share)) return 0;
  return Math.max(previousNotBefore, pageStartedAt) + Math.ceil((items * 1000) / share);
}

/** Milliseconds to wait before the next page may start. */
export function delayUntil(notBefore: number, now: number): number {
  return Math.max(0, notBefore - now);
}

/** What a segment loop's controls step answers before the worker runs. */
export interface SegmentLoopControls {
  readonly done: boolean;
  readonly paused: boolean;
  /** Seconds the loop waits before re-checking (pause poll or rate pacing); 0 = run the worker now. */
  readonly waitSeconds: number;
}

/**
 * The next move of a segment's loop: it is done; it is paused (the controls are read again after the
 * poll interval); or it waits whole seconds until its next page may start (waits under a second are
 * slept by the worker itself).
 */
export function segmentLoopControls(segment: {
  readonly done: boolean;
  readonly paused: boolean;
  readonly notBefore: number;
  readonly now: number;
  readonly pausePollSeconds: number;
}): SegmentLoopControls {
  if (segment.done) return { done: true, paused: false, waitSeconds: 0 };
  if (segment.paused) return { done: false, paused: true, waitSeconds: segment.pausePollSeconds };
  const delay = delayUntil(segment.notBefore, segment.now);
  return { done: false, paused: false, waitSeconds: delay >= 1000 ? Math.floor(delay / 1000) : 0 };
}
