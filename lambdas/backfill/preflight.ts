/**
 * The `preflight` step: checks CDC consumes from TRIM_HORIZON and the new table exists (and holds no
 * item dualread did not write), takes the backfill lock, records the start in STATE (with audit) and
 * lists the segments still to copy.
 */
import {
  BackfillAlreadyCompleteError,
  BackfillAlreadyRunningError,
  BackfillInputError,
  CdcNotConsumingError,
  ForeignItemCheckIncompleteError,
  ForeignItemsError,
  NewTableMissingError,
  SegmentLayoutMismatchError,
  checkpointLayout,
  isScanFinished,
  parseForeignItems,
  pendingSegments,
} from '../../core/backfill';
import { BackfillStatus, ControlKey, ForeignItems } from '../../core/control';
import { acquireRunLock } from '../../adapters/run-lock';
import { canonicalItem } from '../../core/model';
import type { BackfillDeps } from './context';
import { listCheckpoints, stripVersion, updateState } from './state-change';

/** The execution input an operator gives (every field optional). */
export interface BackfillStartInput {
  /** Lock owner; re-use it to resume a run. @default the execution name */
  readonly runId?: string;
  /** Parallel Scan segments. @default migration.backfill.segments */
  readonly totalSegments?: number;
  /** Segments copied at the same time. @default totalSegments */
  readonly maxConcurrency?: number;
  /** Loop iterations of a segment per Map round (bounds each child execution's history). */
  readonly maxIterationsPerRound?: number;
  /** Map rounds per execution before it continues as a new execution (bounds the parent's history). */
  readonly maxRoundsPerExecution?: number;
  /** Who started it (audit). @default `backfill:<runId>` */
  readonly actor?: string;
  readonly reason?: string;
  /**
   * How to treat items of the new table dualread did not write (core/backfill/foreign.ts). Kept in
   * STATE for the run and its resumes. @default the run's earlier choice, else `refuse`
   */
  readonly foreignItems?: ForeignItems;
  /** Set by `ContinueAsNew` (and by Step Functions' console for child executions): a continuation, not a new start. */
  readonly AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID?: string;
}

/** Input of `preflight`. */
export interface PreflightPayload {
  readonly input: BackfillStartInput;
  readonly executionId: string;
  readonly executionName: string;
}

/** The run's settings, resolved by `preflight`; the state machine carries them as `$.run`. */
export interface BackfillRun {
  readonly runId: string;
  readonly totalSegments: number;
  readonly maxConcurrency: number;
  readonly maxIterationsPerRound: number;
  readonly maxRoundsPerExecution: number;
  readonly actor: string;
  /** Segments still to copy, in order. */
  readonly segments: number[];
}

/** Keys of foreign items a refusal names. */
export const FOREIGN_SAMPLE_KEYS = 5;

/**
 * Upper bounds that keep every execution far below Step Functions' 25,000-event history limit
 * (docs/backfill.md): a segment-loop iteration writes at most 18 events, a parent round 15.
 */
