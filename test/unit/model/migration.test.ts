import { MigrationDefinitionError } from '../../../core/common';
import { type MigrationInput, defineMigration, validateMigrationSet, type Item } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';

const base: MigrationInput = {
  id: 'orders',
  legacyTable: { tableName: 'orders', key: { partitionKey: { name: 'orderId', type: 'S' } } },
  newTable: { tableName: 'orders-v2', key: { partitionKey: { name: 'PK', type: 'S' } } },
  mapKey: (k) => ({ PK: { S: `ORDER#${(k.orderId as { S: string }).S}` } }),
  mapItem: ({ orderId, ...rest }) => ({ PK: { S: `ORDER#${(orderId as { S: string }).S}` }, ...rest }),
  unmapItem: ({ PK, ...rest }) => ({ orderId: { S: (PK as { S: string }).S.slice(6) }, ...rest }),
};

function define(overrides: Partial<MigrationInput>) {
  return () => defineMigration({ ...base, ...overrides });
}

describe('Function: defineMigration', () => {
  it('fills in identity transforms and defaults', () => {
    const m = defineMigration({
      id: 'same',
      legacyTable: { tableName: 'a-table', key: { partitionKey: { name: 'id', type: 'N' } } },
      newTable: { tableName: 'b-table', key: { partitionKey: { name: 'id', type: 'N' } } },
    });
    const item: Item = { id: { N: '1' }, x: { S: 'y' } };
    expect(m.mapItem(item)).toBe(item);
    expect(m.unmapItem(item)).toBe(item);
    expect(m.metadataPrefix).toBe('_dr_');
    expect(m.read.defaultConsistency).toBe('bounded');
    expect(m.read.cohortSalt).toBe('same');
    expect(m.backfill.segments).toBe(4);
    expect(m.newTable.create).toBe(true);
  });

  it('names a non-key attribute that mapKey reads', () => {
    expect(define({ mapKey: (k) => ({ PK: { S: `ORDER#${(k.email as { S: string }).S}` } }) })).toThrow(
      'migration "orders": mapKey reads attribute "email", which is not a key attribute of the legacy table (key: "orderId")',
    );
  });

  it.each<[string, Partial<MigrationInput>, string]>([
    ['a bad id', { id: 'Orders!' }, 'id must start with a lowercase letter'],
    [
      'the same table twice',
      { newTable: { ...base.newTable, tableName: 'orders' } },
      'legacy and new table are both "orders"',
    ],
    [
      'a mapKey result missing the sort key',
      {
        newTable: {
          tableName: 'orders-v2',
          key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'S' } },
        },
      },
      'mapKey result lacks key attribute "SK"',
    ],
    [
      'a mapKey result of the wrong type',
      { newTable: { tableName: 'orders-v2', key: { partitionKey: { name: 'PK', type: 'N' } } } },
      'mapKey result has "PK" of type S, but the key schema says N',
    ],
    [
      'a mapKey result with extra attributes',
      { mapKey: (k) => ({ PK: { S: 'x' + (k.orderId as { S: string }).S }, extra: { S: '1' } }) },
      'mapKey result has attributes "extra" that are not in the key',
    ],
    [
      'a constant mapKey',
      { mapKey: () => ({ PK: { S: 'same' } }) },
      'maps two different legacy keys to the same new key',
    ],
    [
      'a throwing mapKey',
      {
        mapKey: () => {
          throw new Error('boom');
        },
      },
      'mapKey threw on legacy key',
    ],
    [
      'a mapKey returning junk',
      { mapKey: () => ({ PK: 'plain' }) as unknown as Item },
      'mapKey must return an item',
    ],
    [
      'a bad key type',
      { legacyTable: { tableName: 'orders', key: { partitionKey: { name: 'orderId', type: 'X' as 'S' } } } },
      'legacyTable.key.partitionKey.type must be "S", "N" or "B", not "X"',
    ],
    ['a bad prefix', { metadataPrefix: 'a-b' }, 'metadataPrefix "a-b" must be'],
    [
      'a new key using the metadata prefix',
      {
        newTable: { tableName: 'orders-v2', key: { partitionKey: { name: '_dr_pk', type: 'S' } } },
        mapKey: (k) => ({ _dr_pk: k.orderId as { S: string } }),
      },
      'new key attribute "_dr_pk" uses the reserved metadata prefix',
    ],
    [
      'zero segments',
      { backfill: { segments: 0 } },
      'backfill.segments must be an integer from 1 to 1000000, not 0',
    ],
    [
      'a bad sample rate',
      { read: { shadowSampleRate: 2 } },
      'read.shadowSampleRate must be a number from 0 to 1',
    ],
    [
      'an unknown mode',
      { read: { defaultConsistency: 'eventual' as 'bounded' } },
      'read.defaultConsistency must be one of',
    ],
    [
      'mode new as the default (it claims no staleness bound)',
      { read: { defaultConsistency: 'new' } },
      'read.defaultConsistency cannot be "new"',
    ],
    [
      'a cache longer than the budget',
      { read: { stalenessBudgetMs: 500, controlCacheMs: 1000 } },
      'read.controlCacheMs must be smaller',
    ],
    [
      'a bad schedule',
      { verification: { schedule: '0 3 * * *' } },
      'verification.schedule "0 3 * * *" must be cron(...)',
    ],
    [
      'a KMS alias instead of a key ARN',
      { legacyTable: { ...base.legacyTable, kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/legacy' } },
      'legacyTable.kmsKeyArn "arn:aws:kms:eu-west-1:123456789012:alias/legacy" is not a KMS key ARN',
    ],
    [
      'a bad stream ARN',
      { legacyTable: { ...base.legacyTable, streamArn: 'stream' } },
      'is not a DynamoDB stream ARN',
    ],
    [
      'a transform writing metadata',
      {
        mapItem: (i) => ({ ...base.mapItem!(i), _dr_seq: { S: '1' } }),
        samples: [{ orderId: { S: 'o1' } }],
      },
      'mapItem writes "_dr_seq", which use the reserved metadata prefix "_dr_"',
    ],
    [
      'mapItem disagreeing with mapKey',
      { mapItem: (i) => ({ ...base.mapItem!(i), PK: { S: 'other' } }), samples: [{ orderId: { S: 'o1' } }] },
      'mapItem produced key {"PK":S"other"} but mapKey gives {"PK":S"ORDER#o1"}',
    ],
    [
      'an unmapItem that is not an inverse',
      {
        unmapItem: (i) => ({ ...base.unmapItem!(i), added: { S: 'x' } }),
        samples: [{ orderId: { S: 'o1' } }],
      },
      'unmapItem(mapItem(item)) differs from the item',
    ],
    [
      'a sample without its key',
      { samples: [{ other: { S: '1' } }] },
      'samples[0] lacks key attribute "orderId"',
    ],
    [
      'a malformed sample',
      { samples: [{ orderId: { S: 'o' }, n: { N: 'x' } } as Item] },
      'samples[0].n: "x" is not a number',
    ],
  ])('rejects %s', (_name, overrides, message) => {
    const run = define(overrides);
    expect(run).toThrow(MigrationDefinitionError);
    expect(run).toThrow(message);
  });

  it('validates the example migration, including its fidelity sample', () => {
    expect(usersMigration.id).toBe('users');
    expect(usersMigration.mapKey({ userId: { S: 'u1' } })).toEqual({
      PK: { S: 'USER#u1' },
      SK: { S: 'PROFILE' },
    });
  });
});

describe('Function: validateMigrationSet', () => {
  it('rejects a duplicate id', () => {
    const m = defineMigration(base);
    expect(() => validateMigrationSet([m, m])).toThrow('migration "orders": the id is defined twice');
  });

  it('rejects a table used by two migrations', () => {
    const a = defineMigration(base);
    const b = defineMigration({
      ...base,
      id: 'orders-b',
      legacyTable: { ...base.legacyTable, tableName: 'orders-b' },
    });
    expect(() => validateMigrationSet([a, b])).toThrow(
      'table "orders-v2" is already used by migration "orders"',
    );
  });

  it('rejects an empty set', () => {
    expect(() => validateMigrationSet([])).toThrow('defines no migration');
  });
});
