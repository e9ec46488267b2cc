/**
 * The backfill's resumable state, one serializable value per scan segment (`SEGMENT#<n>` in the
 * control table), and its transitions as pure functions. A checkpoint names the last key the
 * segment's Scan returned (`LastEvaluatedKey`, in DynamoDB JSON so no value is rounded); everything
 * up to it has been written (or skipped, or recorded as poison) before the checkpoint moved.
 *
 * Crash safety (numbered):
 *   1. The worker scans a page starting after checkpoint version v's key.
 *   2. It writes every item of the page with `attribute_not_exists` (copy) or records it as poison.
 *   3. Only then it stores checkpoint v+1 (the page's LastEvaluatedKey) on condition "version is v".
 *   A crash between 2 and 3 makes the next runner rescan that page from v: every write it repeats
 *   fails its condition (counted as skipped), so nothing is copied twice in effect (rule 3).
 *   Two runners that both read v can both write the page, but only one can store v+1; the other
 *   gets `CheckpointConflictError` and stops.
 */
import type { SegmentProgress } from '../control';
import type { JsonItem } from '../model';

/** The copy counts of a page, of a segment or of a whole run. */
export interface CopyCounts {
  /** Items read from legacy. */
  readonly scanned: number;
  /** Items written to the new table. */
  readonly copied: number;
  /** Items skipped because the new table already held the key (CDC got there first, or a rescan). */
  readonly skippedExists: number;
  /** Items that could not be copied; each is recorded as a `BACKFILL_POISON#` control item. */
  readonly poison: number;
  /** Items not copied because an item dualread did not write holds their key (`foreignItems: keep`). */
  readonly keptForeign: number;
}

/** The `SEGMENT#<n>` control item. */
export interface SegmentCheckpoint extends SegmentProgress, Omit<CopyCounts, 'keptForeign'> {
  /** Items not copied because an item dualread did not write holds their key (`foreignItems: keep`). */
  readonly keptForeign?: number;
  /** The run (lock owner) that last advanced it. */
  readonly runId: string;
}

/** The counts of one page. */
export interface PageOutcome extends CopyCounts {
  /** The page's LastEvaluatedKey; undefined when the segment's Scan is exhausted. */
  readonly lastEvaluatedKey?: JsonItem;
  readonly notBefore: number;
}

/** The checkpoint of a segment that has not started. */
export function initialCheckpoint(
  segment: number,
  totalSegments: number,
  runId: string,
  now: number,
): SegmentCheckpoint {
  return {
    segment,
    totalSegments,
    scanned: 0,
    copied: 0,
    skippedExists: 0,
    poison: 0,
    keptForeign: 0,
    pages: 0,
    done: false,
    notBefore: 0,
    startedAt: now,
    updatedAt: now,
    runId,
  };
}

/**
 * The checkpoint after a page. The segment is done when the page had no LastEvaluatedKey.
 *
 * @throws RangeError when advancing a segment that is already done (a logic error upstream)
 */
export function advanceCheckpoint(
  previous: SegmentCheckpoint,
  page: PageOutcome,
  runId: string,
  now: number,
): SegmentCheckpoint {
  if (previous.done) throw new RangeError(`segment ${previous.segment} is already done; it cannot advance`);
  const done = page.lastEvaluatedKey === undefined;
  const { lastEvaluatedKey: _old, ...rest } = previous;
  return {
    ...rest,
    ...(done ? { completedAt: now } : { lastEvaluatedKey: page.lastEvaluatedKey }),
    scanned: previous.scanned + page.scanned,
    copied: previous.copied + page.copied,
    skippedExists: previous.skippedExists + page.skippedExists,
    poison: previous.poison + page.poison,
    keptForeign: (previous.keptForeign ?? 0) + page.keptForeign,
    pages: previous.pages + 1,
    done,
    notBefore: page.notBefore,
    updatedAt: now,
    runId,
  };
}

/** Totals over the checkpoints of all segments. */
export interface BackfillTotals extends CopyCounts {
  readonly segmentsDone: number;
  readonly segments: number;
}

/** Sums the checkpoints of a run of `totalSegments` segments (missing checkpoints count as not done). */
export function totals(checkpoints: readonly SegmentCheckpoint[], totalSegments: number): BackfillTotals {
  const sum = (f: (c: SegmentCheckpoint) => number) => checkpoints.reduce((a, c) => a + f(c), 0);
  return {
    scanned: sum((c) => c.scanned),
    copied: sum((c) => c.copied),
    skippedExists: sum((c) => c.skippedExists),
    poison: sum((c) => c.poison),
    keptForeign: sum((c) => c.keptForeign ?? 0),
    segmentsDone: checkpoints.filter((c) => c.done).length,
    segments: totalSegments,
  };
}

/** Segments of `0..totalSegments-1` whose checkpoint is absent or not done, in order. */
export function pendingSegments(checkpoints: readonly SegmentCheckpoint[], totalSegments: number): number[] {
  const done = new Set(checkpoints.filter((c) => c.done).map((c) => c.segment));
  return Array.from({ length: totalSegments }, (_, i) => i).filter((i) => !done.has(i));
}

/**
 * The number of segments existing checkpoints were made with, or undefined when there are none.
 *
 * @throws RangeError when checkpoints disagree among themselves
 */
export function checkpointLayout(checkpoints: readonly SegmentCheckpoint[]): number | undefined {
  const layouts = new Set(checkpoints.map((c) => c.totalSegments));
  if (layouts.size > 1)
    throw new RangeError(`checkpoints disagree on totalSegments: ${[...layouts].join(', ')}`);
  return checkpoints[0]?.totalSegments;
}
