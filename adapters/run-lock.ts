/**
 * The run lock of a migration's backfill or verification (`LOCK#BACKFILL`, `LOCK#VERIFY`): one run at a
 * time. The decision is pure (core/control/run-lock.ts); this is its versioned write, so two racing
 * starts serialize on the control item and exactly one wins.
 */
import { type BackfillLock, LockDecision, decideLock, lockFor } from '../core/control';
import { ControlConflictError, type ControlStore, type Versioned } from './control-store';

/** Who holds a lock another run asked for. */
export interface LockHolder {
  readonly owner: string;
  readonly leaseUntil: number;
}

/**
 * Takes (or renews, for the same run) the lock at `sk`, or reports who holds it.
 *
 * @returns undefined when taken; the holder when another run holds it (the caller throws its own
 *   named error, e.g. `BackfillAlreadyRunningError`)
 */
export async function acquireRunLock(
  store: ControlStore,
  sk: string,
  run: {
    readonly runId: string;
    readonly executionId: string;
    readonly now: number;
    readonly leaseMs: number;
  },
): Promise<LockHolder | undefined> {
  const lock = await store.get<Versioned<BackfillLock>>(sk);
  const decision = decideLock(lock, run.runId, run.now);
  if (decision === LockDecision.HELD && lock) return { owner: lock.owner, leaseUntil: lock.leaseUntil };
  try {
    await store.put(
      sk,
      lockFor(
        run.runId,
        run.executionId,
        run.now,
        run.leaseMs,
        decision === LockDecision.RENEW && lock ? lock.acquiredAt : run.now,
      ),
      lock?.version ?? 0,
    );
    return undefined;
  } catch (err) {
    if (!(err instanceof ControlConflictError)) throw err;
    const winner = await store.get<BackfillLock>(sk);
    return { owner: winner?.owner ?? '?', leaseUntil: winner?.leaseUntil ?? run.now };
  }
}
