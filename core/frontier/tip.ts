/**
 * Tip detection: when an empty GetRecords page may count as the tip of a shard (a _probe_).
 *
 * The streams API may return empty pages before records ("it might take multiple calls to get to a
 * portion of the shard that contains stream records"), after a fresh iterator and in the middle of a
 * shard, so one empty page proves nothing. An empty page counts as the tip only when it ends a
 * _streak_ of at least `tipEmptyPages` consecutive empty pages, read by following `NextShardIterator`
 * from one iterator, whose first and last pages started at least `tipMinSpanMs` apart. Any page with
 * records, a new iterator (after expiry or a restart) or a failed call ends the streak.
 *
 * This is the residual assumption T1 of docs/correctness.md ("Frontier"): a run of empty pages that
 * long and that long does not hide records that were visible when its last page started. A violation
 * shows as a late record (`LateRecord`), counted and alarmed.
 */

/** Settings of tip detection. */
export interface TipSettings {
  /** Consecutive empty pages (following NextShardIterator) before an empty page counts as the tip. */
  readonly tipEmptyPages: number;
  /** Least time between the starts of the streak's first and last pages, in ms. */
  readonly tipMinSpanMs: number;
}

/** Defaults for AWS (argued in docs/correctness.md, "Tip detection"). */
export const DEFAULT_TIP_SETTINGS: TipSettings = { tipEmptyPages: 3, tipMinSpanMs: 1000 };

/** A streak of consecutive empty pages on one shard iterator. */
export interface EmptyStreak {
  /** Empty pages in the streak so far. */
  readonly pages: number;
  /** When the first of them started (epoch ms). */
  readonly firstAt: number;
}

/** What one more empty page means. */
export interface EmptyPageOutcome {
  readonly streak: EmptyStreak;
  /** The page counts as the tip: a probe at its start time. */
  readonly tip: boolean;
}

/**
 * Adds an empty page that started at `startedAt` to `streak` (undefined: none yet) and says whether it
 * counts as the tip.
 */
export function emptyPage(
  streak: EmptyStreak | undefined,
  startedAt: number,
  settings: TipSettings,
): EmptyPageOutcome {
  const next: EmptyStreak = streak
    ? { pages: streak.pages + 1, firstAt: streak.firstAt }
    : { pages: 1, firstAt: startedAt };
  const tip = next.pages >= settings.tipEmptyPages && startedAt - next.firstAt >= settings.tipMinSpanMs;
  return { streak: next, tip };
}
