/**
 * Errors of the backfill (issue 4). Their `name` is what Step Functions matches in Retry/Catch and
 * what the operator sees as the execution's error, so each name says what happened.
 */
import { DualReadError } from '../common';

/** Base of every backfill error. */
export class BackfillError extends DualReadError {}

/** Another backfill of the same migration holds the lock. */
export class BackfillAlreadyRunningError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly owner: string,
    readonly leaseUntil: number,
  ) {
    super(
      `migration "${migrationId}": backfill run "${owner}" holds the backfill lock until ${new Date(leaseUntil).toISOString()}; ` +
        `only one backfill runs per migration. Wait for it to finish, or resume it by starting with runId "${owner}"`,
    );
  }
}

/** CDC is not consuming the legacy stream from TRIM_HORIZON, so a backfill could lose changes. */
export class CdcNotConsumingError extends BackfillError {
  constructor(
    readonly migrationId: string,
    reason: string,
  ) {
    super(
      `migration "${migrationId}": backfill refused because CDC is not consuming the legacy stream from TRIM_HORIZON: ${reason}`,
    );
  }
}

/** The new table does not exist (or is not ACTIVE). */
export class NewTableMissingError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly tableName: string,
    detail: string,
  ) {
    super(
      `migration "${migrationId}": new table "${tableName}" is not usable (${detail}); deploy or create it first`,
    );
  }
}

/** The backfill's scan already finished; there is nothing to copy (unresolved keys have their own operation). */
export class BackfillAlreadyCompleteError extends BackfillError {
  constructor(
    readonly migrationId: string,
    /** Keys still unresolved (COMPLETE_WITH_POISON). */
    readonly unresolved = 0,
  ) {
    super(
      unresolved > 0
        ? `migration "${migrationId}": the backfill's scan is finished with ${unresolved} unresolved keys (COMPLETE_WITH_POISON); ` +
            "a second backfill would not copy them: fix their cause and run the backfill's poison operation `retry`, " +
            'or waive them (docs/runbook.md "Backfill")'
        : `migration "${migrationId}": the backfill is already COMPLETE; nothing to do (verification, not a second backfill, checks the stores)`,
    );
  }
}

/** Existing checkpoints were made with another number of segments; resuming with this one would skip or repeat keys. */
export class SegmentLayoutMismatchError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly requested: number,
    readonly found: number,
  ) {
    super(
      `migration "${migrationId}": checkpoints exist for ${found} scan segments but ${requested} were requested; ` +
        `resume with totalSegments ${found}`,
    );
  }
}

/** Another runner advanced the segment's checkpoint first; this runner stops (its work is not lost: writes are idempotent). */
export class CheckpointConflictError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly segment: number,
    readonly expectedVersion: number,
  ) {
    super(
      `migration "${migrationId}": the checkpoint of segment ${segment} moved past version ${expectedVersion} while this runner held it; ` +
        'another runner is working on this segment, so this one stops',
    );
  }
}

/** The backfill input is invalid. */
export class BackfillInputError extends BackfillError {}

/** The new table holds items dualread did not write, and the operator has not said how to treat them. */
export class ForeignItemsError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly tableName: string,
    /** A few of their keys, as canonical strings. */
    readonly sampleKeys: readonly string[],
  ) {
    super(
      `migration "${migrationId}": new table "${tableName}" holds items dualread did not write (no _dr_seq), ` +
        `for example ${sampleKeys.join(', ')}. The backfill would have to overwrite them or leave their legacy ` +
        "items uncopied. Remove them, or start again with foreignItems 'overwrite' (replace them with the " +
        "mapped legacy items) or 'keep' (leave them; their legacy items are not copied)",
    );
  }
}

/** The search for foreign items did not finish within its time budget. */
export class ForeignItemCheckIncompleteError extends BackfillError {
  constructor(
    readonly migrationId: string,
    readonly tableName: string,
    readonly scanned: number,
    readonly budgetMs: number,
  ) {
    super(
      `migration "${migrationId}": the preflight scanned ${scanned} items of new table "${tableName}" in ${budgetMs} ms ` +
        "without finishing its search for items dualread did not write; start again with foreignItems 'overwrite' " +
        "or 'keep' to say how to treat any it holds (the check then is not needed)",
    );
  }
}
