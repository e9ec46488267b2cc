/**
 * Whether a legacy query runs on the new table, and how page start keys move between the key spaces
 * (core/read/query-mapping.ts).
 */
import type { AttributeValue, Item, Migration } from '../../../core/model';
import { queryMapping, startKeyBelongs, toLegacyStartKey, toNewStartKey } from '../../../core/read';
import { usersMigration } from '../../../examples/users/migration';
import { ordersMigration } from '../../helpers/read-fixture';

const orders = ordersMigration();
const customer = (k: Item): string => (k.customer as { S: string }).S;

describe('Function: queryMapping', () => {
  it('maps a partition whose new sort key carries the legacy sort key unchanged', () => {
    expect(queryMapping(orders, { S: 'c1' })).toEqual({ newPartition: { S: 'C#c1' } });
  });

  it.each<[string, Migration]>([
    ['the legacy table has no sort key', usersMigration],
    [
      'the new partition depends on the legacy sort key',
      {
        ...orders,
        mapKey: (k) => ({
          PK: { S: `C#${customer(k)}#${(k.orderNo as { N: string }).N}` },
          SK: k.orderNo as AttributeValue,
        }),
      },
    ],
    [
      'the new sort key is not the legacy sort value',
      { ...orders, mapKey: (k) => ({ PK: { S: `C#${customer(k)}` }, SK: { N: '7' } }) },
    ],
    [
      'mapKey throws',
      {
        ...orders,
        mapKey: () => {
          throw new Error('no');
        },
      },
    ],
    [
      'the sort keys differ in type',
      {
        ...orders,
        newTable: {
          ...orders.newTable,
          key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'S' } },
        },
      },
    ],
  ])('is undefined when %s', (_name, migration) => {
    expect(queryMapping(migration, { S: 'c1' })).toBeUndefined();
  });
});

describe('Function: startKeyBelongs', () => {
  it.each<[string, Item, 'legacy' | 'new', boolean]>([
    ['a legacy key of the partition', { customer: { S: 'c1' }, orderNo: { N: '3' } }, 'legacy', true],
    ['a legacy key of another partition', { customer: { S: 'c2' }, orderNo: { N: '3' } }, 'legacy', false],
    [
      'a legacy key with another attribute',
      { customer: { S: 'c1' }, orderNo: { N: '3' }, x: { S: 'y' } },
      'legacy',
      false,
    ],
    ['a legacy key without its sort key', { customer: { S: 'c1' } }, 'legacy', false],
    ['a new key of the mapped partition', { PK: { S: 'C#c1' }, SK: { N: '3' } }, 'new', true],
    ['a new key of another partition', { PK: { S: 'C#c2' }, SK: { N: '3' } }, 'new', false],
    ['a legacy key as a new one', { customer: { S: 'c1' }, orderNo: { N: '3' } }, 'new', false],
  ])('%s → %p', (_name, key, store, expected) => {
    expect(startKeyBelongs(orders, key, store, { S: 'c1' }, { S: 'C#c1' })).toBe(expected);
  });

  it('refuses a new key when the query does not map onto new', () => {
    expect(
      startKeyBelongs(orders, { PK: { S: 'C#c1' }, SK: { N: '3' } }, 'new', { S: 'c1' }, undefined),
    ).toBe(false);
  });
});

describe('Functions: toNewStartKey, toLegacyStartKey', () => {
  it('carry the sort value over between the key spaces of one partition', () => {
    const legacyKey = { customer: { S: 'c1' }, orderNo: { N: '3' } };

    const newKey = toNewStartKey(orders, legacyKey, { S: 'C#c1' });

    expect(newKey).toEqual({ PK: { S: 'C#c1' }, SK: { N: '3' } });
    expect(toLegacyStartKey(orders, newKey, { S: 'c1' })).toEqual(legacyKey);
  });
});
