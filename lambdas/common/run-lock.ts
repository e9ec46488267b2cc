/**
 * The run lock as the backfill preflight and the verification control step take it: one run per
 * migration, with the function's lease, and the step's own "already running" error naming the holder.
 */
import type { ControlStore } from '../../adapters/control-store';
import { type LockHolder, acquireRunLock } from '../../adapters/run-lock';

/** What a step that takes a run lock needs of its dependencies. */
export interface RunLockDeps {
  readonly store: ControlStore;
  readonly migration: { readonly id: string };
  readonly now: () => number;
  readonly settings: { readonly lockLeaseMs: number };
}

/** The step's "already running" error: the migration, the run holding the lock, and its lease's end. */
export type AlreadyRunningError = new (migrationId: string, owner: string, leaseUntil: number) => Error;

/**
 * Takes (or renews, for the same run) the lock at `sk` for `run` now, held for `lockLeaseMs`; returns
 * the time it was taken at (the step's start).
 *
 * @throws `AlreadyRunning` naming the holder, when another run holds the lock
 */
export async function takeRunLock(
  deps: RunLockDeps,
  sk: string,
  run: { readonly runId: string; readonly executionId: string },
  AlreadyRunning: AlreadyRunningError,
): Promise<number> {
  const now = deps.now();
  const holder: LockHolder | undefined = await acquireRunLock(deps.store, sk, {
    ...run,
    now,
    leaseMs: deps.settings.lockLeaseMs,
  });
  if (holder) throw new AlreadyRunning(deps.migration.id, holder.owner, holder.leaseUntil);
  return now;
}
