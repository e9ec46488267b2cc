/**
 * What the `finish` step records in STATE after a Map round: the run's totals with FAILED when the
 * Map failed, or, once every segment is scanned, with the completion status (COMPLETE only with no
 * unresolved key: core/backfill/poison.ts); and the audit text of each.
 */
import { BackfillStatus, type MigrationState } from '../control';
import type { BackfillTotals } from './checkpoint';
import { completionStatus } from './poison';

/** STATE's backfill with the run's totals and `status`. */
export function backfillWithTotals(
  backfill: MigrationState['backfill'],
  status: MigrationState['backfill']['status'],
  runId: string,
  t: BackfillTotals,
): MigrationState['backfill'] {
  return {
    ...backfill,
    status,
    runId,
    copied: t.copied,
    skipped: t.skippedExists,
    poison: t.poison,
    keptForeign: t.keptForeign,
  };
}

/** STATE's backfill when every segment is scanned, with `unresolved` keys left. */
export function completedBackfill(
  backfill: MigrationState['backfill'],
  runId: string,
  t: BackfillTotals,
  unresolved: number,
  now: number,
): MigrationState['backfill'] {
  return {
    ...backfillWithTotals(backfill, completionStatus(unresolved), runId, t),
    completedAt: now,
    unresolved,
  };
}

/** The error of a failed Map as the audit record states it (the cause cut to 500 characters). */
export function failureText(error: { readonly Error?: string; readonly Cause?: string } | undefined): string {
  return `${error?.Error ?? 'unknown error'}: ${(error?.Cause ?? '').slice(0, 500)}`;
}

/** The audit action and reason of a completion. */
export function completionAudit(t: BackfillTotals, unresolved: number): { action: string; reason: string } {
  return {
    action:
      completionStatus(unresolved) === BackfillStatus.COMPLETE
        ? 'backfill-complete'
        : 'backfill-complete-with-poison',
    reason:
      `all ${t.segments} segments scanned: ${t.copied} copied, ${t.skippedExists} already present, ${t.poison} poison, ` +
      `${t.keptForeign} kept foreign; ${unresolved} keys unresolved` +
      (unresolved > 0 ? ' (retry them after a fix, or waive them: docs/runbook.md "Backfill")' : ''),
  };
}
