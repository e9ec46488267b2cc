/**
 * Errors of verification (issue 5). Their `name` is what Step Functions matches in Retry/Catch and what
 * the operator sees as the execution's error.
 */
import { DualReadError } from '../common';

/** Base of every verification error. */
export class VerifyError extends DualReadError {}

/** Another verification run of the same migration holds the lock (runs never overlap). */
export class VerifyAlreadyRunningError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly owner: string,
    readonly leaseUntil: number,
  ) {
    super(
      `migration "${migrationId}": verification run "${owner}" holds the verification lock until ` +
        `${new Date(leaseUntil).toISOString()}; runs never overlap. Wait for it, or resume it with runId "${owner}"`,
    );
  }
}

/** The run's lock was taken by another run (its lease ran out): this run stops. */
export class VerifyLockLostError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly runId: string,
    readonly owner: string,
  ) {
    super(
      `migration "${migrationId}": verification run "${runId}" lost its lock to "${owner}" (lease expired); ` +
        'it stops so two runs never overlap; raise the lease if runs take this long',
    );
  }
}

/** A table verification needs is missing or not ACTIVE. */
export class VerifyTableMissingError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly tableName: string,
    detail: string,
  ) {
    super(
      `migration "${migrationId}": table "${tableName}" is not usable (${detail}); deploy or create it first`,
    );
  }
}

/** The run already completed; start a new run (another runId) to verify again. */
export class VerifyAlreadyCompleteError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly runId: string,
  ) {
    super(
      `migration "${migrationId}": verification run "${runId}" is already COMPLETE; start a new run to verify again`,
    );
  }
}

/** Another worker advanced the segment checkpoint first; this one stops (its reads had no effect). */
export class VerifyCheckpointConflictError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly sk: string,
  ) {
    super(
      `migration "${migrationId}": checkpoint ${sk} moved while this worker held it; another worker is on this segment`,
    );
  }
}

/** The execution input is invalid. */
export class VerifyInputError extends VerifyError {}

/**
 * DynamoDB refused the transaction of a repair and its audit record for another reason than the repair's
 * own condition (which is `lost-to-cdc`, not an error): nothing was written, neither the repair nor
 * its audit. The step fails; a rerun of the run (same runId) repairs the key again.
 */
export class RepairTransactionError extends VerifyError {
  constructor(
    readonly tableName: string,
    /** The cancellation reason codes, in transaction order: [repair of the new item, audit record]. */
    readonly reasons: readonly string[],
    detail: string,
  ) {
    super(
      `the repair of an item of "${tableName}" and its audit record were refused together ` +
        `(reasons: repair ${reasons[0] ?? 'unknown'}, audit ${reasons[1] ?? 'unknown'}; ${detail}); ` +
        'nothing was written. Resume the run (same runId) to repair it again',
    );
  }
}

/** A resumed run found the backfill not COMPLETE (core/verify/gate.ts): it cannot judge now. */
export class VerifyBackfillNotCompleteError extends VerifyError {
  constructor(
    readonly migrationId: string,
    readonly runId: string,
    detail: string,
  ) {
    super(`migration "${migrationId}": verification run "${runId}" cannot resume: ${detail}`);
  }
}
