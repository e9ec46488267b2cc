import { MigrationDefinitionError } from '../../../core/common';
import {
  type AttributeValue,
  type Item,
  type MigrationInput,
  type QuerySurfaceInput,
  defineMigration,
} from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';

const s = (v: AttributeValue | undefined): string => (v && 'S' in v ? v.S : '');
const n = (v: AttributeValue | undefined): string => (v && 'N' in v ? v.N : '');

/** Orders keyed by id; a legacy GSI by customer sorted by `createdAt` (N); new GSI1 overloaded. */
function orders(sortText: (n: string) => string, surface: Partial<QuerySurfaceInput> = {}): MigrationInput {
  return {
    id: 'orders',
    legacyTable: {
      tableName: 'orders',
      key: { partitionKey: { name: 'orderId', type: 'S' } },
      indexes: [
        {
          name: 'by-customer',
          key: { partitionKey: { name: 'customerId', type: 'S' }, sortKey: { name: 'createdAt', type: 'N' } },
        },
      ],
    },
    newTable: {
      tableName: 'app',
      key: { partitionKey: { name: 'PK', type: 'S' } },
      indexes: [
        {
          name: 'GSI1',
          key: { partitionKey: { name: 'GSI1PK', type: 'S' }, sortKey: { name: 'GSI1SK', type: 'S' } },
        },
      ],
    },
    mapKey: (k) => ({ PK: { S: `ORDER#${s(k.orderId)}` } }),
    mapItem: ({ orderId, ...rest }) => ({
      PK: { S: `ORDER#${s(orderId)}` },
      ...rest,
      ...(rest.customerId && rest.createdAt
        ? { GSI1PK: { S: `CUST#${s(rest.customerId)}` }, GSI1SK: { S: `AT#${sortText(n(rest.createdAt))}` } }
        : {}),
    }),
    unmapItem: ({ PK, GSI1PK: _p, GSI1SK: _s, ...rest }) => ({ orderId: { S: s(PK).slice(6) }, ...rest }),
    queries: {
      'by-customer': {
        legacyIndex: 'by-customer',
        newIndex: 'GSI1',
        partition: (v) => ({ S: `CUST#${s(v)}` }),
        sort: (v) => ({ S: `AT#${sortText(n(v))}` }),
        ...surface,
      },
    },
    samples: [
      { orderId: { S: 'o-1' }, customerId: { S: 'c-1' }, createdAt: { N: '9' } },
      { orderId: { S: 'o-2' }, customerId: { S: 'c-1' }, createdAt: { N: '10' } },
      { orderId: { S: 'o-3' }, customerId: { S: 'c-2' }, createdAt: { N: '100' } },
      { orderId: { S: 'o-4' } },
    ],
  };
}
const padded = (v: string): string => v.padStart(12, '0');

