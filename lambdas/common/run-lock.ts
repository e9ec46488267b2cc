/**
 * The run lock as the backfill preflight and the verification control step take it: one run per
 * migration, with the function's lease, and the step's own "already running" error naming the holder.
 */
import type { ControlStore } from '../../adapters/control-store';
import { type LockHolder, acquireRunLock } from '../../adapters/run-lock';

/** What a step that takes a run lock needs of its dependencies. */
export interface RunLockDeps {
  readonly store: ControlStore;
  readonly settings: { readonly lockLeaseMs: number };
}

/**
 * Takes (or renews, for the same run) the lock at `sk` for `run`, held for `lockLeaseMs`.
 *
 * @throws what `alreadyRunning` makes of the holder, when another run holds the lock
 */
export async function takeRunLock(
  deps: RunLockDeps,
  sk: string,
  run: { readonly runId: string; readonly executionId: string; readonly now: number },
  alreadyRunning: (holder: LockHolder) => Error,
): Promise<void> {
  const holder = await acquireRunLock(deps.store, sk, { ...run, leaseMs: deps.settings.lockLeaseMs });
  if (holder) throw alreadyRunning(holder);
}
