/**
 * The `finish` step, after each round of the Map: marks the backfill COMPLETE (counts, time, audit,
 * lock released) when every segment is done, else lists the pending segments and renews the lease;
 * in `failed` mode records FAILED and releases the lock.
 */
import { releaseRunLock, renewRunLock } from '../../adapters/run-lock';
import {
  BackfillAlreadyRunningError,
  backfillWithTotals,
  completedBackfill,
  completionAudit,
  type CopyCounts,
  failureText,
  isScanFinished,
  pendingSegments,
  totals,
} from '../../core/backfill';
import { BackfillStatus, ControlKey } from '../../core/control';
import type { BackfillDeps } from './context';
import { listCheckpoints, updateBackfill } from './state-change';

/** Input of `finish`. */
export interface FinishPayload {
  readonly runId: string;
  readonly totalSegments: number;
  readonly actor: string;
  readonly executionId: string;
  /** `round`: after a Map round; `failed`: the Map failed (error attached). */
  readonly mode: 'round' | 'failed';
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** Output of `finish`. */
export interface FinishResult extends CopyCounts {
  /** Every segment is scanned (the execution ends); STATE says COMPLETE or COMPLETE_WITH_POISON. */
  readonly complete: boolean;
  /** Keys not in new when the scan finished (poison items, waived dead-lettered records). */
  readonly unresolved?: number;
  readonly segments: number[];
}

/** Builds the `finish` handler. */
export function makeFinishHandler(deps: BackfillDeps): (p: FinishPayload) => Promise<FinishResult> {
  const m = deps.migration;

  /** Releases the run's lock if it still holds it (another run's lock is left alone). */
  async function releaseLock(runId: string): Promise<void> {
    await releaseRunLock(deps.store, ControlKey.BACKFILL_LOCK, runId, deps.now);
  }

  async function renewLock(runId: string, executionId: string): Promise<void> {
    const lost = await renewRunLock(
      deps.store,
      ControlKey.BACKFILL_LOCK,
      { runId, executionId, leaseMs: deps.settings.lockLeaseMs },
      deps.now,
    );
    // Someone else took the lock (our lease ran out): stop rather than run two backfills.
    if (lost) throw new BackfillAlreadyRunningError(m.id, lost.owner, lost.leaseUntil);
  }

  return async (p) => {
    const checkpoints = (await listCheckpoints(deps.store)).filter(
      (c) => c.totalSegments === p.totalSegments,
    );
    const t = totals(checkpoints, p.totalSegments);
    const counts = {
      copied: t.copied,
      skippedExists: t.skippedExists,
      poison: t.poison,
      keptForeign: t.keptForeign,
      scanned: t.scanned,
    };
    const detail = {
      runId: p.runId,
      executionId: p.executionId,
      ...counts,
      segmentsDone: t.segmentsDone,
      segments: t.segments,
    };

    if (p.mode === 'failed') {
      await updateBackfill(
        deps,
        (current) => backfillWithTotals(current, BackfillStatus.FAILED, p.runId, t),
        () => ({
          action: 'backfill-failed',
          actor: p.actor,
          reason: `backfill failed: ${failureText(p.error)}`,
          detail,
        }),
      );
      await releaseLock(p.runId);
      return { complete: false, segments: pendingSegments(checkpoints, p.totalSegments), ...counts };
    }

    const pending = pendingSegments(checkpoints, p.totalSegments);
    if (pending.length > 0) {
      await renewLock(p.runId, p.executionId);
      return { complete: false, segments: pending, ...counts };
    }
    // Every segment is scanned. COMPLETE only if no key is unresolved (poison not yet retried or
    // waived, a waived dead-lettered record's key): the read path takes COMPLETE as proof that a key
    // absent from new does not exist. The registry is listed after STATE is read and STATE is written
    // on its version, so a key registered meanwhile is counted (core/backfill/poison.ts).
    const now = deps.now();
    let unresolved = 0;
    await updateBackfill(
      deps,
      async (current) => {
        if (isScanFinished(current.status)) {
          unresolved = current.unresolved ?? 0;
          return undefined;
        }
        unresolved = (await deps.poison.unresolved()).length;
        return completedBackfill(current, p.runId, t, unresolved, now);
      },
      () => ({ ...completionAudit(t, unresolved), actor: p.actor, detail: { ...detail, unresolved } }),
    );
    await releaseLock(p.runId);
    return { complete: true, segments: [], ...counts, unresolved };
  };
}
