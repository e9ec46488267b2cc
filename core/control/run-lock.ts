/**
 * The backfill lock (`LOCK#BACKFILL`): one backfill runs per migration. The lock names its owner
 * (the run id) and a lease; the same run id may re-take it (resume after a crash, or the
 * continuation of a long backfill as a new execution); another run may take it only once the lease
 * has run out. Writes of the lock are versioned, so two preflights racing for it cannot both win.
 */

/** The `LOCK#BACKFILL` control item. */
export interface BackfillLock {
  readonly owner: string;
  readonly executionId: string;
  readonly acquiredAt: number;
  /** Epoch ms after which another run may take the lock. */
  readonly leaseUntil: number;
  /** Epoch seconds: the control table's TTL attribute, a day after the lease. */
  readonly expiresAt: number;
  readonly released: boolean;
}

/** What a preflight may do with the lock. */
export const LockDecision = { ACQUIRE: 'ACQUIRE', RENEW: 'RENEW', HELD: 'HELD' } as const;
export type LockDecision = (typeof LockDecision)[keyof typeof LockDecision];

/** Decides whether run `runId` may take the lock at `now`. */
export function decideLock(existing: BackfillLock | undefined, runId: string, now: number): LockDecision {
  if (!existing || existing.released || existing.leaseUntil <= now) return LockDecision.ACQUIRE;
  return existing.owner === runId ? LockDecision.RENEW : LockDecision.HELD;
}

/** The lock held by `runId` from `now` for `leaseMs`. */
export function lockFor(
  runId: string,
  executionId: string,
  now: number,
  leaseMs: number,
  acquiredAt = now,
): BackfillLock {
  const leaseUntil = now + leaseMs;
  return {
    owner: runId,
    executionId,
    acquiredAt,
    leaseUntil,
    expiresAt: Math.ceil(leaseUntil / 1000) + 86_400,
    released: false,
  };
}
