/**
 * Test access to the shared DynamoDB Local started by the integration global setup.
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoEndpoint, fromSdkItem, makeDynamoClient } from '../../adapters/dynamodb';
import type { Item } from '../../core/model';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/dynamodb-local';

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
export async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []).map(fromSdkItem));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return out;
}
