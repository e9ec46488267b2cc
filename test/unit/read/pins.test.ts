/**
 * Keys pinned to legacy as the read path looks them up (core/read/pins.ts): a single key by its whole
 * key, a base-table query by its partition, a legacy-index query whenever any key is pinned.
 */
import { partitionKeyHash, pinsOf, poisonKeyHash } from '../../../core/backfill';
import { NO_PINS, isKeyPinned, isQueryPinned, pinIndex } from '../../../core/read';
import { type Item, itemToDynamoJson } from '../../../core/model';

const pinnedKey: Item = { pk: { S: 'poison-0' }, sk: { N: '-1' } };
const pins = pinIndex(
  pinsOf([{ key: itemToDynamoJson(pinnedKey), partitionHash: partitionKeyHash(pinnedKey, 'pk') }]),
);

describe('pins: which reads a pinned key sends to legacy', () => {
  it('finds the pinned key, and no other key (the sort key counts; the same value of another type does not)', () => {
    expect(isKeyPinned(pins, { pk: { S: 'poison-0' }, sk: { N: '-1' } })).toBe(true);
    expect(isKeyPinned(pins, { pk: { S: 'poison-0' }, sk: { N: '-2' } })).toBe(false);
    expect(isKeyPinned(pins, { pk: { S: 'poison-0' }, sk: { S: '-1' } })).toBe(false);
    expect(isKeyPinned(NO_PINS, pinnedKey)).toBe(false);
  });

  it("sends a base-table query of a pinned key's partition to legacy, and no other partition", () => {
    const base = (v: string) => ({ on: 'base' as const, partitionKeyName: 'pk', partitionValue: { S: v } });
    expect(isQueryPinned(pins, base('poison-0'))).toBe(true);
    expect(isQueryPinned(pins, base('poison-1'))).toBe(false);
    expect(isQueryPinned(NO_PINS, base('poison-0'))).toBe(false);
  });

  it('sends every legacy-index query to legacy while any key is pinned (where an unmappable item lands is unknown)', () => {
    expect(isQueryPinned(pins, { on: 'index' })).toBe(true);
    expect(isQueryPinned(NO_PINS, { on: 'index' })).toBe(false);
  });

  it('builds the index from STATE’s pins, and an empty one from none', () => {
    expect(pinIndex(undefined)).toBe(NO_PINS);
    expect(pinIndex({ keys: [], partitions: [] })).toBe(NO_PINS);
    expect(pins.count).toBe(1);
    expect([...pins.keys]).toEqual([poisonKeyHash(pinnedKey)]);
  });
});