describe('Query surfaces in defineMigration', () => {
  it('resolves a declared GSI surface next to the explicit base-table default', () => {
    const m = defineMigration(orders(padded));
    expect(Object.keys(m.queries)).toEqual(['base', 'by-customer']);
    expect(m.queries.base).toMatchObject({ inferred: true, legacy: { eventual: false } });
    expect(m.queries['by-customer']).toMatchObject({
      inferred: false,
      orderPreserved: true,
      legacy: { index: 'by-customer', eventual: true },
      fresh: { index: 'GSI1', eventual: true },
    });
    expect(m.newTable.indexes.map((i) => i.name)).toEqual(['GSI1']);
    expect(m.read.indexPropagationMarginMs).toBe(1000);
  });

  it('refuses a sort transform that breaks order, naming the surface', () => {
    // "AT#10" sorts before "AT#9" by bytes, while 9 < 10 as numbers.
    expect(() => defineMigration(orders((v) => v))).toThrow(
      /queries\["by-customer"\]: the sort transform does not preserve order: legacy \{"N":"9"\} < \{"N":"10"\}/,
    );
  });

  it('refuses a surface whose new query misses mapped items, with the partition', () => {
    const input = orders(padded);
    const mapItem = input.mapItem as (i: Item) => Item;
    const bad = {
      ...input,
      mapItem: (i: Item) => (s(i.orderId) === 'o-2' ? { ...mapItem(i), GSI1PK: { S: 'x' } } : mapItem(i)),
    };
    expect(() => defineMigration(bad)).toThrow(MigrationDefinitionError);
    expect(() => defineMigration(bad)).toThrow(
      'queries["by-customer"]: on the samples, the new query for legacy partition {"S":"c-1"} returns 1 item(s) where legacy returns 2',
    );
  });

  it('refuses a filter that drops the surface’s own items', () => {
    expect(() => defineMigration(orders(padded, { filter: (i) => s(i.PK) !== 'ORDER#o-3' }))).toThrow(
      'queries["by-customer"]: on the samples, the new query for legacy partition {"S":"c-2"} returns 0 item(s)',
    );
  });

  it('refuses an index that is not declared, listing the declared ones', () => {
    expect(() => defineMigration(orders(padded, { newIndex: 'GSI9' }))).toThrow(
      'queries["by-customer"].newIndex "GSI9" is not declared in newTable.indexes (declared: "GSI1")',
    );
  });

  it('refuses orderPreserved where the legacy path has no order, and a non-function partition', () => {
    const input = orders(padded);
    const noSort: MigrationInput = {
      ...input,
      queries: { base: { partition: (v) => ({ S: `ORDER#${s(v)}` }), orderPreserved: true } },
    };
    expect(() => defineMigration(noSort)).toThrow(
      'queries["base"]: orderPreserved is true but the legacy path has no sort key',
    );
    const noFn = { ...input, queries: { x: { partition: 'GSI1PK' } } } as unknown as MigrationInput;
    expect(() => defineMigration(noFn)).toThrow('queries["x"].partition must be a function');
  });

  it('refuses a local index on the new table and an LSI without the table partition key', () => {
    const input = orders(padded);
    const lsi = {
      name: 'LSI1',
      key: {
        partitionKey: { name: 'other', type: 'S' as const },
        sortKey: { name: 'x', type: 'S' as const },
      },
      kind: 'local' as const,
    };
    expect(() => defineMigration({ ...input, newTable: { ...input.newTable, indexes: [lsi] } })).toThrow(
      "newTable.indexes[0]: the new table's indexes must be global (GSIs)",
    );
    expect(() =>
      defineMigration({ ...input, legacyTable: { ...input.legacyTable, indexes: [lsi] } }),
    ).toThrow(
      'legacyTable.indexes[0]: a local index has the table\'s partition key ("orderId") and its own sort key',
    );
  });

  it('the example maps users-by-email onto the overloaded GSI1', () => {
    expect(Object.keys(usersMigration.queries)).toEqual(['base', 'by-email']);
    expect(usersMigration.queries['by-email']).toMatchObject({
      legacy: { index: 'users-by-email' },
      fresh: { index: 'GSI1' },
      orderPreserved: false,
    });
  });
});

describe('legacyTable.unusedIndexes in defineMigration', () => {
  const withUnused = (unusedIndexes: unknown): MigrationInput => {
    const input = orders(padded);
    return {
      ...input,
      legacyTable: { ...input.legacyTable, unusedIndexes } as MigrationInput['legacyTable'],
    };
  };

  it('accepts an unused index with its reason and keeps it in the migration', () => {
    const m = defineMigration(
      withUnused([{ name: 'by-status', reason: 'batch job retired (ops, 2026-11)' }]),
    );
    expect(m.legacyTable.unusedIndexes).toEqual([
      { name: 'by-status', reason: 'batch job retired (ops, 2026-11)' },
    ]);
    expect(m.guardrails.surfaceMinComparisons).toBe(100);
  });

  it.each([
    [
      'without a reason',
      [{ name: 'by-status', reason: ' ' }],
      /legacyTable.unusedIndexes\[0\] \("by-status"\) needs a reason/,
    ],
    [
      'twice',
      [
        { name: 'by-status', reason: 'x' },
        { name: 'by-status', reason: 'y' },
      ],
      /index "by-status" is declared unused twice/,
    ],
    [
      'with a bad name',
      [{ name: 'x', reason: 'y' }],
      /unusedIndexes\[0\].name "x" is not a valid DynamoDB index name/,
    ],
    [
      'that a surface maps',
      [{ name: 'by-customer', reason: 'y' }],
      /index "by-customer" is declared unused but queries\["by-customer"\] maps it; remove one of the two/,
    ],
  ])('refuses an unused index %s, naming it', (_name, unused, expected) => {
    expect(() => defineMigration(withUnused(unused))).toThrow(MigrationDefinitionError);
    expect(() => defineMigration(withUnused(unused))).toThrow(expected);
  });
});
