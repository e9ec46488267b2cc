/**
 * Attribute names that are JavaScript prototype members (`__proto__`, `constructor`, `toString`, ...)
 * at the SDK boundary, on DynamoDB Local (issue 9, item 15). DynamoDB stores them like any name; the
 * AWS SDK's deserializers do not all keep them (the value of a top-level `__proto__` comes back
 * undefined, the streams client drops nested ones, a ConditionalCheckFailed with ALL_OLD fails to
 * parse). Every read through `makeDynamoClient` / `makeStreamsClient` must return them exactly, in
 * prototype-free containers, and the writes must store them.
 */
import {
  BatchGetItemCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { fromSdkItem, toSdkItem } from '../../../adapters/dynamodb';
import { StreamShardReader, makeStreamsClient } from '../../../adapters/stream-shards';
import { ControlStore } from '../../../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import {
  type Migration,
  defineMigration,
  BACKFILL_SEQ,
  Source,
  metadataNames,
  stripMetadata,
  type Item,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../../../core/model';
import { makePageHandler } from '../../../lambdas/backfill/page';
import { localBackfillDeps } from '../../../local/backfill';
import { startLocalCdc } from '../../../local/local-cdc';
import { repairEmptyMaps } from '../../../local/record-conversion';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';

/** An item whose attribute names are prototype members, at the top level and nested in maps and lists. */
export const PROTO_ITEM_JSON =
  '{"id":{"S":"proto-1"},"__proto__":{"S":"top"},"constructor":{"N":"12345678901234567890123456789012345678"},' +
  '"toString":{"B":"AAEC/w=="},"hasOwnProperty":{"M":{"__proto__":{"S":"inner"},"valueOf":{"NULL":true}}},' +
  '"valueOf":{"L":[{"M":{"__proto__":{"SS":["a","b"]}}},{"BOOL":false}]},"__defineGetter__":{"M":{}}}';

const text = (item: Item | undefined): string => JSON.stringify(itemToDynamoJson(item ?? {}));
/** The same attributes in canonical order (DynamoDB returns them in its own order). */
const sorted = (json: string): string => {
  const o = JSON.parse(json) as Record<string, unknown>;
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return JSON.stringify(out);
};

describe('SDK boundary: attribute names that are prototype members', () => {
  let client: DynamoDBClient;
  let streams: DynamoDBStreamsClient;
  let table: string;
  let streamArn: string;
  const item = itemFromDynamoJson(JSON.parse(PROTO_ITEM_JSON));
  const expected = sorted(PROTO_ITEM_JSON);

  beforeAll(async () => {
    client = testClient();
    streams = makeStreamsClient(testEndpoint());
    table = uniqueName('proto');
    const created = await createTable(
      client,
      table,
      { partitionKey: { name: 'id', type: 'S' } },
      { stream: true },
    );
    streamArn = created.streamArn as string;
    await client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(item) }));
  });
  afterAll(() => {
    client.destroy();
    streams.destroy();
  });

  const checks: Array<[string, () => Promise<Item | undefined>]> = [
    [
      'GetItem',
      async () =>
        fromSdkItem(
          (
            await client.send(
              new GetItemCommand({ TableName: table, Key: { id: { S: 'proto-1' } }, ConsistentRead: true }),
            )
          ).Item ?? {},
        ),
    ],
    [
      'Scan',
      async () => (await client.send(new ScanCommand({ TableName: table }))).Items?.map(fromSdkItem)[0],
    ],
    [
      'Query',
      async () =>
        (
          await client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'id = :id',
              ExpressionAttributeValues: { ':id': { S: 'proto-1' } },
            }),
          )
        ).Items?.map(fromSdkItem)[0],
    ],
    [
      'BatchGetItem',
      async () =>
        (
          await client.send(
            new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [{ id: { S: 'proto-1' } }] } } }),
          )
        ).Responses?.[table]?.map(fromSdkItem)[0],
    ],
    [
      'ExecuteStatement (PartiQL)',
      async () =>
        (
          await client.send(
            new ExecuteStatementCommand({
              Statement: `SELECT * FROM "${table}" WHERE id = ?`,
              Parameters: [{ S: 'proto-1' }],
            }),
          )
        ).Items?.map(fromSdkItem)[0],
    ],
    [
      'a failed conditional PutItem (ALL_OLD)',
      async () => {
        try {
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: { id: { S: 'proto-1' } },
              ConditionExpression: 'attribute_not_exists(id)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
        } catch (err) {
          const e = err as { name: string; Item?: Record<string, never> };
          if (e.name !== 'ConditionalCheckFailedException') throw err;
          return e.Item ? fromSdkItem(e.Item) : undefined;
        }
        throw new Error('the condition should have failed');
      },
    ],
    [
      'GetRecords (streams)',
      async () => {
        const reader = new StreamShardReader(streams, streamArn);
        const [shard] = await reader.listShards();
        const page = await reader.read((await reader.iterator(shard?.shardId as string)) as string);
        // DynamoDB Local writes the empty map as `{}`: the local event source's repair (docs/architecture.md).
        const record = page.records[0];
        return record ? (repairEmptyMaps(record).dynamodb?.NewImage as Item | undefined) : undefined;
      },
    ],
  ];

  it.each(checks)(
    '%s returns every attribute exactly, in prototype-free containers',
    async (_name, readIt) => {
      // Act
      const got = await readIt();

      // Assess
      expect(sorted(text(got))).toBe(expected);
      expect(Object.getPrototypeOf(got)).toBeNull();
      expect(Object.getPrototypeOf((got?.hasOwnProperty as unknown as { M: object }).M)).toBeNull();
    },
  );
});

