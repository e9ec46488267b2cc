/**
 * The decisions of a segment's loop (docs/backfill.md "The state machine"): what `ReadControls`
 * answers (done, paused, a rate wait long enough for a Wait state, or copy), and whether the page
 * worker may start its next page (a pause, or a rate wait longer than its time left, ends the
 * invocation: the state machine waits instead).
 */
import { type MigrationState, type RunControls, delayUntil, segmentShare } from '../control';
import type { SegmentCheckpoint } from './checkpoint';
import { effectiveRateLimit } from './rate';

/**
 * The controls a backfill page obeys: the operator's in STATE (or the migration's defaults before STATE
 * exists), with the rate cut to the run's adaptive rate in force (`STATE.backfill.rate`, core/backfill/rate.ts).
 */
export function controlsOf(
  state: MigrationState | undefined,
  defaultRateLimitPerSecond: number,
): RunControls {
  const operator = state?.controls ?? { paused: false, rateLimitPerSecond: defaultRateLimitPerSecond };
  return {
    ...operator,
    rateLimitPerSecond: effectiveRateLimit(operator.rateLimitPerSecond, state?.backfill?.rate),
  };
}

/** What `ReadControls` answers for one segment. */
export interface SegmentControls {
  readonly done: boolean;
  readonly paused: boolean;
  /** Seconds the loop waits before re-checking (pause poll or rate pacing); 0 = copy now. */
  readonly waitSeconds: number;
  readonly rateLimitPerSecond: number;
}

/** The answer of `ReadControls` for a segment whose checkpoint is `checkpoint` (absent before its first page). */
export function segmentControls(
  controls: RunControls,
  checkpoint: Pick<SegmentCheckpoint, 'done' | 'notBefore'> | undefined,
  now: number,
  pausePollSeconds: number,
): SegmentControls {
  if (checkpoint?.done)
    return { done: true, paused: false, waitSeconds: 0, rateLimitPerSecond: controls.rateLimitPerSecond };
  if (controls.paused) {
    return {
      done: false,
      paused: true,
      waitSeconds: pausePollSeconds,
      rateLimitPerSecond: controls.rateLimitPerSecond,
    };
  }
  // Waits under a second are slept by the page worker itself.
  const delay = delayUntil(checkpoint?.notBefore ?? 0, now);
  return {
    done: false,
    paused: false,
    waitSeconds: delay >= 1000 ? Math.floor(delay / 1000) : 0,
    rateLimitPerSecond: controls.rateLimitPerSecond,
  };
}

/**
 * Whether the page worker starts its next page: it stops when paused, or when the rate wait would
 * outlast its budget (a Wait state does that wait); else it copies the page at the segment's share of
 * the rate after sleeping `waitMs`. Without a wait, every invocation copies at least one page.
 */
export type NextPage =
  { readonly stop: 'PAUSED' | 'WAIT' } | { readonly share: number; readonly waitMs: number };

/** The page worker's decision before a page (see `NextPage`). */
export function nextPage(
  controls: RunControls,
  run: {
    readonly totalSegments: number;
    readonly notBefore: number;
    readonly startedAt: number;
    readonly budgetMs: number;
  },
  now: number,
): NextPage {
  if (controls.paused) return { stop: 'PAUSED' };
  const share = segmentShare(controls.rateLimitPerSecond, run.totalSegments);
  const waitMs = delayUntil(run.notBefore, now);
  if (waitMs > 0 && now + waitMs - run.startedAt > run.budgetMs) return { stop: 'WAIT' };
  return { share, waitMs };
}
