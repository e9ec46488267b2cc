/**
 * The backfill's PartiQL write mode (BatchExecuteStatement INSERTs) on DynamoDB Local: it never
 * overwrites an item or tombstone that is already in the new table (rule 3), and leaves a foreign
 * item alone and records its legacy item as poison under the default `foreignItems: refuse` (the
 * other policies: writes.test.ts); it copies the fidelity corpus and awkward attribute names exactly (the same bytes as
 * the conditional PutItem mode); an item DynamoDB refuses is recorded as poison with its reason.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { WriteMode } from '../../../adapters/backfill-io';
import { ControlStore } from '../../../adapters/control-store';
import { fromSdkItem } from '../../../adapters/dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import {
  BACKFILL_SEQ,
  type Item,
  type Migration,
  Source,
  canonicalItem,
  itemToDynamoJson,
  keyOf,
  metadataNames,
  padSequence,
  stripMetadata,
} from '../../../core';
import { usersMigration } from '../../../examples/users/migration';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { localBackfillDeps } from '../../../local/backfill';
import { FIDELITY_ATTRIBUTES } from '../../../examples/fidelity-corpus';
import { getItem, putItem, testClient, uniqueName } from '../../helpers/dynamo';

const names = metadataNames();
const MAX_ITEM_BYTES = 400 * 1024;

const userKey = (id: string): Item => ({ PK: { S: `USER#${id}` }, SK: { S: 'PROFILE' } });

describe('Integration: backfill PartiQL write mode on DynamoDB Local', () => {
  const client = testClient();
  afterAll(() => client.destroy());

  it('never overwrites an item, tombstone or foreign item, copies the fidelity corpus exactly and records a refused item as poison', async () => {
    // Prepare: legacy items, and a new table that already holds a CDC item, a tombstone and a foreign item.
    const legacy = uniqueName('bfq-legacy');
    // One control table per mode: each run has its own segment checkpoint.
    const controls = { partiql: uniqueName('bfq-control'), put: uniqueName('bfq-control') };
    const targets = { partiql: uniqueName('bfq-partiql'), put: uniqueName('bfq-put') };
    const migration: Migration = {
      ...usersMigration,
      legacyTable: { ...usersMigration.legacyTable, tableName: legacy },
      newTable: { ...usersMigration.newTable, tableName: targets.partiql },
    };
    await createTable(client, legacy, migration.legacyTable.key);
    for (const c of Object.values(controls)) await createTable(client, c, CONTROL_TABLE_KEY);
    for (const t of Object.values(targets)) await createTable(client, t, migration.newTable.key);

    const fidelity: Item = {
      userId: { S: 'fidelity' },
      fullName: { S: "O'Brien" },
      "it's": { S: 'single quote' },
      'say "hi"': { N: '1.50' },
      "''": { NULL: true },
      'a.b[0]': { S: 'path-like name' },
      ...FIDELITY_ATTRIBUTES,
    };
    const padding = MAX_ITEM_BYTES - 'userId'.length - 'big'.length - 'pad'.length - 40;
    const tooBigOnceMapped: Item = { userId: { S: 'big' }, pad: { S: 'x'.repeat(padding) } };
    for (const item of [
      fidelity,
      tooBigOnceMapped,
      { userId: { S: 'exists' }, fullName: { S: 'from legacy' } },
      { userId: { S: 'gone' }, fullName: { S: 'from legacy' } },
      { userId: { S: 'foreign' }, fullName: { S: 'from legacy' } },
    ])
      await putItem(client, legacy, item);
    const present: Item[] = [
      {
        ...userKey('exists'),
        displayName: { S: 'written by CDC' },
        [names.seq]: { S: padSequence('1234567') },
        [names.src]: { S: Source.CDC },
      },
      {
        ...userKey('gone'),
        [names.seq]: { S: padSequence('1234568') },
        [names.del]: { BOOL: true },
        [names.ttl]: { N: '1999999999' },
      },
      { ...userKey('foreign'), note: { S: 'not written by dualread' } },
    ];
    for (const item of present) await putItem(client, targets.partiql, item);
    const store = new ControlStore(client, controls.partiql, migration.id);
    const run = (mode: 'partiql' | 'put', target: string) =>
      makePageHandler(
        localBackfillDeps({
          client,
          migration: { ...migration, newTable: { ...migration.newTable, tableName: target } },
          controlTableName: controls[mode],
          writeMode: mode,
          settings: { pageBudgetMs: 30_000 },
        }),
      )({ runId: `partiql-${mode}`, segment: 0, totalSegments: 1 });

    // Act
    const result = await run(WriteMode.PARTIQL, targets.partiql);

    // Assess: nothing already there was touched
    expect(result).toMatchObject({ done: true, scanned: 5, copied: 1, skippedExists: 2, poison: 2 });
    for (const before of present) {
      const after = await getItem(client, targets.partiql, keyOf(before, migration.newTable.key));
      expect(after && canonicalItem(after)).toBe(canonicalItem(before));
    }
    // ... the fidelity item is the mapped legacy item plus the backfill's metadata, value for value ...
    const copied = (await getItem(client, targets.partiql, userKey('fidelity'))) as Item;
    const stored = (
      await client.send(new GetItemCommand({ TableName: legacy, Key: { userId: { S: 'fidelity' } } }))
    ).Item;
    const asJson = (i: Item) => JSON.stringify(itemToDynamoJson(canonicalOrder(i)));
    expect(canonicalItem(stripMetadata(copied, names))).toBe(canonicalItem(migration.mapItem(fidelity)));
    expect(asJson(stripMetadata(copied, names))).toBe(asJson(migration.mapItem(fromSdkItem(stored ?? {}))));
    expect(copied[names.seq]).toEqual({ S: BACKFILL_SEQ });
    expect(copied[names.src]).toEqual({ S: Source.BACKFILL });
    expect(copied.big).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(copied["it's"]).toEqual({ S: 'single quote' });
    // ... and the refused item is recorded with DynamoDB's reason, the foreign one with the policy's.
    const poison = await store.list<{ reason: string; key: { userId: { S: string } } }>('BACKFILL_POISON#');
    const reasons = new Map(poison.map((p) => [p.key.userId.S, p.reason]));
    expect([...reasons.keys()].sort()).toEqual(['big', 'foreign']);
    expect(reasons.get('big')).toMatch(/ValidationError: .*size/i);
    expect(reasons.get('foreign')).toMatch(/did not write .*foreignItems is 'refuse'/);

    // Act: the same legacy table through the conditional PutItem mode
    await run(WriteMode.PUT, targets.put);

    // Assess: both modes stored the same DynamoDB JSON for the fidelity item (metadata time aside)
    const viaPut = (await getItem(client, targets.put, userKey('fidelity'))) as Item;
    expect(asJson({ ...copied, [names.ts]: { N: '0' } })).toBe(asJson({ ...viaPut, [names.ts]: { N: '0' } }));
  });
});

function canonicalOrder(item: Item): Item {
  return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
