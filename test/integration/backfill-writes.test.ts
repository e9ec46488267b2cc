/**
 * What every backfill write mode (partiql, put, transact) does with the awkward cases, on DynamoDB
 * Local through the real page worker: a mapping that moves an item to another key (issue 9 item 16).
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { WriteMode } from '../../adapters/backfill-io';
import { ControlStore } from '../../adapters/control-store';
import { fromSdkItem, toSdkItem } from '../../adapters/dynamodb';
import { CONTROL_TABLE_KEY, createTable } from '../../adapters/tables';
import {
  type AttributeValue,
  type Item,
  type Migration,
  canonicalItem,
  defineMigration,
  metadataNames,
  padSequence,
  stripMetadata,
} from '../../core';
import { makePageHandler } from '../../lambdas/backfill/handler';
import { localBackfillDeps } from '../../local/backfill';
import { testClient, uniqueName } from '../helpers/dynamo';

const names = metadataNames();
const MODES = [WriteMode.PARTIQL, WriteMode.PUT, WriteMode.TRANSACT] as const;

/**
 * A key-moving mapping, as careless as the example's: legacy `id` becomes `PK = ITEM#<id>`, and
 * every other legacy attribute is copied over AFTER the key, so a legacy attribute named `PK`
 * replaces the key the mapping computed.
 */
function keyMovingMigration(legacy: string, target: string): Migration {
  const pk = (item: Item) => ({ S: `ITEM#${(item.id as { S: string }).S}` });
  return defineMigration({
    id: 'moves',
    legacyTable: { tableName: legacy, key: { partitionKey: { name: 'id', type: 'S' } } },
    newTable: { tableName: target, key: { partitionKey: { name: 'PK', type: 'S' } } },
    mapKey: (k) => ({ PK: pk(k) }),
    mapItem: (item) => {
      const { id: _id, ...rest } = item;
      return { PK: pk(item), ...rest } as Record<string, AttributeValue>;
    },
    unmapItem: (item) => {
      const { PK, ...rest } = item;
      return { id: { S: (PK as { S: string }).S.slice('ITEM#'.length) }, ...rest };
    },
    samples: [{ id: { S: 'sample' }, n: { N: '1' } }],
  });
}

async function put(client: DynamoDBClient, table: string, item: Item): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(item) }));
}

async function get(client: DynamoDBClient, table: string, key: Item): Promise<Item | undefined> {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: toSdkItem(key), ConsistentRead: true }),
  );
  return out.Item ? fromSdkItem(out.Item) : undefined;
}

async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? []).map(fromSdkItem);
}

describe('Integration: backfill write modes on DynamoDB Local', () => {
  const client = testClient();
  afterAll(() => client.destroy());

  it.each(MODES)(
    'refuses an item whose mapping moves it to another key as poison with the reason, in %s mode',
    async (mode) => {
      // Prepare: `owner` is in new already (CDC wrote it); `thief` carries a legacy PK naming the
      // owner's key; `stray` carries a PK naming a key no legacy item has; `plain` is ordinary.
      const legacy = uniqueName('bfk-legacy');
      const target = uniqueName('bfk-new');
      const control = uniqueName('bfk-control');
      const migration = keyMovingMigration(legacy, target);
      await createTable(client, legacy, migration.legacyTable.key);
      await createTable(client, target, migration.newTable.key);
      await createTable(client, control, CONTROL_TABLE_KEY);
      const owner: Item = { id: { S: 'owner' }, v: { S: 'the owner' } };
      const thief: Item = { id: { S: 'thief' }, PK: { S: 'ITEM#owner' }, v: { S: 'not the owner' } };
      const stray: Item = { id: { S: 'stray' }, PK: { S: 'NOWHERE' }, v: { S: 'an orphan' } };
      const plain: Item = { id: { S: 'plain' }, v: { S: 'plain' } };
      for (const item of [owner, thief, stray, plain]) await put(client, legacy, item);
      const ownerInNew: Item = {
        ...migration.mapItem(owner),
        [names.seq]: { S: padSequence('777') },
        [names.src]: { S: 'cdc' },
      };
      await put(client, target, ownerInNew);
      const page = makePageHandler(
        localBackfillDeps({ client, migration, controlTableName: control, writeMode: mode }),
      );

      // Act
      const result = await page({ runId: `moves-${mode}`, segment: 0, totalSegments: 1 });

      // Assess: neither moved item is written or counted as "already there"; both are poison
      expect(result).toMatchObject({ done: true, scanned: 4, copied: 1, skippedExists: 1, poison: 2 });
      expect(await get(client, target, { PK: { S: 'NOWHERE' } })).toBeUndefined();
      expect(canonicalItem((await get(client, target, { PK: { S: 'ITEM#owner' } })) ?? {})).toBe(
        canonicalItem(ownerInNew),
      );
      const stored = await scanAll(client, target);
      expect(stored.map((i) => (i.PK as { S: string }).S).sort()).toEqual(['ITEM#owner', 'ITEM#plain']);
      expect(
        canonicalItem(stripMetadata(stored.find((i) => i.v?.['S' as never] === 'plain') ?? {}, names)),
      ).toBe(canonicalItem(migration.mapItem(plain)));
      const poison = await new ControlStore(client, control, migration.id).list<{
        key: unknown;
        reason: string;
      }>('BACKFILL_POISON#');
      const byKey = new Map(poison.map((p) => [JSON.stringify(p.key), p.reason]));
      expect(byKey.get(JSON.stringify({ id: { S: 'thief' } }))).toMatch(
        /mapItem put the item under key .*ITEM#owner.* but mapKey gives .*ITEM#thief/,
      );
      expect(byKey.get(JSON.stringify({ id: { S: 'stray' } }))).toMatch(/NOWHERE.*ITEM#stray/);
    },
  );
});