export const MAX_ITERATIONS_PER_ROUND = 1_200;
export const MAX_ROUNDS_PER_EXECUTION = 1_500;
/** The pending-segment list travels in the state (256 KiB payload limit): at most 10,000 segments. */
export const MAX_SEGMENTS = 10_000;

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BackfillInputError(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** Builds the `preflight` handler. */
export function makePreflightHandler(deps: BackfillDeps): (p: PreflightPayload) => Promise<BackfillRun> {
  return async (payload) => {
    const input = payload?.input ?? {};
    const runId = input.runId ?? payload.executionName;
    if (typeof runId !== 'string' || !/^[A-Za-z0-9_.:-]{1,80}$/.test(runId)) {
      throw new BackfillInputError(
        `runId must be 1-80 letters, digits or _.:- characters, not ${JSON.stringify(runId)}`,
      );
    }
    const totalSegments = positiveInt(
      'totalSegments',
      input.totalSegments,
      deps.migration.backfill.segments,
      MAX_SEGMENTS,
    );
    const maxConcurrency = positiveInt('maxConcurrency', input.maxConcurrency, totalSegments, 10_000);
    const maxIterationsPerRound = positiveInt(
      'maxIterationsPerRound',
      input.maxIterationsPerRound,
      deps.settings.maxIterationsPerRound,
      MAX_ITERATIONS_PER_ROUND,
    );
    const maxRoundsPerExecution = positiveInt(
      'maxRoundsPerExecution',
      input.maxRoundsPerExecution,
      deps.settings.maxRoundsPerExecution,
      MAX_ROUNDS_PER_EXECUTION,
    );
    const actor = input.actor ?? `backfill:${runId}`;
    const m = deps.migration;

    // 1. Nothing to do once complete.
    const state = await deps.store.getState();
    if (state && isScanFinished(state.backfill.status))
      throw new BackfillAlreadyCompleteError(m.id, state.backfill.unresolved ?? 0);
    const foreignItems = parseForeignItems(
      input.foreignItems,
      state?.backfill.foreignItems ?? ForeignItems.REFUSE,
    );

    // 2. CDC must already consume from TRIM_HORIZON (invariant 3): checked, not assumed.
    const cdc = await deps.cdcStatus.check();
    if (!cdc.consuming) throw new CdcNotConsumingError(m.id, cdc.reason);

    // 3. The new table must exist.
    const table = await deps.newTableStatus();
    if (!table.usable) throw new NewTableMissingError(m.id, m.newTable.tableName, table.detail);

    // 4. Checkpoints of an earlier run must have the same segment layout.
    const checkpoints = await listCheckpoints(deps.store);
    const layout = checkpointLayout(checkpoints);
    if (layout !== undefined && layout !== totalSegments)
      throw new SegmentLayoutMismatchError(m.id, totalSegments, layout);

    // 4b. A fresh start under `refuse` searches the new table for items dualread did not write. (A
    //     resume does not scan the half-copied table again: a write that meets one refuses it as poison.)
    const continuation = input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID !== undefined;
    if (foreignItems === ForeignItems.REFUSE && checkpoints.length === 0 && !continuation) {
      const search = await deps.findForeignItems(FOREIGN_SAMPLE_KEYS, deps.settings.foreignCheckBudgetMs);
      if (search.keys.length > 0)
        throw new ForeignItemsError(m.id, m.newTable.tableName, search.keys.map(canonicalItem));
      if (!search.complete)
        throw new ForeignItemCheckIncompleteError(
          m.id,
          m.newTable.tableName,
          search.scanned,
          deps.settings.foreignCheckBudgetMs,
        );
    }

    // 5. The lock: one backfill per migration. The versioned put makes two racing preflights serialize.
    const now = deps.now();
    const holder = await acquireRunLock(deps.store, ControlKey.BACKFILL_LOCK, {
      runId,
      executionId: payload.executionId,
      now,
      leaseMs: deps.settings.lockLeaseMs,
    });
    if (holder) throw new BackfillAlreadyRunningError(m.id, holder.owner, holder.leaseUntil);

    // 6. Record the start (or the resume after a crash or failure) in STATE, with audit. The
    //    continuation of the same run as a new execution (ContinueAsNew) changes nothing.
    const resumed = checkpoints.length > 0;
    await updateState(
      deps,
      (current) =>
        continuation && current.backfill.status === BackfillStatus.RUNNING && current.backfill.runId === runId
          ? undefined
          : {
              ...stripVersion(current),
              backfill: {
                ...current.backfill,
                status: BackfillStatus.RUNNING,
                startedAt: current.backfill.startedAt ?? now,
                runId,
                foreignItems,
              },
            },
      () => ({
        action: resumed ? 'backfill-resume' : 'backfill-start',
        actor,
        reason:
          input.reason ??
          `backfill ${resumed ? 'resumed' : 'started'} by execution ${payload.executionId}; ${cdc.reason}`,
        detail: { runId, totalSegments, executionId: payload.executionId, foreignItems },
      }),
    );

    return {
      runId,
      totalSegments,
      maxConcurrency,
      maxIterationsPerRound,
      maxRoundsPerExecution,
      actor,
      segments: pendingSegments(checkpoints, totalSegments),
    };
  };
}
