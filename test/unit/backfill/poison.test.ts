import {
  BackfillStatus,
  type MigrationState,
  backfillAfter,
  completionStatus,
  isBackfillComplete,
  isUnresolved,
  poisonKeyHash,
} from '../../../core';
import {
  MAX_PINS,
  TooManyPinsError,
  checkPoisonPayload,
  isPinned,
  isRetryable,
  partitionKeyHash,
  pinsOf,
  samePins,
} from '../../../core/backfill';
import { itemFromDynamoJson, itemToDynamoJson } from '../../../core/model';

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

describe('Pins to legacy: the registry’s status and STATE’s pins', () => {
  const key = (pk: string, sk: number) => itemToDynamoJson({ pk: { S: pk }, sk: { N: String(sk) } });
  const pinned = (pk: string, sk: number) => ({
    key: key(pk, sk),
    partitionHash: partitionKeyHash(itemFromDynamoJson(key(pk, sk)), 'pk'),
  });

  it('a pinned key is neither unresolved nor settled for good: a retry still examines it', () => {
    expect(isUnresolved({ status: 'pinned' })).toBe(false);
    expect(isPinned({ status: 'pinned' })).toBe(true);
    expect(isRetryable({ status: 'pinned' })).toBe(true);
    expect(isRetryable({})).toBe(true);
    expect(isRetryable({ status: 'resolved' })).toBe(false);
  });

  it('STATE’s pins hold each key once and each partition once, sorted', () => {
    const pins = pinsOf([pinned('a', 1), pinned('a', 2), pinned('a', 1), pinned('b', 1)]);
    expect(pins.keys).toHaveLength(3);
    expect(pins.partitions).toHaveLength(2);
    expect([...pins.keys].sort()).toEqual(pins.keys);
    expect(samePins(pins, pinsOf([pinned('b', 1), pinned('a', 2), pinned('a', 1)]))).toBe(true);
    expect(samePins(pins, pinsOf([pinned('a', 1)]))).toBe(false);
    expect(samePins(undefined, { keys: [], partitions: [] })).toBe(true);
  });

  it('refuses a pinned item without its partition hash (a base query could not find it)', () => {
    expect(() => pinsOf([{ key: key('a', 1) }])).toThrow(/no partition hash/);
  });

  it('names the limit and says to fix the mapping instead', () => {
    const err = new TooManyPinsError('orders', MAX_PINS - 1, 5);
    expect(err.name).toBe('TooManyPinsError');
    expect(err.message).toMatch(
      /999 key\(s\) are pinned.*pinning 5 more.*limit of 1000.*fix the mapping instead/,
    );
  });

  it('checks a pin: an actor, a reason, and keys or all', () => {
    const schema = {
      partitionKey: { name: 'pk', type: 'S' as const },
      sortKey: { name: 'sk', type: 'N' as const },
    };
    const ok = {
      operation: 'pin' as const,
      actor: 'ops',
      reason: 'mapItem refuses it',
      keys: 'all' as const,
    };
    expect(() => checkPoisonPayload(ok, schema)).not.toThrow();
    expect(() => checkPoisonPayload({ ...ok, keys: [key('a', 1)] }, schema)).not.toThrow();
    expect(() => checkPoisonPayload({ ...ok, reason: ' ' }, schema)).toThrow(/pin needs a reason/);
    expect(() => checkPoisonPayload({ ...ok, keys: [] }, schema)).toThrow(/pin needs keys.*or 'all'/);
    expect(() => checkPoisonPayload({ ...ok, keys: [{ pk: { S: 'a' } }] }, schema)).toThrow(
      /not a legacy key/,
    );
  });
});
