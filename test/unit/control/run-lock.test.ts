import { LockDecision, decideLock, lockFor } from '../../../core/control';

describe('Function: decideLock', () => {
  const held = lockFor('run-a', 'exec-1', 1_000, 60_000);

  it.each([
    ['no lock exists', undefined, 'run-b', 2_000, LockDecision.ACQUIRE],
    ['another run holds a live lease', held, 'run-b', 2_000, LockDecision.HELD],
    ['the same run resumes', held, 'run-a', 2_000, LockDecision.RENEW],
    ['the lease has run out', held, 'run-b', 61_000, LockDecision.ACQUIRE],
    ['the lock was released', { ...held, released: true }, 'run-b', 2_000, LockDecision.ACQUIRE],
  ])('decides when %s', (_case, existing, runId, now, expected) => {
    expect(decideLock(existing, runId, now)).toBe(expected);
  });
});

describe('Function: lockFor', () => {
  it('sets the lease and a TTL a day after it', () => {
    expect(lockFor('r', 'e', 1_000, 9_000, 500)).toEqual({
      owner: 'r',
      executionId: 'e',
      acquiredAt: 500,
      leaseUntil: 10_000,
      expiresAt: 10 + 86_400,
      released: false,
    });
  });
});