/**
 * A migration keyed by `id` in both tables. Its mapping copies the item with object spread (exact),
 * except for items marked `variant = assign`, which it copies with `Object.assign({}, item)`: that
 * assigns "__proto__" into a plain object, replacing the prototype and losing the attribute — the
 * pipelines must refuse such a result with its reason, never store the item without it.
 */
function protoMigration(tag: string): Migration {
  const base = defineMigration({
    id: 'protos',
    legacyTable: { tableName: 'protos-legacy', key: { partitionKey: { name: 'id', type: 'S' } } },
    newTable: { tableName: 'protos-new', key: { partitionKey: { name: 'id', type: 'S' } } },
    mapItem: (i) =>
      (i.variant as { S?: string } | undefined)?.S === 'assign' ? (Object.assign({}, i) as Item) : { ...i },
  });
  return {
    ...base,
    legacyTable: { ...base.legacyTable, tableName: uniqueName(`${tag}-legacy`) },
    newTable: { ...base.newTable, tableName: uniqueName(`${tag}-new`) },
  };
}

const names = metadataNames();
const assigned = (): Item => ({
  ...itemFromDynamoJson(JSON.parse(PROTO_ITEM_JSON)),
  id: { S: 'proto-2' },
  variant: { S: 'assign' },
});

describe('Pipelines: attribute names that are prototype members', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    client = testClient();
  });
  afterAll(() => client.destroy());

  const readNew = async (m: Migration, id: string): Promise<Item | undefined> => {
    const out = await client.send(
      new GetItemCommand({ TableName: m.newTable.tableName, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    return out.Item ? fromSdkItem(out.Item) : undefined;
  };

  it('CDC (local event source + real sync handler) copies the item exactly, and dead-letters a mapping result that lost "__proto__" with the reason', async () => {
    // Prepare
    const m = protoMigration('proto-cdc');
    const control = uniqueName('proto-cdc-control');
    const { streamArn } = await createTable(client, m.legacyTable.tableName, m.legacyTable.key, {
      stream: true,
    });
    await createTable(client, m.newTable.tableName, m.newTable.key);
    await createTable(client, control, CONTROL_TABLE_KEY);
    const cdc = await startLocalCdc({
      endpoint: testEndpoint(),
      migration: m,
      streamArn: streamArn as string,
      controlTableName: control,
      poller: { batchSize: 10, pollIntervalMs: 20, maxRetryAttempts: 0 },
    });

    // Act
    try {
      for (const i of [itemFromDynamoJson(JSON.parse(PROTO_ITEM_JSON)), assigned()])
        await client.send(new PutItemCommand({ TableName: m.legacyTable.tableName, Item: toSdkItem(i) }));
      await cdc.poller.drain();
    } finally {
      await cdc.close();
    }

    // Assess: the exact item (plus CDC metadata) ...
    const copied = await readNew(m, 'proto-1');
    expect(sorted(text(stripMetadata(copied ?? {}, names)))).toBe(sorted(PROTO_ITEM_JSON));
    expect(copied?.[names.src]).toEqual({ S: Source.CDC });
    // ... and the lossy mapping's result refused, dead-lettered alone with a reason that names it.
    expect(await readNew(m, 'proto-2')).toBeUndefined();
    expect(cdc.deadLetters.entries).toHaveLength(1);
    expect(cdc.deadLetters.entries[0]?.reason).toMatch(
      /UnappliableChangeError: .*mapItem failed: LostAttributeError: mapItem result: its prototype is not Object\.prototype: an attribute named "__proto__"/,
    );
  });

  it('a backfill page copies the item exactly, and records a poison item with the reason when a value was lost (a client without exact values, or a lossy mapping)', async () => {
    // Prepare
    const m = protoMigration('proto-bf');
    const controls = { exact: uniqueName('proto-bf-control'), lossy: uniqueName('proto-bf-control') };
    const lossyNew = uniqueName('proto-bf-new-lossy');
    await createTable(client, m.legacyTable.tableName, m.legacyTable.key);
    for (const t of [m.newTable.tableName, lossyNew]) await createTable(client, t, m.newTable.key);
    for (const c of Object.values(controls)) await createTable(client, c, CONTROL_TABLE_KEY);
    for (const i of [itemFromDynamoJson(JSON.parse(PROTO_ITEM_JSON)), assigned()])
      await client.send(new PutItemCommand({ TableName: m.legacyTable.tableName, Item: toSdkItem(i) }));
    // The SDK as it comes, without dualread's exact-values middleware: it loses top-level "__proto__".
    const { endpoint, region, credentials } = testEndpoint();
    const plainClient = new DynamoDBClient({ endpoint, region, credentials: { ...credentials! } });
    const page = (c: DynamoDBClient, target: string, controlTableName: string) =>
      makePageHandler(
        localBackfillDeps({
          client: c,
          migration: { ...m, newTable: { ...m.newTable, tableName: target } },
          controlTableName,
          settings: { pageBudgetMs: 30_000 },
        }),
      )({ runId: 'proto', segment: 0, totalSegments: 1 });

    // Act
    const exact = await page(client, m.newTable.tableName, controls.exact);
    const lossy = await page(plainClient, lossyNew, controls.lossy);
    plainClient.destroy();

    // Assess: through makeDynamoClient the item is copied exactly; the lossy mapping's result is poison.
    expect(exact).toMatchObject({ scanned: 2, copied: 1, poison: 1 });
    const copied = await readNew(m, 'proto-1');
    expect(sorted(text(stripMetadata(copied ?? {}, names)))).toBe(sorted(PROTO_ITEM_JSON));
    expect(copied?.[names.seq]).toEqual({ S: BACKFILL_SEQ });
    const poison = await new ControlStore(client, controls.exact, m.id).list<{
      reason: string;
      key: unknown;
    }>('BACKFILL_POISON#');
    expect(poison.map((p) => [p.key, p.reason])).toEqual([
      [{ id: { S: 'proto-2' } }, expect.stringMatching(/LostAttributeError: mapItem result: its prototype/)],
    ]);
    // Through a client that lost the value, nothing is copied without it: both items are poison.
    expect(lossy).toMatchObject({ scanned: 2, copied: 0, poison: 2 });
    const lost = await new ControlStore(client, controls.lossy, m.id).list<{ reason: string }>(
      'BACKFILL_POISON#',
    );
    expect(lost.map((p) => p.reason)).toEqual([
      expect.stringMatching(/LostAttributeError: legacy item\.__proto__: has no value/),
      expect.stringMatching(/LostAttributeError: legacy item\.__proto__: has no value/),
    ]);
  });
});
