/**
 * When a verification may judge at all (day-one safety). Before the backfill is COMPLETE, every legacy
 * item not yet copied would be reported as `missing-in-new` drift — the first scheduled run after a
 * deploy would page someone for work that is simply not done yet. So a run judges only once STATE says
 * the backfill is COMPLETE; otherwise it ends at once as SKIPPED, with the reason in its report and no
 * drift, failure or alarm metric.
 *
 * "Never while a backfill of the same migration runs" follows: a backfill runs only before it is COMPLETE
 * (its preflight refuses to start once the scan finished: `BackfillAlreadyCompleteError`), and a run that
 * found COMPLETE cannot see STATE go back. COMPLETE_WITH_POISON is not enough either: its unresolved
 * keys are known to be absent from new and would all be reported as drift; retry or waive them first.
 */
import { BackfillStatus, type MigrationState } from '../control';

/** Why a verification run did not judge. */
export const VerifySkipReason = {
  /** No STATE item or a backfill that never started: nothing is copied yet. */
  BACKFILL_NOT_STARTED: 'BACKFILL_NOT_STARTED',
  /** A backfill of this migration is running: new is still being filled. */
  BACKFILL_RUNNING: 'BACKFILL_RUNNING',
  /** The last backfill run failed and was not resumed to completion. */
  BACKFILL_FAILED: 'BACKFILL_FAILED',
  /** The scan finished with unresolved (poison or waived dead-lettered) keys. */
  BACKFILL_UNRESOLVED_KEYS: 'BACKFILL_UNRESOLVED_KEYS',
} as const;
export type VerifySkipReason = (typeof VerifySkipReason)[keyof typeof VerifySkipReason];

/** The gate's answer: judge, or skip with a reason and a sentence for the report. */
export type VerifyGate =
  | { readonly judge: true }
  | { readonly judge: false; readonly reason: VerifySkipReason; readonly message: string };

/** Whether a verification run may judge the stores, from the migration's STATE (undefined: never written). */
export function verifyGate(state: Pick<MigrationState, 'backfill'> | undefined): VerifyGate {
  const b = state?.backfill;
  const skip = (reason: VerifySkipReason, message: string): VerifyGate => ({ judge: false, reason, message });
  switch (b?.status) {
    case BackfillStatus.COMPLETE:
      return { judge: true };
    case BackfillStatus.RUNNING:
      return skip(
        VerifySkipReason.BACKFILL_RUNNING,
        `backfill run "${b.runId ?? '?'}" is copying legacy into new; verification judges only once the ` +
          'backfill is COMPLETE (items not yet copied are not drift)',
      );
    case BackfillStatus.FAILED:
      return skip(
        VerifySkipReason.BACKFILL_FAILED,
        `backfill run "${b.runId ?? '?'}" failed; resume it to COMPLETE (docs/runbook.md "Backfill"), ` +
          'then verification judges',
      );
    case BackfillStatus.COMPLETE_WITH_POISON:
      return skip(
        VerifySkipReason.BACKFILL_UNRESOLVED_KEYS,
        `backfill scanned everything but ${b.unresolved ?? 'some'} keys are unresolved (known absent from new); ` +
          'retry or waive them (docs/runbook.md "Backfill") so the backfill is COMPLETE, then verification judges',
      );
    default:
      return skip(
        VerifySkipReason.BACKFILL_NOT_STARTED,
        'no backfill has run yet; start it (docs/runbook.md "Backfill"): verification judges only once the ' +
          'backfill is COMPLETE',
      );
  }
}
