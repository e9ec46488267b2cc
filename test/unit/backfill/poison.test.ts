import {
  BackfillStatus,
  type MigrationState,
  backfillAfter,
  completionStatus,
  isBackfillComplete,
  isUnresolved,
  poisonKeyHash,
} from '../../../core';

type Backfill = MigrationState['backfill'];

describe('Function: isBackfillComplete', () => {
  it.each<[string, Backfill | undefined, boolean]>([
    ['no STATE', undefined, false],
    ['RUNNING', { status: BackfillStatus.RUNNING }, false],
    ['COMPLETE with nothing unresolved', { status: BackfillStatus.COMPLETE, unresolved: 0, poison: 3 }, true],
    ['COMPLETE_WITH_POISON', { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 2 }, false],
    // Defensive: COMPLETE can never carry unresolved keys, but if it did, absence proves nothing.
    ['COMPLETE with unresolved keys', { status: BackfillStatus.COMPLETE, unresolved: 1 }, false],
    ['COMPLETE written before the count existed, without poison', { status: BackfillStatus.COMPLETE }, true],
    [
      'COMPLETE written before the count existed, with poison',
      { status: BackfillStatus.COMPLETE, poison: 1 },
      false,
    ],
  ])('is %p → %p', (_case, backfill, expected) => {
    expect(isBackfillComplete(backfill ? { backfill } : undefined)).toBe(expected);
  });
});

describe('Function: backfillAfter', () => {
  it.each<[string, Backfill, number, Backfill]>([
    [
      'a registration after COMPLETE',
      { status: BackfillStatus.COMPLETE, unresolved: 0 },
      1,
      { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 1 },
    ],
    [
      'the last resolution',
      { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 1 },
      -1,
      { status: BackfillStatus.COMPLETE, unresolved: 0 },
    ],
    [
      'a resolution with more left',
      { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 3 },
      -1,
      { status: BackfillStatus.COMPLETE_WITH_POISON, unresolved: 2 },
    ],
    [
      'a registration while RUNNING (the finish counts)',
      { status: BackfillStatus.RUNNING },
      1,
      { status: BackfillStatus.RUNNING },
    ],
    [
      'a registration before any backfill',
      { status: BackfillStatus.NOT_STARTED },
      1,
      { status: BackfillStatus.NOT_STARTED },
    ],
    [
      'a version bump only',
      { status: BackfillStatus.COMPLETE, unresolved: 0 },
      0,
      { status: BackfillStatus.COMPLETE, unresolved: 0 },
    ],
  ])('keeps the count and status after %s', (_case, before, delta, after) => {
    expect(backfillAfter(before, delta)).toEqual(after);
  });
});

describe('Function: completionStatus', () => {
  it('is COMPLETE only without unresolved keys', () => {
    expect(completionStatus(0)).toBe(BackfillStatus.COMPLETE);
    expect(completionStatus(1)).toBe(BackfillStatus.COMPLETE_WITH_POISON);
  });
});

describe('Function: isUnresolved', () => {
  it('counts a record without a status (written before statuses existed) as unresolved', () => {
    expect(isUnresolved({})).toBe(true);
    expect(isUnresolved({ status: 'unresolved' })).toBe(true);
    expect(isUnresolved({ status: 'resolved' })).toBe(false);
  });
});

describe('Function: poisonKeyHash', () => {
  it('is the same for the same key whatever the attribute order, and differs between keys', () => {
    const a = poisonKeyHash({ pk: { S: 'a' }, sk: { N: '1' } });
    expect(poisonKeyHash({ sk: { N: '1' }, pk: { S: 'a' } })).toBe(a);
    expect(poisonKeyHash({ pk: { S: 'a' }, sk: { N: '2' } })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });
});
