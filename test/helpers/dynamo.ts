/**
 * Test access to the shared DynamoDB Local started by the integration global setup.
 */
import { randomBytes } from 'node:crypto';
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoEndpoint, fromSdkItem, makeDynamoClient, toSdkItem } from '../../adapters/dynamodb';
import type { Item } from '../../core/model';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local';
import { scanTable } from '../../adapters/tables';

/** The endpoint of the shared DynamoDB Local. */
export function testEndpoint(): DynamoEndpoint {
  const endpoint = process.env.DUALREAD_TEST_ENDPOINT;
  if (!endpoint)
    throw new Error('DUALREAD_TEST_ENDPOINT is not set: run integration tests through jest (global setup)');
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

/** A client for the shared DynamoDB Local. */
export function testClient(): DynamoDBClient {
  return makeDynamoClient(testEndpoint());
}

/** A table name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Every item of a table (all Scan pages). */
export const scanAll = scanTable;

/** The number of items of a table (all Scan pages, `Select: COUNT`). */
export async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let n = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    n += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return n;
}

/** Puts `item` into `table` (unconditionally). */
export async function putItem(client: DynamoDBClient, table: string, item: Item): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(item) }));
}

/** The item of `table` under `key` (consistent read). */
export async function getItem(client: DynamoDBClient, table: string, key: Item): Promise<Item | undefined> {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: toSdkItem(key), ConsistentRead: true }),
  );
  return out.Item ? fromSdkItem(out.Item) : undefined;
}

/** Enables the NEW_AND_OLD_IMAGES stream of `table` (after items were written) and returns its ARN. */
export async function enableStream(client: DynamoDBClient, table: string): Promise<string> {
  const updated = await client.send(
    new UpdateTableCommand({
      TableName: table,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return updated.TableDescription?.LatestStreamArn as string;
}
