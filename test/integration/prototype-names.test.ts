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
  type DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { fromSdkItem, toSdkItem } from '../../adapters/dynamodb';
import { StreamShardReader, makeStreamsClient } from '../../adapters/stream-shards';
import { createTable } from '../../adapters/tables';
import { type Item, itemFromDynamoJson, itemToDynamoJson } from '../../core/values';
import { repairEmptyMaps } from '../../local/stream-poller';
import { testClient, testEndpoint, uniqueName } from '../helpers/dynamo';

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
