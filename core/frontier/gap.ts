/**
 * Stream gaps: records of the legacy stream trimmed (past the stream's retention, 24 h on AWS) before
 * the consumer read them. The sync Lambda's event source mapping, like the local poller, skips to the
 * trim horizon and goes on: it cannot know what it lost, so the writes of the lost records may be
 * missing, stale or resurrected in new. The tracker finds the loss (`TrimmedDataError` on its position,
 * or a closed shard trimmed before it was read to its end) and opens a gap on the FRONTIER item:
 *
 * - `F` is frozen at its value when the gap opened. That value never passed a lost write: the tracker
 *   had not read those records, and `F` only passes records the tracker read and saw applied (or a tip
 *   it read, which is older than every record after it).
 * - the guardrails refuse every phase advance while a gap is open (core/control/guardrails.ts).
 * - the recovery is a verification with repair that STARTS after the gap opened (every lost write was
 *   made before that, so the scan sees its effect or a later write's) and ends clean; its re-check waits
 *   on `cdcFrontier` (what the records after the horizon prove), so the drift the lost records left is
 *   confirmed and repaired rather than left `unconfirmed-lag`. Only a clean run closes the gap
 *   (`closeGap`), and then `F` moves again. docs/correctness.md "Stream gaps" has the whole argument.
 */
import type { FrontierState, StreamGap } from '../control';
import { FrontierError } from './errors';

/** A stream gap cannot be closed by this verification; the message says why and what to run. */
export class StreamGapRecoveryError extends FrontierError {}

/** Open: found and not yet closed by a clean verification. */
export function gapOpen(gap: StreamGap | undefined): gap is StreamGap {
  return gap !== undefined && gap.closedAt === undefined;
}

/**
 * The gap after a loss found at `at` on `shards`: a new one (F frozen at `published`), or the open one
 * widened (`openedAt` moves to `at`: a verification must start after every lost write).
 */
export function openGap(
  previous: StreamGap | undefined,
  shards: readonly string[],
  at: number,
  published: number,
  cdcFrontier: number,
): StreamGap {
  if (gapOpen(previous))
    return {
      ...previous,
      openedAt: Math.max(previous.openedAt, at),
      shards: [...new Set([...previous.shards, ...shards])].sort(),
      detections: previous.detections + shards.length,
      cdcFrontier,
    };
  return {
    openedAt: at,
    frozenAt: published,
    shards: [...new Set(shards)].sort(),
    detections: shards.length,
    cdcFrontier,
  };
}

/** `F` to publish: the computed one, held at the frozen value while a gap is open. */
export function frontierUnderGap(computed: number, gap: StreamGap | undefined): number {
  return gapOpen(gap) ? Math.min(computed, gap.frozenAt) : computed;
}

/**
 * The frontier the verification's re-check waits on: `F`, or while a gap is open the `F` of the records
 * after the horizon (a diff left once it covers the legacy read is drift, lost records included).
 */
export function recheckFrontier(f: Pick<FrontierState, 'frontier' | 'gap'>): number {
  return gapOpen(f.gap) ? Math.max(f.frontier, f.gap.cdcFrontier) : f.frontier;
}

/** A verification run as the recovery judges it. */
export interface GapRecoveryRun {
  readonly runId: string;
  readonly startedAt: number;
  /** `COMPLETE`, `RUNNING`, `FAILED`. */
  readonly status: string;
  /** A COMPLETE run that found no drift (core/verify/report.ts). */
  readonly clean: boolean;
}

/**
 * The gap closed by `run`, or a `StreamGapRecoveryError`: the gap must be open, and the run complete,
 * clean and started after the gap opened (an earlier scan may have read legacy before a lost write) by
 * more than `clockSkewMs` (the run's clock is not the tracker's).
 */
export function closeGap(
  gap: StreamGap | undefined,
  run: GapRecoveryRun,
  actor: string,
  at: number,
  clockSkewMs = 0,
): StreamGap {
  if (!gapOpen(gap))
    throw new StreamGapRecoveryError(
      'no stream gap is open (FRONTIER has none, or it is closed already); nothing to recover',
    );
  const iso = (ms: number) => new Date(ms).toISOString();
  if (run.startedAt <= gap.openedAt + clockSkewMs)
    throw new StreamGapRecoveryError(
      `verification ${run.runId} started at ${iso(run.startedAt)}, not after the stream gap opened at ${iso(gap.openedAt)} (+ ${clockSkewMs} ms clock-skew margin): its scan may have read legacy before a lost write; run \`dualread recover stream-gap\` to start a new one`,
    );
  if (run.status !== 'COMPLETE' || !run.clean)
    throw new StreamGapRecoveryError(
      `verification ${run.runId} is ${run.status}${run.status === 'COMPLETE' ? ' but not clean' : ''}: the gap closes only on a clean run; run \`dualread recover stream-gap\` again (it repairs and re-verifies)`,
    );
  return { ...gap, closedAt: at, closedBy: actor, closedByRun: run.runId };
}

/** One line for `dualread status` and the rehearsal report. */
export function gapSummary(gap: StreamGap | undefined): string | undefined {
  if (!gap) return undefined;
  const iso = (ms: number) => new Date(ms).toISOString();
  const where = `${gap.shards.length} shard${gap.shards.length === 1 ? '' : 's'} (${gap.shards.join(', ')})`;
  return gap.closedAt === undefined
    ? `OPEN since ${iso(gap.openedAt)}: stream records trimmed unread on ${where}; F frozen at ${iso(gap.frozenAt)}, no phase advances; run \`dualread recover stream-gap\``
    : `closed at ${iso(gap.closedAt ?? 0)} by ${gap.closedBy ?? '?'} (clean verification ${gap.closedByRun ?? '?'}); opened at ${iso(gap.openedAt)} on ${where}`;
}
