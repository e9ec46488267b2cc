import { BACKFILL_SEQ, type Item, defineMigration, mapForBackfill } from '../../../core';

const migration = defineMigration({
  id: 'moves',
  legacyTable: { tableName: 'legacy', key: { partitionKey: { name: 'id', type: 'S' } } },
  newTable: {
    tableName: 'target',
    key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'S' } },
  },
  mapKey: (k) => {
    if ((k.id as { S: string }).S === 'bad-key') throw new RangeError('no such user');
    return { PK: { S: `U#${(k.id as { S: string }).S}` }, SK: { S: 'P' } };
  },
  // Careless on purpose: legacy attributes are spread over the computed key.
  mapItem: (i) => {
    if (i.explode) throw new TypeError('refused');
    const { id, ...rest } = i;
    return { PK: { S: `U#${(id as { S: string }).S}` }, SK: { S: 'P' }, ...rest };
  },
  unmapItem: (i) => {
    const { PK, SK: _sk, ...rest } = i;
    return { id: { S: (PK as { S: string }).S.slice(2) }, ...rest };
  },
  samples: [{ id: { S: 's' }, v: { N: '1' } }],
});

describe('Function: mapForBackfill', () => {
  it.each<[string, Item, RegExp]>([
    ['mapKey throws', { id: { S: 'bad-key' } }, /^mapKey threw RangeError: no such user/],
    ['mapItem throws', { id: { S: 'a' }, explode: { BOOL: true } }, /^mapItem threw TypeError: refused/],
    [
      'a legacy attribute moves the partition key',
      { id: { S: 'a' }, PK: { S: 'U#b' } },
      /mapItem put the item under key .*U#b.* but mapKey gives .*U#a.*must not move an item/,
    ],
    ['a legacy attribute moves the sort key', { id: { S: 'a' }, SK: { S: 'Q' } }, /under key .*"Q"/],
    ['mapItem writes the metadata prefix', { id: { S: 'a' }, _dr_x: { S: '1' } }, /reserved metadata.*_dr_x/],
  ])('refuses the item as poison when %s', (_case, legacy, reason) => {
    // Act
    const out = mapForBackfill(migration, legacy, 1_000);

    // Assess
    expect(out).toEqual({ reason: expect.stringMatching(reason) });
  });

  it('maps an item under mapKey with the backfill metadata', () => {
    // Act
    const out = mapForBackfill(
      migration,
      { id: { S: 'a' }, v: { N: '12345678901234567890123456789012345678' } },
      1_234.9,
    );

    // Assess
    expect(out).toEqual({
      key: { PK: { S: 'U#a' }, SK: { S: 'P' } },
      item: {
        PK: { S: 'U#a' },
        SK: { S: 'P' },
        v: { N: '12345678901234567890123456789012345678' },
        _dr_seq: { S: BACKFILL_SEQ },
        _dr_src: { S: 'backfill' },
        _dr_ts: { N: '1234' },
      },
    });
  });
});
