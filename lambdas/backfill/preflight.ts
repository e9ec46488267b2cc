/**
 * The `preflight` step: resolves the run's settings, checks CDC consumes from TRIM_HORIZON and the new
 * table exists (and, on a fresh start, holds no item dualread did not write), takes the backfill lock,
 * records the start in STATE (with audit) and lists the segments still to copy.
 */
import {
  BackfillAlreadyCompleteError,
  BackfillAlreadyRunningError,
  type BackfillRun,
  type BackfillStartInput,
  CdcNotConsumingError,
  ForeignItemCheckIncompleteError,
  ForeignItemsError,
  NewTableMissingError,
  SegmentLayoutMismatchError,
  type BackfillRate,
  checkpointLayout,
  defaultBackfillRate,
  initialRate,
  isContinuation,
  isScanFinished,
  needsForeignCheck,
  parseForeignItems,
  pendingSegments,
  resolveRun,
  startedBackfill,
} from '../../core/backfill';
import { ControlKey, ForeignItems } from '../../core/control';
import { canonicalItem } from '../../core/model';
import { takeRunLock } from '../common/run-lock';
import type { BackfillDeps } from './context';
import { listCheckpoints, updateBackfill } from './state-change';

/** Input of `preflight`. */
export interface PreflightPayload {
  readonly input: BackfillStartInput;
  readonly executionId: string;
  readonly executionName: string;
}

/** Keys of foreign items a refusal names. */
export const FOREIGN_SAMPLE_KEYS = 5;

/** Builds the `preflight` handler. */
export function makePreflightHandler(deps: BackfillDeps): (p: PreflightPayload) => Promise<BackfillRun> {
  return async (payload) => {
    const input = payload?.input ?? {};
    const run = resolveRun(input, payload.executionName, {
      totalSegments: deps.migration.backfill.segments,
      maxIterationsPerRound: deps.settings.maxIterationsPerRound,
      maxRoundsPerExecution: deps.settings.maxRoundsPerExecution,
    });
    const { runId, totalSegments } = run;
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

    // 4b. A fresh start under `refuse` searches the new table for items dualread did not write.
    const continuation = isContinuation(input);
    if (needsForeignCheck(foreignItems, checkpoints.length, continuation)) {
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
    const now = await takeRunLock(
      deps,
      ControlKey.BACKFILL_LOCK,
      { runId, executionId: payload.executionId },
      BackfillAlreadyRunningError,
    );

    // 6. Record the start (or the resume after a crash or failure) in STATE, with audit and the run's
    //    rate (its ceiling from the tables' capacity unless the migration sets one). The continuation
    //    of the same run as a new execution (ContinueAsNew) changes nothing.
    const resumed = checkpoints.length > 0;
    const rate = continuation ? undefined : await startRate(deps, now);
    if (rate) deps.log?.info('backfill rate', { runId, rate });
    await updateBackfill(
      deps,
      (current) => {
        const started = startedBackfill(current, { runId, foreignItems, continuation }, now);
        return started && rate ? { ...started, rate } : started;
      },
      () => ({
        action: resumed ? 'backfill-resume' : 'backfill-start',
        actor: run.actor,
        reason:
          input.reason ??
          `backfill ${resumed ? 'resumed' : 'started'} by execution ${payload.executionId}; ${cdc.reason}`,
        detail: {
          runId,
          totalSegments,
          executionId: payload.executionId,
          foreignItems,
          ...(rate ? { rateCeiling: rate.ceiling, rateBasis: rate.basis } : {}),
        },
      }),
    );

    return { ...run, segments: pendingSegments(checkpoints, totalSegments) };
  };
}

/**
 * The rate a run starts or resumes at: in force at its ceiling, which is the migration's
 * `backfill.maxRatePerSecond` when set, else derived from both tables' capacity (core/backfill/rate.ts).
 */
async function startRate(deps: BackfillDeps, now: number): Promise<BackfillRate> {
  const b = deps.migration.backfill;
  if (b.maxRatePerSecond !== undefined)
    return initialRate(
      b.maxRatePerSecond,
      `migration backfill.maxRatePerSecond: ${b.maxRatePerSecond === 0 ? 'no ceiling' : `${b.maxRatePerSecond} items/s`}`,
      now,
    );
  const [legacy, fresh] = await Promise.all([deps.tableCapacity('legacy'), deps.tableCapacity('new')]);
  const { ceiling, basis } = defaultBackfillRate(legacy, fresh, b);
  return initialRate(ceiling, basis, now);
}
