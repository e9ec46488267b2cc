/**
 * The run lock of a migration's backfill or verification (`LOCK#BACKFILL`, `LOCK#VERIFY`): one run at a
 * time. The decision is pure (core/control/run-lock.ts); these are its versioned writes (take,
 * renew, release), so two racing runners serialize on the control item and exactly one wins.
 */
import { type BackfillLock, LockDecision, decideLock, lockFor } from '../core/control';
import { ControlConflictError, type ControlStore, type Versioned, stripVersion } from './control-store';

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

/**
 * Renews the lock at `sk` for the run that holds it (its lease starts again at `clock()`, read after the
 * lock), or reports who holds it when the run lost it (its lease ran out and another run took it, or it
 * was released).
 *
 * @returns undefined when renewed; the holder otherwise (`?` when there is none), and the caller
 *   throws its own named error
 */
export async function renewRunLock(
  store: ControlStore,
  sk: string,
  run: { readonly runId: string; readonly executionId: string; readonly leaseMs: number },
  clock: () => number,
): Promise<LockHolder | undefined> {
  const lock = await store.get<Versioned<BackfillLock>>(sk);
  const now = clock();
  if (!lock || lock.owner !== run.runId || lock.released)
    return { owner: lock?.owner ?? '?', leaseUntil: lock?.leaseUntil ?? now };
  await store.put(sk, lockFor(run.runId, run.executionId, now, run.leaseMs, lock.acquiredAt), lock.version);
  return undefined;
}

/**
 * Releases the lock at `sk` if `runId` holds it (its lease ends at `clock()`).
 *
 * @returns true when this call released it; false when the run did not hold it or another writer
 *   changed it first
 */
export async function releaseRunLock(
  store: ControlStore,
  sk: string,
  runId: string,
  clock: () => number,
): Promise<boolean> {
  const lock = await store.get<Versioned<BackfillLock>>(sk);
  if (!lock || lock.owner !== runId || lock.released) return false;
  try {
    await store.put(sk, { ...stripVersion(lock), released: true, leaseUntil: clock() }, lock.version);
  } catch (err) {
    if (!(err instanceof ControlConflictError)) throw err;
    return false;
  }
  return true;
}
