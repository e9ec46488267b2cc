/**
 * Verification's resumable state (issue 5): one checkpoint per scan segment and side
 * (`VERIFY_SEGMENT#<runId>#<side>#<n>` in the control table), and the run's stage as a pure function
 * of the checkpoints and suspects. Like the backfill's `SEGMENT#` checkpoints (core/backfill/checkpoint.ts)
 * a checkpoint names the last key its Scan returned; everything before it has been classified and
 * hashed, and its suspects are stored, before the checkpoint moved (a crash in between rescans the
 * page: suspects are keyed by their legacy key, so storing one twice is harmless, and the counts
 * only move with the checkpoint, so nothing is counted twice).
 */
import { type SetChecksum, EMPTY_CHECKSUM, checksumsEqual, combineChecksums } from './checksum';
import { type ClassCounts, addCounts, zeroCounts } from './diff';
import type { SegmentProgress } from '../control';
import type { JsonItem } from '../model';

/**
 * Which pass a segment belongs to, in run order:
 * - `sums`: scan legacy, checksum of `mapItem(legacy)` (no lookups);
 * - `new`: scan new, checksum of live items minus metadata and key census (no lookups);
 * - `legacy`: only when the two checksums differ: scan legacy again and classify every item against
 *   the new item at its mapped key (BatchGetItem), with the legacy key census;
 * - `extras`: only when the key censuses differ: scan new and look up every live item's origin.
 * Equal checksums show the stores equal without a single lookup (the cheap clean run): an additive hash,
 * sound against accidental drift, not against items chosen to collide (core/verify/checksum.ts).
 */
export const VerifySide = { SUMS: 'sums', NEW: 'new', LEGACY: 'legacy', EXTRAS: 'extras' } as const;
export type VerifySide = (typeof VerifySide)[keyof typeof VerifySide];

/**
 * What pages add up to: a segment's checkpoint holds the sum of its pages, and a side's totals the sum
 * of its segments' checkpoints (`addFigures`).
 */
export interface SegmentFigures {
  /** Items read by the Scan. */
  readonly scanned: number;
  /** First-pass class counts (legacy side: every class but extras; new side: extras only). */
  readonly counts: ClassCounts;
  /** New side: tombstones seen (not part of the checksum). */
  readonly tombstones: number;
  /** Checksum of `mapItem(legacy)` (legacy side) or of live new items minus metadata (new side). */
  readonly checksum: SetChecksum;
  /**
   * Key census: checksum of the new keys of legacy items whose new item is live (legacy side), or of
   * the keys of live new items (new side). Equal censuses prove there is no extra (see `nextStage`).
   */
  readonly keyCensus: SetChecksum;
  /** Suspects stored for the re-check, and suspects not stored because the cap was reached. */
  readonly suspects: number;
  readonly suspectsDropped: number;
}

/** A verification segment checkpoint. */
export interface VerifyCheckpoint extends SegmentFigures, SegmentProgress {
  readonly runId: string;
  readonly side: VerifySide;
}

/** What one page adds to a checkpoint. */
export interface VerifyPageOutcome extends Omit<SegmentFigures, 'counts'> {
  readonly lastEvaluatedKey?: JsonItem;
  readonly counts: Partial<ClassCounts>;
  readonly notBefore: number;
}

/** Figures of nothing read yet. */
function noFigures(): SegmentFigures {
  return {
    scanned: 0,
    counts: zeroCounts(),
    tombstones: 0,
    checksum: EMPTY_CHECKSUM,
    keyCensus: EMPTY_CHECKSUM,
    suspects: 0,
    suspectsDropped: 0,
  };
}

/** The figures of `a` and `b` together (`b` may lack classes, and a key census if stored before it existed). */
function addFigures(a: SegmentFigures, b: VerifyPageOutcome | SegmentFigures): SegmentFigures {
  return {
    scanned: a.scanned + b.scanned,
    counts: addCounts(a.counts, b.counts),
    tombstones: a.tombstones + b.tombstones,
    checksum: combineChecksums(a.checksum, b.checksum),
    keyCensus: combineChecksums(a.keyCensus, b.keyCensus ?? EMPTY_CHECKSUM),
    suspects: a.suspects + b.suspects,
    suspectsDropped: a.suspectsDropped + b.suspectsDropped,
  };
}

/** The checkpoint of a segment that has not started. */
export function initialVerifyCheckpoint(
  runId: string,
  side: VerifySide,
  segment: number,
  totalSegments: number,
  now: number,
): VerifyCheckpoint {
  return {
    runId,
    side,
    segment,
    totalSegments,
    ...noFigures(),
    pages: 0,
    done: false,
    notBefore: 0,
    startedAt: now,
    updatedAt: now,
  };
}

/**
 * The checkpoint after a page; done when the page had no LastEvaluatedKey.
 *
 * @throws RangeError when advancing a segment that is already done
 */
export function advanceVerifyCheckpoint(
  previous: VerifyCheckpoint,
  page: VerifyPageOutcome,
  now: number,
): VerifyCheckpoint {
  if (previous.done)
    throw new RangeError(`verify segment ${previous.side}/${previous.segment} is already done`);
  const done = page.lastEvaluatedKey === undefined;
  const { lastEvaluatedKey: _old, completedAt: _c, ...rest } = previous;
  return {
    ...rest,
    ...(done ? { completedAt: now } : { lastEvaluatedKey: page.lastEvaluatedKey }),
    ...addFigures(previous, page),
    pages: previous.pages + 1,
    done,
    notBefore: page.notBefore,
    updatedAt: now,
  };
}

/** Totals of one side over its checkpoints. */
export interface SideTotals extends SegmentFigures {
  readonly segmentsDone: number;
}

/** Sums the checkpoints of one side. */
export function sideTotals(checkpoints: readonly VerifyCheckpoint[]): SideTotals {
  return checkpoints.reduce<SideTotals>(
    (t, c) => ({ ...addFigures(t, c), segmentsDone: t.segmentsDone + (c.done ? 1 : 0) }),
    { ...noFigures(), segmentsDone: 0 },
  );
}

/** Segments `0..totalSegments-1` of one side not yet done, in order. */
export function pendingVerifySegments(
  checkpoints: readonly VerifyCheckpoint[],
  totalSegments: number,
): number[] {
  const done = new Set(checkpoints.filter((c) => c.done).map((c) => c.segment));
  return Array.from({ length: totalSegments }, (_, i) => i).filter((i) => !done.has(i));
}

/** The stages of a verification run, in order. */
export const VerifyStage = {
  SUMS: 'SUMS',
  NEW: 'NEW',
  LEGACY: 'LEGACY',
  EXTRAS: 'EXTRAS',
  RECHECK: 'RECHECK',
  REPAIR: 'REPAIR',
  REPORT: 'REPORT',
  /** The run did not judge (the backfill is not COMPLETE: core/verify/gate.ts); it ends at once. */
  SKIPPED: 'SKIPPED',
} as const;
export type VerifyStage = (typeof VerifyStage)[keyof typeof VerifyStage];

/** What the run does next, from facts in the control table. */
export interface StageInput {
  readonly totalSegments: number;
  readonly sums: readonly VerifyCheckpoint[];
  readonly fresh: readonly VerifyCheckpoint[];
  readonly legacy: readonly VerifyCheckpoint[];
  readonly extras: readonly VerifyCheckpoint[];
  /** Suspects whose re-check has not settled. */
  readonly pendingSuspects: number;
  /** Confirmed suspects not yet repaired (or found already fixed, or lost to CDC). */
  readonly unrepaired: number;
  readonly repair: boolean;
}

/**
 * True when the key censuses prove that the new table held no extra during the run. The legacy pass
 * sums the hashes of `mapKey(k)` for every legacy item whose new item was live; the new pass sums the
 * hashes of the keys of the live new items. Equal sums mean equal key multisets (barring keys chosen
 * to collide, core/verify/checksum.ts), so every key live in new at its census had a legacy origin at the
 * legacy pass. A new item that is an extra during the whole run is in the new census and not in the
 * legacy one, so the sums differ and the `extras` pass runs. (Drift created in the middle of a run
 * can escape this run, as it can escape any pass that has already covered its key; the next run sees
 * it.)
 */
export function censusProvesNoExtras(
  legacy: readonly VerifyCheckpoint[],
  fresh: readonly VerifyCheckpoint[],
) {
  return checksumsEqual(sideTotals(legacy).keyCensus, sideTotals(fresh).keyCensus);
}

/**
 * True when the content checksums of the two sides are equal: `sum(mapItem(legacy))` over the legacy
 * items equals `sum(new item minus metadata)` over the live new items, so the two multisets are equal
 * (barring items chosen to collide, core/verify/checksum.ts) and, since keys are part of the items, every
 * live new item is exactly `mapItem` of its legacy item and nothing is missing or extra. A key that
 * drifts for the whole run makes the sums differ; only drift created or removed during the run can
 * escape (the next run sees it).
 */
export function checksumsProveEqual(sums: readonly VerifyCheckpoint[], fresh: readonly VerifyCheckpoint[]) {
  return checksumsEqual(sideTotals(sums).checksum, sideTotals(fresh).checksum);
}

/** The next stage and, for the scan stages, the segments still to do. */
export function nextStage(input: StageInput): { stage: VerifyStage; segments: number[] } {
  const sums = pendingVerifySegments(input.sums, input.totalSegments);
  if (sums.length) return { stage: VerifyStage.SUMS, segments: sums };
  const fresh = pendingVerifySegments(input.fresh, input.totalSegments);
  if (fresh.length) return { stage: VerifyStage.NEW, segments: fresh };
  if (!checksumsProveEqual(input.sums, input.fresh)) {
    const legacy = pendingVerifySegments(input.legacy, input.totalSegments);
    if (legacy.length) return { stage: VerifyStage.LEGACY, segments: legacy };
    if (!censusProvesNoExtras(input.legacy, input.fresh)) {
      const extras = pendingVerifySegments(input.extras, input.totalSegments);
      if (extras.length) return { stage: VerifyStage.EXTRAS, segments: extras };
    }
  }
  if (input.pendingSuspects > 0) return { stage: VerifyStage.RECHECK, segments: [] };
  if (input.repair && input.unrepaired > 0) return { stage: VerifyStage.REPAIR, segments: [] };
  return { stage: VerifyStage.REPORT, segments: [] };
}

/** Sort keys of verification's working items in the control table (the report is `ControlKey.verify`). */
export const VerifyKey = {
  /** A segment checkpoint. */
  segment: (runId: string, side: VerifySide, n: number) =>
    `VERIFY_SEGMENT#${runId}#${side}#${String(n).padStart(6, '0')}`,
  segmentPrefix: (runId: string, side: VerifySide) => `VERIFY_SEGMENT#${runId}#${side}#`,
  /** A suspect, by a hash of its legacy key. */
  suspect: (runId: string, keyHash: string) => `VERIFY_SUSPECT#${runId}#${keyHash}`,
  suspectPrefix: (runId: string) => `VERIFY_SUSPECT#${runId}#`,
} as const;
